"""HSRP v1/v2 (IPv4 and IPv6) and GLBP: tshark is the oracle, with its own labels.

Frames come from an encoder written here from Cisco's layout as Wireshark's
packet-hsrp.c draws it (v1: RFC 2281; v2: Group State TLV type 1 length 40, Text
Authentication TLV type 3 length 8, MD5 Authentication TLV type 4 length 28), never from
hatui's own encoder, so a constant both share cannot hide. Every test asserts tshark's
reading of a frame first, then hatui's. Rejections: one crafted frame per reason, each
counted and never raised.
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import pytest
from scapy.layers.hsrp import HSRP, HSRPmd5, HSRPv2, HSRPv2TextAuth
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from hatui.codec.build import build_hsrp_frame, build_udp_frame
from hatui.codec.decode import clear_cache, decode
from hatui.codec.frames import (
    Family,
    GlbpHello,
    HsrpHello,
    HsrpOp,
    HsrpState,
    Protocol,
    Rejected,
    RejectReason,
)
from hatui.codec.hsrp import encode_glbp
from tests.corpus.tshark import HAVE_TSHARK, Field, packets, write_pcap

MAC = "02:00:00:00:00:11"
SRC4, SRC6 = "192.0.2.11", "fe80::11"
DIGEST = bytes(range(0xA0, 0xB0))
needs_tshark = pytest.mark.skipif(not HAVE_TSHARK, reason="needs tshark")


@pytest.fixture(autouse=True)
def _cold() -> None:
    clear_cache()


def hello(data: bytes) -> HsrpHello:
    got = decode(data)
    assert isinstance(got, HsrpHello), got
    return got


def rejected(data: bytes) -> Rejected:
    got = decode(data)
    assert isinstance(got, Rejected), got
    assert not got.detail.startswith("internal error"), got.detail
    return got


# -- the independent encoder: Cisco's layout, byte by byte --------------------------------


def v1_msg(
    *,
    state: int,
    op: int = 0,
    hello_s: int = 3,
    hold_s: int = 10,
    prio: int = 100,
    group: int = 1,
    key: bytes = b"cisco",
    vip: str = "192.0.2.1",
) -> bytes:
    """RFC 2281: version 0, op code, state, hellotime, holdtime, priority, group,
    reserved, 8 bytes of authentication data, the virtual IPv4 address."""
    return struct.pack(
        "!8B8s4s", 0, op, state, hello_s, hold_s, prio, group, 0, key, socket.inet_aton(vip)
    )


def md5_tlv(sender: str = "0.0.0.0") -> bytes:
    """Type 4, length 28: algorithm (1 = MD5), padding, flags (2 bytes), the sender's IPv4
    address, key ID (4 bytes), the 16-byte digest."""
    return struct.pack("!BBBBH4sI16s", 4, 28, 1, 0, 0, socket.inet_aton(sender), 1, DIGEST)


def v2_msg(
    *,
    state: int,
    op: int = 0,
    v6: bool = False,
    group: int = 1,
    ident: str = MAC,
    prio: int = 100,
    hello_ms: int = 3000,
    hold_ms: int = 10000,
    vip: str = "",
    auth: str = "text",
) -> bytes:
    """The Group State TLV (type 1, length 40): version 2, op code, state, IP version,
    group (2 bytes), identifier (6-byte MAC), priority, hello and hold time in ms (4 bytes
    each), the virtual IP in 16 bytes; then a text (type 3) or MD5 (type 4) TLV."""
    if v6:
        raw_vip = socket.inet_pton(socket.AF_INET6, vip or "fe80::1")
    else:
        raw_vip = socket.inet_aton(vip or "192.0.2.1") + bytes(12)
    value = struct.pack(
        "!4BH6s3I16s",
        2,
        op,
        state,
        6 if v6 else 4,
        group,
        bytes.fromhex(ident.replace(":", "")),
        prio,
        hello_ms,
        hold_ms,
        raw_vip,
    )
    msg = bytes((1, len(value))) + value
    if auth == "md5":
        return msg + md5_tlv("0.0.0.0" if v6 else SRC4)
    if auth == "text":
        return msg + bytes((3, 8)) + b"cisco".ljust(8, b"\x00")
    return msg


def frame(msg: bytes, *, version: int, v6: bool = False) -> bytes:
    """Ethernet, IP and UDP by scapy around an HSRP message, to Cisco's group and port."""
    if v6:
        ip = IPv6(src=SRC6, dst="ff02::66", hlim=255) / UDP(sport=2029, dport=2029)
        return bytes(Ether(src=MAC, dst="33:33:00:00:00:66") / ip / Raw(msg))
    dst = "224.0.0.2" if version == 1 else "224.0.0.102"
    ip4 = IP(src=SRC4, dst=dst, ttl=1) / UDP(sport=1985, dport=1985)
    return bytes(Ether(src=MAC, dst="01:00:5e:00:00:02") / ip4 / Raw(msg))


HSRP_FIELDS = {
    "hsrp.state",
    "hsrp.opcode",
    "hsrp.group",
    "hsrp.priority",
    "hsrp.hellotime",
    "hsrp.holdtime",
    "hsrp.virt_ip",
    "hsrp.auth_data",
    "hsrp2.state",
    "hsrp2.opcode",
    "hsrp2.group",
    "hsrp2.priority",
    "hsrp2.hellotime",
    "hsrp2.holdtime",
    "hsrp2.identifier",
    "hsrp2.ipversion",
    "hsrp2.virt_ip",
    "hsrp2.virt_ip_v6",
    "hsrp2.auth_data",
    "hsrp2.md5_auth_tlv",
    "hsrp2.md5_algorithm",
    "hsrp2.md5_key_id",
    "hsrp2.md5_auth_data",
}
# tshark names v2's state 1 "Init" and v1's state 0 "Initial"; hatui says "initial" for both.
NAMES = {"Init": "initial"}


def tshark_read(frames: list[bytes], tmp: Path) -> list[dict[str, Field]]:
    path = write_pcap(tmp / "frames.pcap", frames)
    got = packets(path, HSRP_FIELDS | {"glbp.version", "glbp.group", "glbp.type"})
    assert len(got) == len(frames)
    return got


def state_name(tshark_label: str) -> str:
    return NAMES.get(tshark_label, tshark_label.lower())


# -- states and op codes: every value, as tshark names it ---------------------------------


@needs_tshark
@pytest.mark.parametrize("version", [1, 2])
def test_every_state_byte_reads_as_tshark_names_it(version: int, tmp_path: Path) -> None:
    """All 256 values of the state byte: where tshark names a state hatui reads the same
    state; where tshark says Unknown hatui rejects the hello as malformed. v2's state 0 is
    the one exception: Cisco's Disabled, which Wireshark's packet-hsrp.c defines
    (HSRP2_STATE_DISABLED 0) but leaves out of its table."""
    prefix = "hsrp" if version == 1 else "hsrp2"
    build = v1_msg if version == 1 else v2_msg
    frames = [frame(build(state=code), version=version) for code in range(256)]
    wire = tshark_read(frames, tmp_path)
    named = {}
    for code, (data, t) in enumerate(zip(frames, wire, strict=True)):
        label = t[f"{prefix}.state"].label
        got = decode(data)
        if version == 2 and code == 0:
            assert label == "Unknown"
            assert isinstance(got, HsrpHello) and got.state is HsrpState.DISABLED
        elif label == "Unknown":
            assert isinstance(got, Rejected), (code, got)
            assert got.reason is RejectReason.MALFORMED
        else:
            assert isinstance(got, HsrpHello), (code, label, got)
            assert got.state.value == state_name(label), (code, label)
            named[label] = code
    if version == 1:
        expect = {"Initial": 0, "Learn": 1, "Listen": 2, "Speak": 4, "Standby": 8, "Active": 16}
    else:
        expect = {"Init": 1, "Learn": 2, "Listen": 3, "Speak": 4, "Standby": 5, "Active": 6}
    assert named == expect


@needs_tshark
@pytest.mark.parametrize(("version", "v6"), [(1, False), (2, False), (2, True)])
def test_standby_and_active_are_not_swapped(version: int, v6: bool, tmp_path: Path) -> None:
    """The two states a failover turns on, named by tshark, then by hatui."""
    prefix = "hsrp" if version == 1 else "hsrp2"
    codes = (8, 16) if version == 1 else (5, 6)
    if version == 1:
        frames = [frame(v1_msg(state=c), version=1) for c in codes]
    else:
        frames = [frame(v2_msg(state=c, v6=v6), version=2, v6=v6) for c in codes]
    wire = tshark_read(frames, tmp_path)
    assert [t[f"{prefix}.state"].label for t in wire] == ["Standby", "Active"]
    assert [hello(f).state for f in frames] == [HsrpState.STANDBY, HsrpState.ACTIVE]


@needs_tshark
@pytest.mark.parametrize("version", [1, 2])
def test_every_op_code_reads_as_tshark_names_it(version: int, tmp_path: Path) -> None:
    """Hello, Coup, Resign as tshark names them; v1's Advertise (3) is skipped (no group);
    an op code tshark does not know is rejected."""
    prefix = "hsrp" if version == 1 else "hsrp2"
    state = 16 if version == 1 else 6
    frames = [
        frame((v1_msg if version == 1 else v2_msg)(state=state, op=op), version=version)
        for op in range(256)
    ]
    wire = tshark_read(frames, tmp_path)
    named = {}
    for op, (data, t) in enumerate(zip(frames, wire, strict=True)):
        label = t[f"{prefix}.opcode"].label
        got = decode(data)
        if label == "Advertise":
            assert got is None
        elif label == "Unknown":
            assert isinstance(got, Rejected) and got.reason is RejectReason.TYPE, (op, got)
        else:
            assert isinstance(got, HsrpHello), (op, label, got)
            assert got.op.name.lower() == label.lower()
        named[label] = op
    known = {"Hello": 0, "Coup": 1, "Resign": 2}
    assert {k: v for k, v in named.items() if k != "Unknown"} == (
        {**known, "Advertise": 3} if version == 1 else known
    )


# -- fields ------------------------------------------------------------------------------


@needs_tshark
def test_v1_fields_with_text_and_md5(tmp_path: Path) -> None:
    text = frame(v1_msg(state=8, hello_s=1, hold_s=3, prio=90, group=7), version=1)
    md5 = frame(v1_msg(state=16, prio=150, group=7, key=b"") + md5_tlv(SRC4), version=1)
    t_text, t_md5 = tshark_read([text, md5], tmp_path)
    assert [t_text[f].show for f in ("hsrp.group", "hsrp.priority", "hsrp.virt_ip")] == [
        "7",
        "90",
        "192.0.2.1",
    ]
    assert t_text["hsrp.auth_data"].show == "cisco"
    assert t_md5["hsrp2.md5_algorithm"].label == "MD5"
    assert t_md5["hsrp2.md5_auth_data"].show.replace(":", "") == DIGEST.hex()
    got = hello(text)
    assert (got.version, got.group, got.state, got.priority) == (1, 7, HsrpState.STANDBY, 90)
    assert (got.hello_ms, got.hold_ms, got.vip, got.dst_ip) == (
        1000,
        3000,
        "192.0.2.1",
        "224.0.0.2",
    )
    assert (got.auth, got.auth_data, got.op) == ("text", b"cisco", HsrpOp.HELLO)
    got = hello(md5)
    assert (got.state, got.priority, got.auth, got.auth_data) == (
        HsrpState.ACTIVE,
        150,
        "md5",
        b"",
    )


@needs_tshark
@pytest.mark.parametrize(
    ("v6", "vip", "dst"),
    [(False, "192.0.2.1", "224.0.0.102"), (True, "fe80::1", "ff02::66")],
)
@pytest.mark.parametrize("auth", ["md5", "text", "none"])
def test_v2_fields_as_tshark_reads_them(
    v6: bool, vip: str, dst: str, auth: str, tmp_path: Path
) -> None:
    """Group 4000, a coup from Active, 250/750 ms timers: tshark's reading of every field
    of the Group State TLV and of the auth TLV, then hatui's."""
    msg = v2_msg(
        state=6, op=1, v6=v6, group=4000, prio=200, hello_ms=250, hold_ms=750, vip=vip, auth=auth
    )
    data = frame(msg, version=2, v6=v6)
    (t,) = tshark_read([data], tmp_path)
    assert (t["hsrp2.state"].label, t["hsrp2.opcode"].label) == ("Active", "Coup")
    assert t["hsrp2.ipversion"].label == ("IPv6" if v6 else "IPv4")
    assert t["hsrp2.virt_ip_v6" if v6 else "hsrp2.virt_ip"].show == vip
    fields = ("hsrp2.group", "hsrp2.priority", "hsrp2.hellotime", "hsrp2.holdtime")
    assert [t[f].show for f in fields] == ["4000", "200", "250", "750"]
    assert t["hsrp2.identifier"].show == MAC
    if auth == "md5":
        assert (t["hsrp2.md5_algorithm"].label, t["hsrp2.md5_key_id"].show) == ("MD5", "1")
        assert t["hsrp2.md5_auth_data"].show.replace(":", "") == DIGEST.hex()
    elif auth == "text":
        assert t["hsrp2.auth_data"].show == "cisco"
    else:
        assert "hsrp2.auth_data" not in t and "hsrp2.md5_auth_tlv" not in t
    got = hello(data)
    assert (got.family, got.version, got.group, got.op, got.state) == (
        Family.IPV6 if v6 else Family.IPV4,
        2,
        4000,
        HsrpOp.COUP,
        HsrpState.ACTIVE,
    )
    assert (got.priority, got.hello_ms, got.hold_ms, got.vip, got.dst_ip) == (
        200,
        250,
        750,
        vip,
        dst,
    )
    assert (got.auth, got.identifier) == (auth, MAC)
    assert got.auth_data == (b"cisco" if auth == "text" else b"")


# -- hatui's own encoder (demo, bench, integration labs), read back by tshark -------------


@needs_tshark
@pytest.mark.parametrize(
    ("version", "family"), [(1, Family.IPV4), (2, Family.IPV4), (2, Family.IPV6)]
)
@pytest.mark.parametrize("md5", [False, True])
def test_our_encoder_writes_what_tshark_reads(
    version: int, family: Family, md5: bool, tmp_path: Path
) -> None:
    """Every state hatui can send in this version, as tshark names it."""
    states = [s for s in HsrpState if not (version == 1 and s is HsrpState.DISABLED)]
    v6 = family is Family.IPV6
    frames = [
        build_hsrp_frame(
            src_mac=MAC,
            src_ip=SRC6 if v6 else SRC4,
            version=version,
            group=9,
            state=s,
            vip="fe80::9" if v6 else "192.0.2.9",
            family=family,
            md5=md5,
        )
        for s in states
    ]
    prefix = "hsrp" if version == 1 else "hsrp2"
    wire = tshark_read(frames, tmp_path)
    for s, t in zip(states, wire, strict=True):
        label = t[f"{prefix}.state"].label
        if s is HsrpState.DISABLED:
            assert t[f"{prefix}.state"].show == "0"
        else:
            assert state_name(label) == s.value, (s, label)
        assert ("hsrp2.md5_algorithm" in t) is md5
    if version == 1:
        with pytest.raises(ValueError, match="no disabled state"):
            build_hsrp_frame(src_mac=MAC, src_ip=SRC4, version=1, group=9, state=HsrpState.DISABLED)


# -- scapy's layers (its v2 layer names the state byte with v1's names: numbers here) ----


def _scapy(layers: object, *, v6: bool = False) -> bytes:
    if v6:
        ip = IPv6(src=SRC6, dst="ff02::66", hlim=255) / UDP(sport=2029, dport=2029)
    else:
        ip = IP(src=SRC4, dst="224.0.0.2", ttl=1) / UDP(sport=1985, dport=1985)
    return bytes(Ether(src=MAC, dst="01:00:5e:00:00:02") / ip / layers)  # type: ignore[operator]


def test_scapy_v1() -> None:
    got = hello(_scapy(HSRP(group=9, priority=150, state=16, virtualIP="192.0.2.9")))
    assert (got.version, got.group, got.priority, got.state) == (1, 9, 150, HsrpState.ACTIVE)
    assert (got.hello_ms, got.hold_ms, got.vip, got.auth) == (3000, 10000, "192.0.2.9", "text")
    md5 = hello(_scapy(HSRP(group=9, virtualIP="192.0.2.9") / HSRPmd5(sourceip=SRC4)))
    assert md5.auth == "md5"


def test_scapy_v2_with_cisco_state_numbers() -> None:
    v4 = hello(
        _scapy(HSRPv2(group=300, priority=120, state=5, virtualIP="192.0.2.9") / HSRPv2TextAuth())
    )
    assert (v4.version, v4.group, v4.priority, v4.state) == (2, 300, 120, HsrpState.STANDBY)
    assert (v4.hello_ms, v4.hold_ms, v4.vip, v4.auth) == (3000, 10000, "192.0.2.9", "text")
    v6 = hello(_scapy(HSRPv2(group=3, state=6, virtualIP="fe80::9"), v6=True))
    assert (v6.family, v6.vip, v6.auth, v6.state) == (
        Family.IPV6,
        "fe80::9",
        "none",
        HsrpState.ACTIVE,
    )


def glbp_hello(group: int) -> bytes:
    """GLBP as Wireshark's packet-glbp.c reads it: version 1, a byte, group (2 bytes), 2
    bytes, owner ID (6-byte MAC), then TLVs; here a Hello TLV (type 1, length 28 with its
    header) of an Active (0x20) virtual gateway at 192.0.2.12."""
    head = struct.pack("!BBH2s6s", 1, 0, group, bytes(2), bytes.fromhex("020000000011"))
    body = struct.pack(
        "!BBBB2sIIHH2sBB4s",
        0,
        0x20,
        0,
        100,
        bytes(2),
        3000,
        10000,
        600,
        14400,
        bytes(2),
        1,
        4,
        socket.inet_aton("192.0.2.12"),
    )
    return head + bytes((1, 2 + len(body))) + body


@needs_tshark
def test_glbp_is_counted_and_labelled(tmp_path: Path) -> None:
    data = build_udp_frame(
        src_mac=MAC,
        src_ip=SRC4,
        dst_ip="224.0.0.102",
        sport=3222,
        dport=3222,
        payload=glbp_hello(12),
    )
    (t,) = tshark_read([data], tmp_path)
    assert (t["glbp.version"].show, t["glbp.group"].show, t["glbp.type"].label) == (
        "1",
        "12",
        "Hello",
    )
    got = decode(data)
    assert isinstance(got, GlbpHello) and (got.group, got.src_ip) == (12, SRC4)
    ours = decode(
        build_udp_frame(
            src_mac=MAC,
            src_ip=SRC4,
            dst_ip="224.0.0.102",
            sport=3222,
            dport=3222,
            payload=encode_glbp(group=12) + bytes(20),
        )
    )
    assert isinstance(ours, GlbpHello) and ours.group == 12


def test_other_udp_is_not_ours() -> None:
    dns = build_udp_frame(
        src_mac=MAC, src_ip=SRC4, dst_ip="192.0.2.53", sport=5353, dport=53, payload=bytes(20)
    )
    assert decode(dns) is None
    v6 = build_udp_frame(
        src_mac=MAC,
        src_ip=SRC6,
        dst_ip="ff02::fb",
        sport=5353,
        dport=5353,
        payload=bytes(20),
        family=Family.IPV6,
    )
    assert decode(v6) is None


def _udp(
    payload: bytes, *, sport: int = 1985, dport: int = 1985, family: Family = Family.IPV4
) -> bytes:
    v6 = family is Family.IPV6
    return build_udp_frame(
        src_mac=MAC,
        src_ip=SRC6 if v6 else SRC4,
        dst_ip="ff02::66" if v6 else "224.0.0.102",
        sport=sport,
        dport=dport,
        payload=payload,
        family=family,
    )


V2 = v2_msg(state=6, group=5)
V1 = v1_msg(state=16, group=5)

REJECTIONS: dict[str, tuple[bytes, RejectReason, Protocol]] = {
    "v1_truncated": (_udp(V1[:12]), RejectReason.LENGTH, Protocol.HSRP),
    "v1_garbage_trailer": (_udp(V1 + b"\x07\x02ab"), RejectReason.TLV, Protocol.HSRP),
    "v1_over_ipv6": (
        _udp(V1, sport=2029, dport=2029, family=Family.IPV6),
        RejectReason.VERSION,
        Protocol.HSRP,
    ),
    "v2_tlv_overrun": (_udp(V2[:30]), RejectReason.TLV, Protocol.HSRP),
    "v2_tlv_cut": (_udp(V2 + b"\x03"), RejectReason.TLV, Protocol.HSRP),
    "v2_no_group_tlv": (_udp(b"\x03\x08cisco\x00\x00\x00"), RejectReason.TLV, Protocol.HSRP),
    "v2_short_group_tlv": (_udp(b"\x01\x04" + V2[2:6]), RejectReason.TLV, Protocol.HSRP),
    "v2_ip_version": (
        _udp(V2, sport=2029, dport=2029, family=Family.IPV6),
        RejectReason.VERSION,
        Protocol.HSRP,
    ),
    "v2_op_code": (_udp(V2[:3] + b"\x09" + V2[4:]), RejectReason.TYPE, Protocol.HSRP),
    "v1_state": (
        _udp(V1[:2] + b"\x03" + V1[3:], dport=1985),
        RejectReason.MALFORMED,
        Protocol.HSRP,
    ),
    "v2_state": (_udp(V2[:4] + b"\x07" + V2[5:]), RejectReason.MALFORMED, Protocol.HSRP),
    "v2_op_code_3": (_udp(V2[:3] + b"\x03" + V2[4:]), RejectReason.TYPE, Protocol.HSRP),
    "ipv6_on_1985": (_udp(V2, family=Family.IPV6), RejectReason.PORT, Protocol.HSRP),
    "ipv4_on_2029": (_udp(V2, sport=2029, dport=2029), RejectReason.PORT, Protocol.HSRP),
    "sport_not_1985": (_udp(V2, sport=40000), RejectReason.PORT, Protocol.HSRP),
    "glbp_truncated": (
        _udp(b"\x01\x00\x00", sport=3222, dport=3222),
        RejectReason.LENGTH,
        Protocol.GLBP,
    ),
    "glbp_version": (
        _udp(b"\x07" + bytes(11), sport=3222, dport=3222),
        RejectReason.VERSION,
        Protocol.GLBP,
    ),
}


@pytest.mark.parametrize("name", sorted(REJECTIONS))
def test_rejections_by_reason_cold_and_memoised(name: str) -> None:
    data, reason, protocol = REJECTIONS[name]
    first = rejected(data)
    assert (first.reason, first.protocol) == (reason, protocol)
    assert rejected(data).reason is reason  # the memo hit says the same


def test_udp_checksum_and_length() -> None:
    good = _udp(V2)
    bad = bytearray(good)
    bad[14 + 20 + 6] ^= 0x40  # UDP checksum
    got = rejected(bytes(bad))
    assert got.reason is RejectReason.CHECKSUM and got.protocol is Protocol.HSRP
    assert isinstance(decode(good), HsrpHello)  # memoised now; the bad copy is still caught
    assert rejected(bytes(bad)).reason is RejectReason.CHECKSUM
    longer = bytearray(good)
    longer[14 + 20 + 4 : 14 + 20 + 6] = (600).to_bytes(2, "big")  # UDP length past the packet
    got = rejected(bytes(longer))
    assert got.reason is RejectReason.LENGTH


def test_ip_header_checksum_on_the_memo_hit_path() -> None:
    good = _udp(V2)
    assert isinstance(decode(good), HsrpHello)
    bad = bytearray(good)
    bad[14 + 10] ^= 0x11
    assert rejected(bytes(bad)).reason is RejectReason.CHECKSUM


def test_advertise_messages_are_skipped() -> None:
    v1_adv = bytes((0, 3)) + bytes(14)
    assert decode(_udp(v1_adv)) is None
    v2_adv = bytes((2, 4, 0, 1, 0, 0))
    assert decode(_udp(v2_adv)) is None
