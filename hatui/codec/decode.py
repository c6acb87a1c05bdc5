"""Frame decoding: Ethernet or raw IP bytes to a typed frame, a Rejected, or None. Never raises.

Decoding is a pure function of the bytes, and a LAN repeats the same adverts and
gratuitous ARPs from the same few senders, so results are memoised per frame content
(bounded; cleared when full). For IPv4 the key leaves out the two fields that change per
packet, identification and header checksum, and those are verified on every frame before
the lookup. Frames are immutable, so sharing one result object is safe.
"""

from __future__ import annotations

import struct

from hatui.codec.arp import ARP_LEN, parse_arp
from hatui.codec.carp import is_carp, is_truncated_carp, parse_carp
from hatui.codec.checksum import PROTO_ICMPV6, PROTO_VRRP
from hatui.codec.ethernet import ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, TPIDS, link_for, parse_l2
from hatui.codec.frames import Decoded, Link, Protocol, Rejected, RejectReason
from hatui.codec.hsrp import PROTO_UDP, UDP_PORTS, parse_udp
from hatui.codec.ip import PROTO_AH, ipv4_text, ipv6_text
from hatui.codec.nd import ICMPV6_NA, parse_na
from hatui.codec.vrrp import parse_vrrp

__all__ = ["clear_cache", "decode", "decode_ip"]

_LEN_FRAG = struct.Struct("!HxxH")  # IPv4 total length, (identification), flags+offset
_H = struct.Struct("!H")
_FRAGMENTED = 0x3FFF  # MF flag or a nonzero fragment offset
# IPv6 extension headers walked to reach VRRP (hop-by-hop, routing, fragment, AH,
# destination options): a router alert or destination option must not hide an advert.
_V6_FRAGMENT = 44
_V6_EXTENSIONS = frozenset({0, 43, _V6_FRAGMENT, PROTO_AH, 60})
_V6_MAX_EXTENSIONS = 8  # RFC 8200 4.1 allows each at most once or twice
_CACHE: dict[bytes, Decoded] = {}
# Untagged IPv4: the bytes from the IP addresses to the IP end -> the Ethernet header and
# first IP word, the flags to protocol word, and the result. decode() compares the first
# two in place, so a hit copies one slice instead of joining three.
_V4: dict[bytes, tuple[bytes, bytes, Decoded]] = {}
_CACHE_MAX = 4096


def clear_cache() -> None:
    """Forget memoised results (benchmarks of the cold path, tests)."""
    _CACHE.clear()
    _V4.clear()


def decode(data: bytes) -> Decoded:
    """Decode one Ethernet frame (optionally with one or two VLAN tags)."""
    try:
        if len(data) < 14:
            return None
        ethertype = data[12] << 8 | data[13]
        if ethertype == ETH_P_IP:  # the common case first: an untagged IPv4 advert
            if len(data) >= 34:
                # A memoised advert: every byte to the IP end but the identification and
                # header checksum matches (the key is the bytes from the IP addresses
                # on; the bytes before them are compared in place, without copies), so
                # a hit already passed every other check; only the header checksum
                # (RFC 1071) is left to verify.
                end = 14 + (data[16] << 8 | data[17])
                hit = _V4.get(data[26:end])
                if (
                    hit is not None
                    and data.startswith(hit[0])
                    and data.startswith(hit[1], 20)
                    and not int.from_bytes(data[14 : 14 + (data[14] & 0x0F) * 4], "big") % 0xFFFF
                ):
                    return hit[2]
            return _ipv4(data, 14, None, None)
        if ethertype == ETH_P_IPV6:
            # A memoised IPv6 frame: the key runs to the payload end given by the payload
            # length inside it, so a hit is a frame every check already passed.
            found = _CACHE.get(data[: 54 + (data[18] << 8 | data[19])]) if len(data) >= 54 else None
            if found is not None:
                return found
            return _ipv6(data, 14, None, None)
        off = 14
        vlan = None
        if ethertype in TPIDS:
            parsed = parse_l2(data)
            if parsed is None:
                return None
            ethertype, off, vlan = parsed
        if ethertype == ETH_P_IP:
            return _ipv4(data, off, vlan, None)
        if ethertype == ETH_P_ARP:
            key = data[: off + ARP_LEN]
            found = _CACHE.get(key)
            if found is None:
                found = parse_arp(data, off, link_for(data, off, vlan))
                if found is not None:
                    _remember(key, found)
            return found
        if ethertype == ETH_P_IPV6:
            return _ipv6(data, off, vlan, None)
        return None
    except Exception as exc:  # a last guard: bad network input must never raise (STYLE)
        return _internal(exc)


def decode_ip(packet: bytes, link: Link) -> Decoded:
    """Decode one IP packet without its Ethernet header (a raw IP socket's view)."""
    try:
        if not packet:
            return Rejected(reason=RejectReason.MALFORMED, detail="empty IP packet", link=link)
        version = packet[0] >> 4
        if version == 4:
            return _ipv4(packet, 0, None, link)
        if version == 6:
            return _ipv6(packet, 0, None, link)
        detail = f"IP version {version}"
        return Rejected(reason=RejectReason.MALFORMED, detail=detail, link=link)
    except Exception as exc:
        return _internal(exc)


def _internal(exc: Exception) -> Rejected:
    detail = f"internal error: {type(exc).__name__}: {exc}"
    return Rejected(reason=RejectReason.MALFORMED, detail=detail)


def _remember(key: bytes, result: Decoded) -> None:
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = result


def _ipv4(data: bytes, off: int, vlan: int | None, link: Link | None) -> Decoded:
    avail = len(data) - off
    if (
        avail >= 10
        and data[off + 9] != PROTO_VRRP
        and data[off + 9] != PROTO_AH
        # UDP other than HSRP/GLBP is not hatui's: its ports are looked at first
        and (data[off + 9] != PROTO_UDP or not _hsrp_port(data, off + (data[off] & 0x0F) * 4))
    ):
        return None
    if avail < 20:
        return _bad(RejectReason.LENGTH, "truncated IPv4 header", data, off, vlan, link)
    vihl = data[off]
    hlen = (vihl & 0x0F) * 4
    if vihl >> 4 != 4 or hlen < 20:
        detail = f"IPv4 version/IHL byte {vihl:#04x}"
        return _bad(RejectReason.MALFORMED, detail, data, off, vlan, link)
    total, frag = _LEN_FRAG.unpack_from(data, off + 2)
    if hlen > avail or total > avail:
        detail = f"IPv4 length {max(hlen, total)}, {avail} bytes captured"
        return _bad(RejectReason.LENGTH, detail, data, off, vlan, link)
    if total < hlen:
        detail = f"IPv4 total length {total} < header {hlen}"
        return _bad(RejectReason.MALFORMED, detail, data, off, vlan, link, src=True)
    if int.from_bytes(data[off : off + hlen], "big") % 0xFFFF:  # RFC 1071, see checksum.py
        detail = "IPv4 header checksum"
        return _bad(RejectReason.CHECKSUM, detail, data, off, vlan, link, src=True)
    if frag & _FRAGMENTED:  # VRRP adverts are never fragmented; reassembly is not ours
        detail = "fragmented IPv4 packet"
        return _bad(RejectReason.MALFORMED, detail, data, off, vlan, link, src=True)
    end = off + total
    proto = data[off + 9]
    key = None
    if link is None and proto != PROTO_AH and off != 14:  # untagged: decode()'s memo, _V4
        key = data[: off + 4] + data[off + 6 : off + 10] + data[off + 12 : end]
        found = _CACHE.get(key)
        if found is not None:
            return found
    lk = link if link is not None else link_for(data, off, vlan)
    start = off + hlen
    if proto == PROTO_UDP:
        udp = parse_udp(data[start:end], v6=False, addrs=data[off + 12 : off + 20], link=lk)
        if udp is not None:
            _remember_v4(data, off, end, link, key, udp)
        return udp
    if proto == PROTO_AH:
        # RFC 2402 over VRRPv2 (RFC 3768 5.3.6.3): skip the AH header; its ICV needs the
        # key, which an observer does not have.
        if end - start < 12 or data[start] != PROTO_VRRP:
            return None
        start += (data[start + 1] + 2) * 4
        if start > end:
            detail = "AH header longer than the packet"
            return _bad(RejectReason.LENGTH, detail, data, off, vlan, link, src=True)
    result = _vrrp_or_carp(data[start:end], False, data[off + 12 : off + 20], data[off + 8], lk)
    if proto != PROTO_AH:
        _remember_v4(data, off, end, link, key, result)
    return result


def _remember_v4(
    data: bytes, off: int, end: int, link: Link | None, key: bytes | None, result: Decoded
) -> None:
    """Memoise an IPv4 result: untagged frames in _V4 (as decode() looks them up), tagged
    ones in _CACHE under `key`; raw IP packets (a link given) are not memoised."""
    if link is not None:
        return
    if off == 14:
        if len(_V4) >= _CACHE_MAX:
            _V4.clear()
        _V4[data[26:end]] = (data[:18], data[20:24], result)
    elif key is not None:
        _remember(key, result)


def _bad(
    reason: RejectReason,
    detail: str,
    data: bytes,
    off: int,
    vlan: int | None,
    link: Link | None,
    *,
    src: bool = False,
) -> Rejected:
    """A rejection of the IPv4 header at data[off:], built only off the hot path."""
    lk = link if link is not None else link_for(data, off, vlan)
    src_ip = ipv4_text(data[off + 12 : off + 16]) if src else None
    return Rejected(reason=reason, detail=detail, link=lk, src_ip=src_ip)


def _ipv6(data: bytes, off: int, vlan: int | None, link: Link | None) -> Decoded:
    avail = len(data) - off
    if avail >= 7:
        nh = data[off + 6]
        if (
            nh != PROTO_VRRP
            and nh != PROTO_ICMPV6
            and nh not in _V6_EXTENSIONS
            and (nh != PROTO_UDP or not _hsrp_port(data, off + 40))
        ):
            return None
    if avail < 40:
        lk = link if link is not None else link_for(data, off, vlan)
        return Rejected(reason=RejectReason.LENGTH, detail="truncated IPv6 header", link=lk)
    if data[off] >> 4 != 6:
        lk = link if link is not None else link_for(data, off, vlan)
        detail = f"IPv6 version {data[off] >> 4}"
        return Rejected(reason=RejectReason.MALFORMED, detail=detail, link=lk)
    plen = _H.unpack_from(data, off + 4)[0]
    next_header = data[off + 6]
    start = off + 40
    end = start + plen
    if next_header in _V6_EXTENSIONS:
        walked = _walk_extensions(data, next_header, start, end)
        if isinstance(walked, str):
            lk = link if link is not None else link_for(data, off, vlan)
            src = ipv6_text(data[off + 8 : off + 24])
            reason = RejectReason.MALFORMED if "fragment" in walked else RejectReason.LENGTH
            return Rejected(reason=reason, detail=walked, link=lk, src_ip=src)
        next_header, start = walked
        if next_header not in (PROTO_VRRP, PROTO_ICMPV6, PROTO_UDP):
            return None
    if next_header == PROTO_ICMPV6 and (
        start >= end or end > len(data) or data[start] != ICMPV6_NA
    ):
        return None  # other ICMPv6 (NS, RA, MLD) is not hatui's
    if end > len(data):
        lk = link if link is not None else link_for(data, off, vlan)
        src = ipv6_text(data[off + 8 : off + 24])
        detail = f"IPv6 payload length {plen}, {len(data) - off - 40} bytes captured"
        return Rejected(reason=RejectReason.LENGTH, detail=detail, link=lk, src_ip=src)
    key = None
    if link is None:
        key = data[:end]
        found = _CACHE.get(key)
        if found is not None:
            return found  # before link_for: a hit needs no Link of its own
    lk = link if link is not None else link_for(data, off, vlan)
    addrs = data[off + 8 : off + 40]
    msg = data[start:end]
    if next_header == PROTO_VRRP:
        result: Decoded = _vrrp_or_carp(msg, True, addrs, data[off + 7], lk)
    elif next_header == PROTO_UDP:
        result = parse_udp(msg, v6=True, addrs=addrs, link=lk)
    else:
        result = parse_na(msg, addrs=addrs, hop_limit=data[off + 7], link=lk)
    if key is not None and result is not None:
        _remember(key, result)
    return result


def _walk_extensions(data: bytes, next_header: int, start: int, end: int) -> tuple[int, int] | str:
    """Skip IPv6 extension headers (RFC 8200 4): the upper-layer protocol and where it
    starts, or why the chain is unusable (a fragment, or a header past the payload)."""
    for _ in range(_V6_MAX_EXTENSIONS):
        if next_header not in _V6_EXTENSIONS:
            return (next_header, start) if start <= end else "truncated IPv6 extension header"
        if start + 8 > end or end > len(data):
            return "truncated IPv6 extension header"
        if next_header == _V6_FRAGMENT:
            # VRRP adverts are never fragmented (as IPv4); other fragments are not ours.
            return "fragmented IPv6 packet" if data[start] == PROTO_VRRP else (next_header, start)
        size = data[start + 1]
        size = (size + 2) * 4 if next_header == PROTO_AH else (size + 1) * 8  # RFC 4302 2.2
        next_header = data[start]
        start += size
    return "IPv6 extension header chain too long"


def _hsrp_port(data: bytes, udp: int) -> bool:
    """Whether the UDP header at data[udp:] is to or from an HSRP or GLBP port."""
    if len(data) < udp + 4:
        return False
    return (data[udp] << 8 | data[udp + 1]) in UDP_PORTS or (
        data[udp + 2] << 8 | data[udp + 3]
    ) in UDP_PORTS


def _vrrp_or_carp(msg: bytes, v6: bool, addrs: bytes, ttl: int, link: Link) -> Decoded:
    if ttl != 255:  # RFC 5798 7.1 / RFC 3768 7.1: sent with TTL 255, never routed
        src = ipv6_text(addrs[:16]) if v6 else ipv4_text(addrs[:4])
        vrid = msg[1] if len(msg) > 1 else None
        detail = f"{'hop limit' if v6 else 'TTL'} {ttl}"
        return Rejected(reason=RejectReason.TTL, detail=detail, link=link, src_ip=src, vrid=vrid)
    if is_carp(msg):
        return parse_carp(msg, v6=v6, addrs=addrs, link=link)
    if is_truncated_carp(msg):
        src = ipv6_text(addrs[:16]) if v6 else ipv4_text(addrs[:4])
        detail = f"CARP advert of {len(msg)} bytes, 36 expected"
        return Rejected(
            reason=RejectReason.LENGTH,
            detail=detail,
            link=link,
            src_ip=src,
            vrid=msg[1],
            protocol=Protocol.CARP,
        )
    return parse_vrrp(msg, v6=v6, addrs=addrs, ttl=ttl, link=link)
