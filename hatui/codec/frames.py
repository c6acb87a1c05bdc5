"""Typed frames the codec produces: the contract between codec, observer and node.

Addresses are text (`"192.0.2.11"`, `"2001:db8::1"`, `"02:00:00:00:00:11"`): they are
compared, hashed and printed far more often than they are computed with, and text keeps
the JSON and display edges free of conversions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum, StrEnum

from hatui.types import WallUs


class Family(StrEnum):
    IPV4 = "ipv4"
    IPV6 = "ipv6"


class Protocol(StrEnum):
    """Which first-hop redundancy protocol a frame, router, failover or event is about."""

    VRRP = "vrrp"
    CARP = "carp"  # OpenBSD / FreeBSD / pfSense: IP protocol 112 like VRRP
    HSRP = "hsrp"  # Cisco: UDP 1985 (v1, v2 over IPv4) and 2029 (IPv6)
    GLBP = "glbp"  # Cisco: UDP 3222, counted and labelled only


class Auth(StrEnum):
    """VRRPv2 authentication type (RFC 3768 5.3.6); v3 has none.

    Deployed boxes send more than the RFC's three: Cisco IOS `vrrp N authentication md5`
    sends type 254 with a key-chain TLV after the auth data. An observer cannot verify
    it (no key), and other types are shown by number rather than dropped.
    """

    NONE = "none"
    SIMPLE = "simple"
    AH = "ah"
    CISCO_MD5 = "cisco-md5"  # type 254
    UNKNOWN = "unknown"  # any other type: the number is in VrrpAdvert.auth_type


class ChecksumForm(StrEnum):
    """Which checksum computation a received advert matched (or a sender uses).

    v2 covers the VRRP message only. v3 over IPv4 is computed with the IPv4 pseudo-header
    by keepalived, Wireshark and scapy, and without it by RFC 9568's reading and some
    vendors; v3 over IPv6 always uses the pseudo-header.
    """

    V2 = "v2"
    PSEUDO = "pseudo"
    PLAIN = "plain"


class RejectReason(StrEnum):
    """Why a frame that looked like VRRP failed the RFC receive checks (RFC 5798 7.1)."""

    TTL = "ttl"  # IPv4 TTL / IPv6 hop limit not 255
    CHECKSUM = "checksum"
    VERSION = "version"  # VRRP version not 2 or 3, or v2 over IPv6
    TYPE = "type"  # VRRP type not 1 (ADVERTISEMENT)
    LENGTH = "length"  # truncated, or length disagrees with the address count
    ADDRESS_COUNT = "address_count"  # count 0, or addresses that cannot fit
    # Kept as a counter of the JSON contract; the codec shows every v2 auth type (an
    # observer cannot judge Cisco's MD5 or unknown types) and the node discards foreign
    # auth on its own receive path (vrrp/receive.py).
    AUTH = "auth"
    VRID = "vrid"  # VRID 0
    MALFORMED = "malformed"  # broken Ethernet/IP/ARP/ND headers
    PORT = "port"  # HSRP/GLBP on the wrong UDP port or family (v6 HSRP is 2029, v4 1985)
    TLV = "tlv"  # HSRPv2 / GLBP TLVs that overrun the message or lack the group state


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """The Ethernet envelope of a frame."""

    src_mac: str
    dst_mac: str
    vlan: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VrrpAdvert:
    """A VRRP ADVERTISEMENT that passed the receive checks."""

    link: Link
    family: Family
    src_ip: str
    dst_ip: str
    ttl: int
    version: int  # 2 or 3
    vrid: int
    priority: int
    # Advertisement interval in centiseconds: v3 carries it so; v2's seconds are scaled by 100.
    interval_cs: int
    addresses: tuple[str, ...]
    auth: Auth = Auth.NONE
    # v2 simple password as sent (8 bytes, NUL padded); empty otherwise.
    auth_data: bytes = b""
    checksum_form: ChecksumForm = ChecksumForm.PSEUDO
    auth_type: int = 0  # v2's auth type as on the wire (0 for v3)
    # Bytes after the RFC message (v2: Cisco's MD5 key-chain TLV). The observer shows such
    # adverts (RFC 3768 7.1 only asks for at least the header); the node discards them.
    trailer_len: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CarpAdvert:
    """A CARP advertisement: same IP protocol (112) and group, never read as VRRP."""

    link: Link
    family: Family
    src_ip: str
    dst_ip: str
    vhid: int
    advbase: int
    advskew: int
    demote: int = 0  # OpenBSD's demotion counter: a higher value loses elections


class HsrpOp(IntEnum):
    """HSRP op codes (RFC 2281 5; v2 keeps them)."""

    HELLO = 0
    COUP = 1  # a higher priority router takes over (preempt)
    RESIGN = 2  # the active router gives up (shutdown, lower priority)


class HsrpState(Enum):
    """HSRP router states by name, in the order of the state machine (RFC 2281; Cisco's
    v2 adds Disabled below Initial).

    A state has no number of its own: v1 sends 0, 1, 2, 4, 8, 16 (RFC 2281) and v2's
    Group State TLV 0-6, so the codec holds one table per version (hatui/codec/hsrp.py).
    Members do not compare with `<`; `rank` orders them.
    """

    DISABLED = "disabled"
    INITIAL = "initial"
    LEARN = "learn"
    LISTEN = "listen"
    SPEAK = "speak"
    STANDBY = "standby"
    ACTIVE = "active"

    @property
    def rank(self) -> int:
        """Its place in the state machine: Disabled 0 up to Active 6."""
        return _HSRP_RANK[self]


_HSRP_RANK = {state: i for i, state in enumerate(HsrpState)}


@dataclass(frozen=True, slots=True, kw_only=True)
class HsrpHello:
    """An HSRP hello, coup or resign (v1 RFC 2281, v2 Cisco's TLV format, IPv4 or IPv6).

    Unlike VRRP, every router in Speak, Standby or Active state sends hellos, so standbys
    are heard all the time.
    """

    link: Link
    family: Family
    src_ip: str
    dst_ip: str
    version: int  # 1 or 2
    op: HsrpOp
    state: HsrpState
    group: int  # v1 0-255, v2 0-4095
    priority: int
    hello_ms: int
    hold_ms: int
    vip: str  # "" when the router has not learnt it (0.0.0.0 / ::)
    auth: str  # "none" (v2 without an auth TLV), "text" or "md5"
    auth_data: bytes = b""  # the text key as sent (v1 default "cisco"); empty for MD5
    identifier: str = ""  # v2: the sender's MAC as it names itself


@dataclass(frozen=True, slots=True, kw_only=True)
class GlbpHello:
    """A GLBP message (Cisco, UDP 3222): counted and labelled, never read as anything else."""

    link: Link
    family: Family
    src_ip: str
    group: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ArpFrame:
    """An Ethernet/IPv4 ARP request or reply."""

    link: Link
    op: int  # 1 request, 2 reply
    sender_mac: str
    sender_ip: str
    target_mac: str
    target_ip: str

    @property
    def gratuitous(self) -> bool:
        """A gratuitous ARP announces the sender's own address (request or reply)."""
        return self.sender_ip == self.target_ip


@dataclass(frozen=True, slots=True, kw_only=True)
class NeighborAdvert:
    """An ICMPv6 neighbour advertisement: IPv6's answer to 'who has' and its gratuitous ARP."""

    link: Link
    src_ip: str
    dst_ip: str
    target_ip: str
    target_mac: str | None  # target link-layer address option, if present
    router: bool
    solicited: bool
    override: bool

    @property
    def gratuitous(self) -> bool:
        """An unsolicited NA is IPv6's gratuitous ARP."""
        return not self.solicited


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejected:
    """A frame that failed a receive check: counted by reason, never raised."""

    reason: RejectReason
    detail: str
    link: Link | None = None
    src_ip: str | None = None
    vrid: int | None = None
    # What the frame was read as: VRRP for IP protocol 112 (and ARP/ND, read for VRRP's
    # sake), CARP once its layout is recognised, HSRP/GLBP by UDP port.
    protocol: Protocol = Protocol.VRRP


Frame = VrrpAdvert | CarpAdvert | HsrpHello | GlbpHello | ArpFrame | NeighborAdvert
Decoded = Frame | Rejected | None  # None: not a frame hatui looks at


@dataclass(frozen=True, slots=True, kw_only=True)
class Captured:
    """One decoded frame with the capture's wall-clock timestamp and interface."""

    time: WallUs
    interface: str
    frame: Frame | Rejected


VIRTUAL_MAC_PREFIX_V4 = "00:00:5e:00:01:"
VIRTUAL_MAC_PREFIX_V6 = "00:00:5e:00:02:"


def virtual_mac(family: Family, vrid: int) -> str:
    """The VRRP virtual MAC of RFC 5798 7.3 for this family and VRID."""
    prefix = VIRTUAL_MAC_PREFIX_V4 if family is Family.IPV4 else VIRTUAL_MAC_PREFIX_V6
    return f"{prefix}{vrid:02x}"


def is_virtual_mac(mac: str) -> bool:
    """True for 00:00:5e:00:01:XX and 00:00:5e:00:02:XX."""
    return mac.startswith((VIRTUAL_MAC_PREFIX_V4, VIRTUAL_MAC_PREFIX_V6))
