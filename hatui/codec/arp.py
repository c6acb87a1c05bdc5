"""ARP over Ethernet for IPv4 (RFC 826): parse and encode."""

from __future__ import annotations

import struct

from hatui.codec.ethernet import mac_bytes
from hatui.codec.frames import ArpFrame, Link, Rejected, RejectReason
from hatui.codec.ip import ipv4_bytes, ipv4_text

ARP_LEN = 28
ARP_REQUEST = 1
ARP_REPLY = 2
_ARP = struct.Struct("!HHBBH6s4s6s4s")
_ETHER_IPV4 = (1, 0x0800)


def parse_arp(data: bytes, off: int, link: Link) -> ArpFrame | Rejected | None:
    """The ARP packet at data[off:]; None for non-Ethernet/IPv4 ARP and unknown opcodes."""
    if len(data) - off < ARP_LEN:
        return Rejected(reason=RejectReason.MALFORMED, detail="truncated ARP", link=link)
    htype, ptype, hlen, plen, op, sha, spa, tha, tpa = _ARP.unpack_from(data, off)
    if (htype, ptype) != _ETHER_IPV4:
        return None
    if hlen != 6 or plen != 4:
        detail = f"ARP address lengths {hlen}/{plen}"
        return Rejected(reason=RejectReason.MALFORMED, detail=detail, link=link)
    if op != ARP_REQUEST and op != ARP_REPLY:
        return None
    return ArpFrame(
        link=link,
        op=op,
        sender_mac=sha.hex(":"),
        sender_ip=ipv4_text(spa),
        target_mac=tha.hex(":"),
        target_ip=ipv4_text(tpa),
    )


def encode_arp(
    *, op: int, sender_mac: str, sender_ip: str, target_mac: str, target_ip: str
) -> bytes:
    """A 28-byte Ethernet/IPv4 ARP packet."""
    return _ARP.pack(
        1,
        0x0800,
        6,
        4,
        op,
        mac_bytes(sender_mac),
        ipv4_bytes(sender_ip),
        mac_bytes(target_mac),
        ipv4_bytes(target_ip),
    )
