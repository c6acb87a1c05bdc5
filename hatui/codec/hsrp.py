"""HSRP (RFC 2281 v1; Cisco's v2 TLVs) and GLBP over UDP: parse, typed rejections, encode.

v1: UDP 1985 to 224.0.0.2, a fixed 20-byte message (an MD5 TLV may follow). v2: UDP 1985
to 224.0.0.102, or UDP 2029 to ff02::66 over IPv6, a sequence of TLVs of which the Group
State TLV (type 1, 40 bytes) carries what v1's fixed fields did, timers in milliseconds,
and numbers the states 0-6 (Disabled .. Active) where v1 sends 0, 1, 2, 4, 8, 16.
Advertise messages (v1 op code 3; v2 an Interface State TLV alone) name no group and are
skipped.
GLBP (UDP 3222) is only recognised: its group number and sender are enough to label it.
"""

from __future__ import annotations

import struct

from hatui.codec.checksum import finish, is_valid, pseudo_sum_v4, pseudo_sum_v6, word_sum
from hatui.codec.frames import (
    Family,
    GlbpHello,
    HsrpHello,
    HsrpOp,
    HsrpState,
    Link,
    Protocol,
    Rejected,
    RejectReason,
)
from hatui.codec.ip import ipv4_bytes, ipv4_text, ipv6_bytes, ipv6_text

HSRP_PORT = 1985
HSRP_V6_PORT = 2029
GLBP_PORT = 3222
PROTO_UDP = 17
UDP_PORTS = frozenset({HSRP_PORT, HSRP_V6_PORT, GLBP_PORT})
HSRP_V1_GROUP = "224.0.0.2"
HSRP_V2_GROUP = "224.0.0.102"
HSRP_V6_GROUP = "ff02::66"

_V1 = struct.Struct(
    "!BBBBBBBB8s4s"
)  # version, op, state, hello, hold, prio, group, rsvd, auth, vip
_GROUP_TLV = struct.Struct(
    "!BBBBH6sIII16s"
)  # version, op, state, ipver, group, id, prio, hello, hold, vip
_UDP = struct.Struct("!HHHH")
_TLV_GROUP, _TLV_INTERFACE, _TLV_TEXT, _TLV_MD5 = 1, 2, 3, 4
_ADVERTISE = 3
_OPS = {op.value: op for op in HsrpOp}
# The state byte by version: RFC 2281 for v1; Cisco's Group State TLV for v2, as
# Wireshark's packet-hsrp.c numbers it (HSRP2_STATE_DISABLED 0 .. HSRP2_STATE_ACTIVE 6).
_V1_STATES: dict[int, HsrpState] = {
    0: HsrpState.INITIAL,
    1: HsrpState.LEARN,
    2: HsrpState.LISTEN,
    4: HsrpState.SPEAK,
    8: HsrpState.STANDBY,
    16: HsrpState.ACTIVE,
}
_V2_STATES: dict[int, HsrpState] = {
    0: HsrpState.DISABLED,
    1: HsrpState.INITIAL,
    2: HsrpState.LEARN,
    3: HsrpState.LISTEN,
    4: HsrpState.SPEAK,
    5: HsrpState.STANDBY,
    6: HsrpState.ACTIVE,
}
_V1_WIRE = {state: code for code, state in _V1_STATES.items()}
_V2_WIRE = {state: code for code, state in _V2_STATES.items()}


def _reject(
    reason: RejectReason, detail: str, link: Link, src: str, group: int | None = None
) -> Rejected:
    return Rejected(
        reason=reason, detail=detail, link=link, src_ip=src, vrid=group, protocol=Protocol.HSRP
    )


def parse_udp(
    seg: bytes, *, v6: bool, addrs: bytes, link: Link
) -> HsrpHello | GlbpHello | Rejected | None:
    """One UDP segment (the IP payload): HSRP or GLBP by port, else None (not hatui's)."""
    text = ipv6_text if v6 else ipv4_text
    if len(seg) < 8:
        return None
    sport, dport, length, checksum = _UDP.unpack_from(seg)
    if GLBP_PORT in (sport, dport):
        protocol = Protocol.GLBP
    elif dport in (HSRP_PORT, HSRP_V6_PORT) or sport in (HSRP_PORT, HSRP_V6_PORT):
        protocol = Protocol.HSRP
    else:
        return None
    src = text(addrs[:16] if v6 else addrs[:4])
    if length < 8 or length > len(seg):
        detail = f"UDP length {length}, {len(seg)} bytes in the packet"
        return Rejected(
            reason=RejectReason.LENGTH, detail=detail, link=link, src_ip=src, protocol=protocol
        )
    seg = seg[:length]
    # IPv4 UDP checksums are optional (0: none sent); IPv6 makes them mandatory (RFC 8200 8.1).
    if checksum or v6:
        pseudo = (
            pseudo_sum_v6(addrs, PROTO_UDP, length)
            if v6
            else pseudo_sum_v4(addrs, PROTO_UDP, length)
        )
        if not is_valid(word_sum(seg) + pseudo):
            return Rejected(
                reason=RejectReason.CHECKSUM,
                detail="UDP checksum",
                link=link,
                src_ip=src,
                protocol=protocol,
            )
    msg = seg[8:]
    if protocol is Protocol.GLBP:
        return _glbp(msg, v6=v6, src=src, link=link)
    expected = HSRP_V6_PORT if v6 else HSRP_PORT
    if sport != expected or dport != expected:
        family = "IPv6" if v6 else "IPv4"
        detail = f"HSRP over {family} on UDP {sport}->{dport}, not {expected}->{expected}"
        return _reject(RejectReason.PORT, detail, link, src)
    dst = text(addrs[16:] if v6 else addrs[4:])
    return parse_hsrp(msg, v6=v6, src=src, dst=dst, link=link)


def parse_hsrp(
    msg: bytes, *, v6: bool, src: str, dst: str, link: Link
) -> HsrpHello | Rejected | None:
    """An HSRP message (the UDP payload): v1 starts with version 0, v2 with TLV type 1."""
    if len(msg) < 2:
        return _reject(RejectReason.LENGTH, f"HSRP message of {len(msg)} bytes", link, src)
    if msg[0] == 0 and not v6:
        return _v1(msg, src=src, dst=dst, link=link)
    if msg[0] == 0 and v6:
        return _reject(RejectReason.VERSION, "HSRPv1 over IPv6", link, src)
    return _v2(msg, v6=v6, src=src, dst=dst, link=link)


def _v1(msg: bytes, *, src: str, dst: str, link: Link) -> HsrpHello | Rejected | None:
    if msg[1] == _ADVERTISE:
        return None  # interface state, no group
    if len(msg) < _V1.size:
        return _reject(RejectReason.LENGTH, f"HSRPv1 message of {len(msg)} bytes", link, src)
    _v, op, state, hello, hold, prio, group, _r, auth_data, vip = _V1.unpack_from(msg)
    auth = "text"
    rest = msg[_V1.size :]
    if rest:
        # A v1 MD5 TLV follows the fixed message; anything else there is garbage.
        if len(rest) < 2 or rest[0] != _TLV_MD5 or 2 + rest[1] > len(rest) or rest[1] < 24:
            return _reject(RejectReason.TLV, "HSRPv1 trailer is not an MD5 TLV", link, src, group)
        auth, auth_data = "md5", b""
    return _hello(
        version=1,
        op=op,
        state=state,
        group=group,
        priority=prio,
        hello_ms=hello * 1000,
        hold_ms=hold * 1000,
        vip=ipv4_text(vip) if vip != bytes(4) else "",
        auth=auth,
        auth_data=auth_data.rstrip(b"\x00") if auth == "text" else b"",
        identifier="",
        v6=False,
        src=src,
        dst=dst,
        link=link,
    )


def _v2(msg: bytes, *, v6: bool, src: str, dst: str, link: Link) -> HsrpHello | Rejected | None:
    group_tlv: bytes | None = None
    auth, auth_data = "none", b""
    interface_only = False
    i = 0
    while i < len(msg):
        if i + 2 > len(msg):
            return _reject(RejectReason.TLV, f"HSRPv2 TLV header cut at byte {i}", link, src)
        kind, size = msg[i], msg[i + 1]
        value = msg[i + 2 : i + 2 + size]
        if len(value) < size:
            detail = f"HSRPv2 TLV type {kind} of {size} bytes overruns the message"
            return _reject(RejectReason.TLV, detail, link, src)
        if kind == _TLV_GROUP:
            if size < _GROUP_TLV.size or group_tlv is not None:
                detail = f"HSRPv2 group state TLV of {size} bytes"
                return _reject(RejectReason.TLV, detail, link, src)
            group_tlv = value
        elif kind == _TLV_TEXT:
            auth, auth_data = "text", value[:8].rstrip(b"\x00")
        elif kind == _TLV_MD5:
            auth, auth_data = "md5", b""
        elif kind == _TLV_INTERFACE:
            interface_only = True
        i += 2 + size
    if group_tlv is None:
        if interface_only:
            return None  # an advertise message: interface state, no group
        return _reject(RejectReason.TLV, "HSRPv2 message without a group state TLV", link, src)
    version, op, state, ipver, group, ident, prio, hello, hold, vip = _GROUP_TLV.unpack_from(
        group_tlv
    )
    if version != 2:
        return _reject(
            RejectReason.VERSION, f"HSRP group state version {version}", link, src, group
        )
    if ipver != (6 if v6 else 4):
        detail = f"HSRPv2 IP version {ipver} over IPv{6 if v6 else 4}"
        return _reject(RejectReason.VERSION, detail, link, src, group)
    if v6:
        vip_text = ipv6_text(vip) if vip != bytes(16) else ""
    else:
        vip_text = ipv4_text(vip[:4]) if vip[:4] != bytes(4) else ""
    mac = ":".join(f"{b:02x}" for b in ident)
    return _hello(
        version=2,
        op=op,
        state=state,
        group=group,
        priority=prio,
        hello_ms=hello,
        hold_ms=hold,
        vip=vip_text,
        auth=auth,
        auth_data=auth_data,
        identifier=mac,
        v6=v6,
        src=src,
        dst=dst,
        link=link,
    )


def _hello(
    *,
    version: int,
    op: int,
    state: int,
    group: int,
    priority: int,
    hello_ms: int,
    hold_ms: int,
    vip: str,
    auth: str,
    auth_data: bytes,
    identifier: str,
    v6: bool,
    src: str,
    dst: str,
    link: Link,
) -> HsrpHello | Rejected | None:
    found_op = _OPS.get(op)
    if found_op is None:
        # v1's Advertise (3) has its own layout and is skipped before this; v2 has no op
        # code 3 in a Group State TLV (its interface state has a TLV of its own).
        return _reject(RejectReason.TYPE, f"HSRPv{version} op code {op}", link, src, group)
    found_state = (_V1_STATES if version == 1 else _V2_STATES).get(state)
    if found_state is None:
        detail = f"HSRPv{version} state {state}"
        return _reject(RejectReason.MALFORMED, detail, link, src, group)
    if hello_ms <= 0 or hold_ms <= 0 or priority > 255:
        detail = f"HSRP hello {hello_ms} ms, hold {hold_ms} ms, priority {priority}"
        return _reject(RejectReason.MALFORMED, detail, link, src, group)
    return HsrpHello(
        link=link,
        family=Family.IPV6 if v6 else Family.IPV4,
        src_ip=src,
        dst_ip=dst,
        version=version,
        op=found_op,
        state=found_state,
        group=group,
        priority=priority,
        hello_ms=hello_ms,
        hold_ms=hold_ms,
        vip=vip,
        auth=auth,
        auth_data=auth_data,
        identifier=identifier,
    )


def _glbp(msg: bytes, *, v6: bool, src: str, link: Link) -> GlbpHello | Rejected:
    # version (1), unknown (1), group (2), unknown (2), owner id (6), then TLVs
    if len(msg) < 12:
        return Rejected(
            reason=RejectReason.LENGTH,
            detail=f"GLBP message of {len(msg)} bytes",
            link=link,
            src_ip=src,
            protocol=Protocol.GLBP,
        )
    if msg[0] != 1:
        return Rejected(
            reason=RejectReason.VERSION,
            detail=f"GLBP version {msg[0]}",
            link=link,
            src_ip=src,
            protocol=Protocol.GLBP,
        )
    group = msg[2] << 8 | msg[3]
    return GlbpHello(link=link, family=Family.IPV6 if v6 else Family.IPV4, src_ip=src, group=group)


def encode_hsrp(
    *,
    version: int,
    group: int,
    state: HsrpState,
    priority: int = 100,
    op: HsrpOp | int = HsrpOp.HELLO,
    hello_ms: int = 3000,
    hold_ms: int = 10000,
    vip: str = "",
    family: Family = Family.IPV4,
    identifier: bytes = bytes(6),
    text_key: bytes | None = b"cisco",
    md5: bool = False,
) -> bytes:
    """An HSRP message (UDP payload). v1 timers are whole seconds; v2 carries milliseconds.

    `text_key` None leaves the v2 text TLV out; `md5` appends an MD5 TLV (zero digest: an
    observer cannot check it anyway).
    """
    v6 = family is Family.IPV6
    md5_tlv = bytes((_TLV_MD5, 28, 1, 0, 0, 0)) + bytes(4) + bytes(4) + bytes(16)
    if version == 1:
        if v6:
            raise ValueError("HSRPv1 is IPv4 only")
        raw_vip = ipv4_bytes(vip) if vip else bytes(4)
        key = (text_key or b"")[:8].ljust(8, b"\x00")
        if state not in _V1_WIRE:
            raise ValueError(f"HSRPv1 has no {state.value} state")
        msg = _V1.pack(
            0,
            int(op),
            _V1_WIRE[state],
            hello_ms // 1000,
            hold_ms // 1000,
            priority,
            group,
            0,
            key,
            raw_vip,
        )
        return msg + (md5_tlv if md5 else b"")
    if v6:
        raw_vip = ipv6_bytes(vip) if vip else bytes(16)
    else:
        raw_vip = (ipv4_bytes(vip) if vip else bytes(4)).ljust(16, b"\x00")
    value = _GROUP_TLV.pack(
        2,
        int(op),
        _V2_WIRE[state],
        6 if v6 else 4,
        group,
        identifier,
        priority,
        hello_ms,
        hold_ms,
        raw_vip,
    )
    msg = bytes((_TLV_GROUP, len(value))) + value
    if md5:
        msg += md5_tlv
    elif text_key is not None:
        msg += bytes((_TLV_TEXT, 8)) + text_key[:8].ljust(8, b"\x00")
    return msg


def encode_udp(payload: bytes, *, sport: int, dport: int, addrs: bytes, v6: bool) -> bytes:
    """A UDP header and payload with its checksum over the pseudo-header."""
    length = 8 + len(payload)
    head = _UDP.pack(sport, dport, length, 0)
    pseudo = (
        pseudo_sum_v6(addrs, PROTO_UDP, length) if v6 else pseudo_sum_v4(addrs, PROTO_UDP, length)
    )
    checksum = finish(word_sum(head + payload) + pseudo) or 0xFFFF
    return _UDP.pack(sport, dport, length, checksum) + payload


def encode_glbp(*, group: int, owner: bytes = bytes(6)) -> bytes:
    """A minimal GLBP hello header (version 1) with no TLVs, for tests and benches."""
    return bytes((1, 0)) + group.to_bytes(2, "big") + bytes(2) + owner
