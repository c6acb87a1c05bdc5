"""ICMPv6 neighbour advertisements (RFC 4861 4.4, 7.1.2): parse and encode."""

from __future__ import annotations

import struct

from hatui.codec.checksum import PROTO_ICMPV6, finish, is_valid, pseudo_sum_v6, word_sum
from hatui.codec.ethernet import mac_bytes
from hatui.codec.frames import Link, NeighborAdvert, Rejected, RejectReason
from hatui.codec.ip import ipv6_bytes, ipv6_text

ICMPV6_NA = 136
NA_MIN_LEN = 24
OPT_TARGET_LLADDR = 2
_NA = struct.Struct("!BBHI16s")
_R, _S, _O = 0x80000000, 0x40000000, 0x20000000


def _bad(detail: str, link: Link, src: str) -> Rejected:
    return Rejected(reason=RejectReason.MALFORMED, detail=detail, link=link, src_ip=src)


def parse_na(
    msg: bytes, *, addrs: bytes, hop_limit: int, link: Link
) -> NeighborAdvert | Rejected | None:
    """Validate (RFC 4861 7.1.2) and parse an ICMPv6 message; None unless it is an NA."""
    if not msg or msg[0] != ICMPV6_NA:
        return None
    src = ipv6_text(addrs[:16])
    n = len(msg)
    if hop_limit != 255:
        detail = f"NA hop limit {hop_limit}"
        return Rejected(reason=RejectReason.TTL, detail=detail, link=link, src_ip=src)
    if n < NA_MIN_LEN:
        return _bad(f"NA of {n} bytes", link, src)
    if not is_valid(word_sum(msg) + pseudo_sum_v6(addrs, PROTO_ICMPV6, n)):
        detail = "ICMPv6 checksum"
        return Rejected(reason=RejectReason.CHECKSUM, detail=detail, link=link, src_ip=src)
    _type, code, _ck, flags, target = _NA.unpack_from(msg)
    if code != 0:
        return _bad(f"NA code {code}", link, src)
    if target[0] == 0xFF:
        return _bad("NA for a multicast target", link, src)
    solicited = bool(flags & _S)
    if solicited and addrs[16] == 0xFF:
        return _bad("solicited NA to a multicast address", link, src)
    target_mac = None
    i = NA_MIN_LEN
    while i + 2 <= n:
        kind, units = msg[i], msg[i + 1]
        if units == 0 or i + units * 8 > n:
            return _bad("NA option with a bad length", link, src)
        if kind == OPT_TARGET_LLADDR and units == 1 and target_mac is None:
            target_mac = msg[i + 2 : i + 8].hex(":")
        i += units * 8
    return NeighborAdvert(
        link=link,
        src_ip=src,
        dst_ip=ipv6_text(addrs[16:]),
        target_ip=ipv6_text(target),
        target_mac=target_mac,
        router=bool(flags & _R),
        solicited=solicited,
        override=bool(flags & _O),
    )


def encode_na(
    *,
    src_ip: str,
    dst_ip: str,
    target_ip: str,
    target_mac: str | None,
    router: bool = False,
    solicited: bool = False,
    override: bool = True,
) -> bytes:
    """An NA with its checksum, and a target link-layer address option when `target_mac` is set."""
    flags = (_R if router else 0) | (_S if solicited else 0) | (_O if override else 0)
    msg = _NA.pack(ICMPV6_NA, 0, 0, flags, ipv6_bytes(target_ip))
    if target_mac is not None:
        msg += bytes((OPT_TARGET_LLADDR, 1)) + mac_bytes(target_mac)
    addrs = ipv6_bytes(src_ip) + ipv6_bytes(dst_ip)
    checksum = finish(word_sum(msg) + pseudo_sum_v6(addrs, PROTO_ICMPV6, len(msg)))
    return msg[:2] + checksum.to_bytes(2, "big") + msg[4:]
