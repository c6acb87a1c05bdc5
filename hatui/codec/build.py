"""Whole-frame builders (Ethernet + IP + payload) for tests, the lab, benchmarks and the node."""

from __future__ import annotations

from collections.abc import Sequence

from hatui.codec.arp import ARP_REQUEST, encode_arp
from hatui.codec.carp import encode_carp
from hatui.codec.checksum import PROTO_ICMPV6, PROTO_VRRP
from hatui.codec.ethernet import (
    BROADCAST,
    ETH_P_ARP,
    ETH_P_IP,
    ETH_P_IPV6,
    ethernet_header,
    ipv4_multicast_mac,
    ipv6_multicast_mac,
)
from hatui.codec.frames import Auth, ChecksumForm, Family, HsrpOp, HsrpState
from hatui.codec.hsrp import (
    HSRP_PORT,
    HSRP_V1_GROUP,
    HSRP_V2_GROUP,
    HSRP_V6_GROUP,
    HSRP_V6_PORT,
    PROTO_UDP,
    encode_hsrp,
    encode_udp,
)
from hatui.codec.ip import (
    IPV4_VRRP_GROUP,
    IPV6_ALL_NODES,
    IPV6_VRRP_GROUP,
    PROTO_AH,
    ipv4_bytes,
    ipv4_header,
    ipv6_bytes,
    ipv6_header,
)
from hatui.codec.nd import encode_na
from hatui.codec.vrrp import encode_vrrp

__all__ = [
    "build_arp_frame",
    "build_carp_frame",
    "build_garp_frame",
    "build_hsrp_frame",
    "build_na_frame",
    "build_udp_frame",
    "build_vrrp_frame",
    "encode_vrrp",
]

_MIN_FRAME = 60  # Ethernet minimum without FCS; receivers see the padding


def _group(family: Family) -> str:
    return IPV6_VRRP_GROUP if family is Family.IPV6 else IPV4_VRRP_GROUP


def _ip_frame(
    *,
    family: Family,
    src_mac: str,
    dst_mac: str | None,
    src_ip: str,
    dst_ip: str,
    proto: int,
    payload: bytes,
    ttl: int,
    tos: int,
    ident: int,
    vlan: int | None,
    pad: bool,
) -> bytes:
    if family is Family.IPV6:
        src, dst = ipv6_bytes(src_ip), ipv6_bytes(dst_ip)
        ip = ipv6_header(
            src=src,
            dst=dst,
            next_header=proto,
            payload_len=len(payload),
            hop_limit=ttl,
            traffic_class=tos,
        )
        default_mac = ipv6_multicast_mac(dst) if dst[0] == 0xFF else BROADCAST
        ethertype = ETH_P_IPV6
    else:
        src, dst = ipv4_bytes(src_ip), ipv4_bytes(dst_ip)
        ip = ipv4_header(
            src=src, dst=dst, proto=proto, payload_len=len(payload), ttl=ttl, tos=tos, ident=ident
        )
        default_mac = ipv4_multicast_mac(dst) if 224 <= dst[0] <= 239 else BROADCAST
        ethertype = ETH_P_IP
    eth = ethernet_header(
        src_mac=src_mac, dst_mac=dst_mac or default_mac, ethertype=ethertype, vlan=vlan
    )
    frame = eth + ip + payload
    return frame.ljust(_MIN_FRAME, b"\x00") if pad else frame


def build_vrrp_frame(
    *,
    src_mac: str,
    src_ip: str,
    vrid: int,
    priority: int = 100,
    interval_cs: int = 100,
    addresses: Sequence[str],
    version: int = 3,
    family: Family = Family.IPV4,
    dst_ip: str | None = None,
    dst_mac: str | None = None,
    auth: Auth = Auth.NONE,
    auth_pass: bytes = b"",
    checksum_form: ChecksumForm = ChecksumForm.PSEUDO,
    ttl: int = 255,
    tos: int = 0xC0,
    ident: int = 0,
    vlan: int | None = None,
    pad: bool = True,
    ah_header: bool = False,
    vrrp: bytes | None = None,
) -> bytes:
    """A VRRP advert frame as keepalived sends it (TTL 255, TOS 0xc0, DF, to the group).

    `vrrp` replaces the encoded message (to frame a crafted one); `ah_header` wraps a v2
    message in an IPsec AH header (RFC 3768 5.3.6.3) with a zero ICV.
    """
    dst = dst_ip or _group(family)
    msg = vrrp
    if msg is None:
        msg = encode_vrrp(
            version=version,
            vrid=vrid,
            priority=priority,
            interval_cs=interval_cs,
            addresses=addresses,
            family=family,
            src_ip=src_ip,
            dst_ip=dst,
            auth=auth,
            auth_pass=auth_pass,
            checksum_form=checksum_form,
        )
    proto = PROTO_VRRP
    if ah_header:
        # next header, length in 32-bit words minus 2, reserved, SPI, sequence, 12-byte ICV
        msg = bytes((PROTO_VRRP, 4, 0, 0)) + (1).to_bytes(4, "big") + bytes(4 + 12) + msg
        proto = PROTO_AH
    return _ip_frame(
        family=family,
        src_mac=src_mac,
        dst_mac=dst_mac,
        src_ip=src_ip,
        dst_ip=dst,
        proto=proto,
        payload=msg,
        ttl=ttl,
        tos=tos,
        ident=ident,
        vlan=vlan,
        pad=pad,
    )


def build_carp_frame(
    *,
    src_mac: str,
    src_ip: str,
    vhid: int,
    advbase: int = 1,
    advskew: int = 0,
    demote: int = 0,
    counter: int = 0,
    family: Family = Family.IPV4,
    dst_ip: str | None = None,
    ttl: int = 255,
    vlan: int | None = None,
) -> bytes:
    """A CARP advert frame (the HMAC is zeros: receivers without the key cannot check it)."""
    msg = encode_carp(vhid=vhid, advbase=advbase, advskew=advskew, demote=demote, counter=counter)
    return _ip_frame(
        family=family,
        src_mac=src_mac,
        dst_mac=None,
        src_ip=src_ip,
        dst_ip=dst_ip or _group(family),
        proto=PROTO_VRRP,
        payload=msg,
        ttl=ttl,
        tos=0x10,
        ident=0,
        vlan=vlan,
        pad=True,
    )


def build_udp_frame(
    *,
    src_mac: str,
    src_ip: str,
    dst_ip: str,
    sport: int,
    dport: int,
    payload: bytes,
    family: Family = Family.IPV4,
    ttl: int = 1,
    vlan: int | None = None,
) -> bytes:
    """A UDP datagram in a frame (HSRP, GLBP), its checksum over the pseudo-header."""
    v6 = family is Family.IPV6
    packed = ipv6_bytes if v6 else ipv4_bytes
    seg = encode_udp(
        payload, sport=sport, dport=dport, addrs=packed(src_ip) + packed(dst_ip), v6=v6
    )
    return _ip_frame(
        family=family,
        src_mac=src_mac,
        dst_mac=None,
        src_ip=src_ip,
        dst_ip=dst_ip,
        proto=PROTO_UDP,
        payload=seg,
        ttl=ttl,
        tos=0xC0,
        ident=0,
        vlan=vlan,
        pad=True,
    )


def build_hsrp_frame(
    *,
    src_mac: str,
    src_ip: str,
    version: int,
    group: int,
    state: HsrpState,
    priority: int = 100,
    op: HsrpOp = HsrpOp.HELLO,
    hello_ms: int = 3000,
    hold_ms: int = 10000,
    vip: str = "",
    family: Family = Family.IPV4,
    md5: bool = False,
    text_key: bytes | None = b"cisco",
) -> bytes:
    """An HSRP hello, coup or resign as a Cisco router sends it (TTL 1, to its group)."""
    v6 = family is Family.IPV6
    msg = encode_hsrp(
        version=version,
        group=group,
        state=state,
        priority=priority,
        op=op,
        hello_ms=hello_ms,
        hold_ms=hold_ms,
        vip=vip,
        family=family,
        identifier=bytes.fromhex(src_mac.replace(":", "")),
        md5=md5,
        text_key=text_key,
    )
    port = HSRP_V6_PORT if v6 else HSRP_PORT
    dst = HSRP_V6_GROUP if v6 else (HSRP_V1_GROUP if version == 1 else HSRP_V2_GROUP)
    return build_udp_frame(
        src_mac=src_mac,
        src_ip=src_ip,
        dst_ip=dst,
        sport=port,
        dport=port,
        payload=msg,
        family=family,
        ttl=255 if v6 else 1,
    )


def build_arp_frame(
    *,
    op: int,
    sender_mac: str,
    sender_ip: str,
    target_ip: str,
    target_mac: str = "00:00:00:00:00:00",
    src_mac: str | None = None,
    dst_mac: str | None = None,
    vlan: int | None = None,
    pad: bool = True,
) -> bytes:
    """An ARP request (op 1, to broadcast) or reply (op 2, to the target MAC)."""
    arp = encode_arp(
        op=op,
        sender_mac=sender_mac,
        sender_ip=sender_ip,
        target_mac=target_mac,
        target_ip=target_ip,
    )
    to = dst_mac or (BROADCAST if op == ARP_REQUEST else target_mac)
    eth = ethernet_header(src_mac=src_mac or sender_mac, dst_mac=to, ethertype=ETH_P_ARP, vlan=vlan)
    frame = eth + arp
    return frame.ljust(_MIN_FRAME, b"\x00") if pad else frame


def build_garp_frame(*, mac: str, ip: str, vlan: int | None = None) -> bytes:
    """A gratuitous ARP as keepalived sends it: a broadcast request for its own address,
    target MAC ff:ff:ff:ff:ff:ff."""
    return build_arp_frame(
        op=ARP_REQUEST,
        sender_mac=mac,
        sender_ip=ip,
        target_ip=ip,
        target_mac=BROADCAST,
        vlan=vlan,
    )


def build_na_frame(
    *,
    src_mac: str,
    src_ip: str,
    target_ip: str,
    target_mac: str | None = None,
    dst_ip: str = IPV6_ALL_NODES,
    router: bool = False,
    solicited: bool = False,
    override: bool = True,
    hop_limit: int = 255,
    lladdr_option: bool = True,
    vlan: int | None = None,
) -> bytes:
    """An unsolicited NA (RFC 4861 7.2.6) to all-nodes with the target link-layer option."""
    option_mac = (target_mac or src_mac) if lladdr_option else None
    msg = encode_na(
        src_ip=src_ip,
        dst_ip=dst_ip,
        target_ip=target_ip,
        target_mac=option_mac,
        router=router,
        solicited=solicited,
        override=override,
    )
    return _ip_frame(
        family=Family.IPV6,
        src_mac=src_mac,
        dst_mac=None,
        src_ip=src_ip,
        dst_ip=dst_ip,
        proto=PROTO_ICMPV6,
        payload=msg,
        ttl=hop_limit,
        tos=0,
        ident=0,
        vlan=vlan,
        pad=True,
    )
