"""VRRP advertisements: RFC 3768 (v2) and RFC 5798 / RFC 9568 (v3) parse, checks and encode."""

from __future__ import annotations

import struct
from collections.abc import Sequence

from hatui.codec.checksum import (
    PROTO_VRRP,
    finish,
    is_valid,
    pseudo_sum_v4,
    pseudo_sum_v6,
    word_sum,
)
from hatui.codec.frames import (
    Auth,
    ChecksumForm,
    Family,
    Link,
    Rejected,
    RejectReason,
    VrrpAdvert,
)
from hatui.codec.ip import ipv4_bytes, ipv4_text, ipv6_bytes, ipv6_text

_HEAD = struct.Struct("!BBBBH")  # ver/type, vrid, priority, count, (v2 auth+int | v3 rsvd+int)
_AUTH_DATA_LEN = 8  # RFC 3768 5.3.10
CISCO_MD5_TYPE = 254  # Cisco IOS `vrrp N authentication md5`
# RFC 3768 5.3.6, plus what Cisco deploys; anything else is Auth.UNKNOWN with its number.
_AUTH_FROM_WIRE = {0: Auth.NONE, 1: Auth.SIMPLE, 2: Auth.AH, CISCO_MD5_TYPE: Auth.CISCO_MD5}
_AUTH_TO_WIRE = {v: k for k, v in _AUTH_FROM_WIRE.items()}
_EMPTY = b""


def _reject(reason: RejectReason, detail: str, link: Link, src: str, vrid: int | None) -> Rejected:
    return Rejected(reason=reason, detail=detail, link=link, src_ip=src, vrid=vrid)


def parse_vrrp(
    msg: bytes, *, v6: bool, addrs: bytes, ttl: int, link: Link
) -> VrrpAdvert | Rejected:
    """Check and parse one VRRP message (the IP payload, exactly as long as IP says).

    `addrs` is the IP source and destination, raw and concatenated (the pseudo-header
    needs them). The checks follow RFC 5798 7.1 (and RFC 3768 7.1 for v2): TTL is the
    caller's, then version, type, length, address count, checksum, VRID, auth type.
    """
    alen = 16 if v6 else 4
    text = ipv6_text if v6 else ipv4_text
    src = text(addrs[:alen])
    n = len(msg)
    if n < 8:
        return _reject(RejectReason.LENGTH, f"VRRP message of {n} bytes", link, src, None)
    vt, vrid, priority, count, word = _HEAD.unpack_from(msg)
    version = vt >> 4
    if version == 3:
        expected = 8 + alen * count
    elif version == 2 and not v6:
        expected = 8 + 4 * count + _AUTH_DATA_LEN
    else:
        over = "IPv6" if v6 else "IPv4"
        return _reject(RejectReason.VERSION, f"VRRP version {version} over {over}", link, src, vrid)
    if vt & 0x0F != 1:  # RFC 5798 5.2.2: only ADVERTISEMENT (1) is defined
        return _reject(RejectReason.TYPE, f"VRRP type {vt & 0x0F}", link, src, vrid)
    if count == 0:
        return _reject(RejectReason.ADDRESS_COUNT, "address count 0", link, src, vrid)
    if n < expected:
        detail = f"{count} addresses do not fit in a {n}-byte message"
        return _reject(RejectReason.ADDRESS_COUNT, detail, link, src, vrid)
    # RFC 3768 7.1 asks only for at least the header: Cisco's MD5 appends a TLV after the
    # auth data, so v2 keeps the extra bytes as a trailer (the node's receive path
    # discards such adverts). v3 defines no trailer.
    if n > expected and version == 3:
        detail = f"{n}-byte message, {expected} expected for {count} addresses"
        return _reject(RejectReason.LENGTH, detail, link, src, vrid)
    body = word_sum(msg)
    if version == 2:
        form = ChecksumForm.V2  # RFC 3768 5.3.8: the VRRP message only
        ok = is_valid(body)
    elif v6:
        form = ChecksumForm.PSEUDO  # RFC 5798 5.2.8: with the IPv6 pseudo-header
        ok = is_valid(body + pseudo_sum_v6(addrs, PROTO_VRRP, n))
    elif is_valid(body + pseudo_sum_v4(addrs, PROTO_VRRP, n)):
        form = ChecksumForm.PSEUDO  # keepalived, Wireshark, scapy
        ok = True
    else:
        form = ChecksumForm.PLAIN  # RFC 9568's reading, some vendors
        ok = is_valid(body)
    if not ok:
        return _reject(RejectReason.CHECKSUM, f"VRRPv{version} checksum", link, src, vrid)
    if vrid == 0:  # RFC 5798 5.2.3: VRID is 1-255
        return _reject(RejectReason.VRID, "VRID 0", link, src, vrid)
    auth = Auth.NONE
    auth_data = _EMPTY
    auth_type = 0
    if version == 2:
        auth_type = word >> 8
        auth = _AUTH_FROM_WIRE.get(auth_type, Auth.UNKNOWN)  # shown, never dropped
        if auth is Auth.SIMPLE:
            auth_data = msg[expected - _AUTH_DATA_LEN : expected]
        interval_cs = (word & 0xFF) * 100
    else:
        interval_cs = word & 0x0FFF
    end = 8 + alen * count
    addresses = tuple(text(msg[i : i + alen]) for i in range(8, end, alen))
    return VrrpAdvert(
        link=link,
        family=Family.IPV6 if v6 else Family.IPV4,
        src_ip=src,
        dst_ip=text(addrs[alen:]),
        ttl=ttl,
        version=version,
        vrid=vrid,
        priority=priority,
        interval_cs=interval_cs,
        addresses=addresses,
        auth=auth,
        auth_data=auth_data,
        checksum_form=form,
        auth_type=auth_type,
        trailer_len=n - expected,
    )


def encode_vrrp(
    *,
    version: int,
    vrid: int,
    priority: int,
    interval_cs: int,
    addresses: Sequence[str],
    family: Family,
    src_ip: str,
    dst_ip: str,
    auth: Auth = Auth.NONE,
    auth_pass: bytes = b"",
    checksum_form: ChecksumForm = ChecksumForm.PSEUDO,
    vrrp_type: int = 1,
    count: int | None = None,
    checksum: int | None = None,
    auth_type: int | None = None,
    trailer: bytes = b"",
) -> bytes:
    """One VRRP message with its checksum, ready for a raw IP socket.

    v2 carries whole seconds (interval_cs must be a multiple of 100, 1-255 s); v3 carries
    12-bit centiseconds. `checksum_form` matters for v3 over IPv4 only: PSEUDO (default,
    like keepalived) or PLAIN. `vrrp_type`, `count` and `checksum` override the wire
    values to craft invalid messages for tests. `auth_type` (v2) overrides the wire's
    auth type and `trailer` follows the auth data, as Cisco's MD5 key-chain TLV does.
    """
    v6 = family is Family.IPV6
    packed = ipv6_bytes if v6 else ipv4_bytes
    raw_addrs = b"".join(packed(a) for a in addresses)
    n_addr = len(addresses) if count is None else count
    if not 0 <= vrid <= 255 or not 0 <= priority <= 255 or not 0 <= n_addr <= 255:
        raise ValueError("VRID, priority and address count are single bytes")
    if version == 2:
        if v6:
            raise ValueError("VRRPv2 is IPv4 only (RFC 3768)")
        seconds, rest = divmod(interval_cs, 100)
        if rest or not 0 <= seconds <= 255:
            raise ValueError(f"VRRPv2 interval must be whole seconds 0-255, not {interval_cs} cs")
        if auth_type is None and auth is Auth.UNKNOWN:
            raise ValueError("Auth.UNKNOWN needs the wire's auth_type")
        wire_auth = _AUTH_TO_WIRE[auth] if auth_type is None else auth_type
        word = wire_auth << 8 | seconds
        tail = auth_pass[:_AUTH_DATA_LEN].ljust(_AUTH_DATA_LEN, b"\x00")
        if auth is not Auth.SIMPLE:
            tail = bytes(_AUTH_DATA_LEN)
    else:
        if not 0 <= interval_cs <= 0x0FFF:
            raise ValueError(f"VRRPv3 interval is 12 bits of centiseconds, not {interval_cs}")
        word = interval_cs
        tail = _EMPTY
    head = _HEAD.pack((version & 0x0F) << 4 | (vrrp_type & 0x0F), vrid, priority, n_addr, word)
    msg = head + b"\x00\x00" + raw_addrs + tail + trailer
    if checksum is None:
        total = word_sum(msg)
        if version != 2:
            ips = packed(src_ip) + packed(dst_ip)
            if v6:
                total += pseudo_sum_v6(ips, PROTO_VRRP, len(msg))
            elif checksum_form is ChecksumForm.PSEUDO:
                total += pseudo_sum_v4(ips, PROTO_VRRP, len(msg))
        checksum = finish(total)
    return msg[:6] + checksum.to_bytes(2, "big") + msg[8:]
