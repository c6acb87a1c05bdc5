"""Ethernet II headers with up to two 802.1Q/802.1ad tags, and MAC address text."""

from __future__ import annotations

import struct

from hatui.codec.frames import Link

ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
ETH_P_IPV6 = 0x86DD
ETH_P_8021Q = 0x8100
ETH_P_8021AD = 0x88A8
ETH_P_QINQ_OLD = 0x9100  # pre-standard QinQ TPID, still seen on switches
TPIDS = frozenset({ETH_P_8021Q, ETH_P_8021AD, ETH_P_QINQ_OLD})

BROADCAST = "ff:ff:ff:ff:ff:ff"
ZERO_MAC = "00:00:00:00:00:00"
HEADER_LEN = 14

_H = struct.Struct("!H")
_TAG = struct.Struct("!HH")

# Link objects are immutable and a LAN has few distinct (src, dst, vlan) triples, so they
# are shared per raw header bytes instead of being rebuilt (and re-hexed) for every frame.
_LINKS: dict[bytes, Link] = {}
_LINKS_MAX = 1024


def mac_text(raw: bytes) -> str:
    """Six bytes as lowercase colon-separated hex."""
    return raw.hex(":")


def mac_bytes(text: str) -> bytes:
    """`02:00:00:00:00:11` (or `-` separated) to six bytes; raises ValueError otherwise."""
    raw = bytes.fromhex(text.replace(":", "").replace("-", ""))
    if len(raw) != 6:
        raise ValueError(f"not a MAC address: {text!r}")
    return raw


def parse_l2(data: bytes) -> tuple[int, int, int | None] | None:
    """(ethertype, payload offset, vlan) of a frame, or None when it is not one hatui reads.

    With two tags (QinQ) the inner, customer VLAN is reported: it is the one the routers
    are configured on. Deeper stacks are ignored.
    """
    if len(data) < HEADER_LEN:
        return None
    ethertype = _H.unpack_from(data, 12)[0]
    off = HEADER_LEN
    vlan = None
    for _ in range(2):
        if ethertype not in TPIDS:
            break
        if len(data) < off + 4:
            return None
        tci, ethertype = _TAG.unpack_from(data, off)
        vlan = tci & 0x0FFF
        off += 4
    else:
        if ethertype in TPIDS:
            return None
    return ethertype, off, vlan


def link_for(data: bytes, off: int, vlan: int | None) -> Link:
    """The (shared) Link for a frame's header bytes data[:off]."""
    key = data[:off]
    link = _LINKS.get(key)
    if link is None:
        if len(_LINKS) >= _LINKS_MAX:
            _LINKS.clear()
        link = Link(src_mac=data[6:12].hex(":"), dst_mac=data[0:6].hex(":"), vlan=vlan)
        _LINKS[key] = link
    return link


def ethernet_header(
    *, src_mac: str, dst_mac: str, ethertype: int, vlan: int | None = None, priority: int = 0
) -> bytes:
    """An Ethernet II header, with one 802.1Q tag when `vlan` is given."""
    head = mac_bytes(dst_mac) + mac_bytes(src_mac)
    if vlan is not None:
        if not 0 <= vlan <= 0x0FFF:
            raise ValueError(f"VLAN id out of range: {vlan}")
        head += _TAG.pack(ETH_P_8021Q, (priority & 7) << 13 | vlan)
    return head + _H.pack(ethertype)


def ipv4_multicast_mac(dst: bytes) -> str:
    """RFC 1112 6.4: 01:00:5e plus the low 23 bits of the group."""
    return "01:00:5e:" + bytes((dst[1] & 0x7F, dst[2], dst[3])).hex(":")


def ipv6_multicast_mac(dst: bytes) -> str:
    """RFC 2464 7: 33:33 plus the group's last four bytes."""
    return "33:33:" + dst[12:16].hex(":")
