"""CARP advertisements (OpenBSD/FreeBSD): recognised and labelled, never read as VRRP.

CARP shares IP protocol 112 and the group 224.0.0.18 (ff02::12) with VRRP, and its first
byte is 0x21 (version 2, type 1), exactly VRRPv2's. The heuristic that tells them apart:

    first byte 0x21, fourth byte (CARP authlen, VRRPv2 address count) == 7, and the
    message is exactly 36 bytes.

CARP's header is 36 bytes (type/version, vhid, advskew, authlen=7, demote, advbase,
checksum, 8-byte counter, 20-byte SHA1-HMAC) and its authlen is always 7 (counter plus
digest, in 32-bit words). Read as VRRPv2, that fourth byte is the address count, and a
VRRPv2 message with 7 addresses is 8 + 28 + 8 = 44 bytes, never 36. So no consistent
VRRPv2 message matches, and a CARP advert never reaches the VRRP parser.
"""

from __future__ import annotations

import struct

from hatui.codec.checksum import PROTO_VRRP, finish, is_valid, pseudo_sum_v6, word_sum
from hatui.codec.frames import CarpAdvert, Family, Link, Protocol, Rejected, RejectReason
from hatui.codec.ip import ipv4_text, ipv6_text

CARP_LEN = 36
CARP_AUTHLEN = 7
_FIRST = 0x21  # version 2, type 1 (CARP_ADVERTISEMENT)
_HEAD = struct.Struct("!BBBBBBH")


def is_carp(msg: bytes) -> bool:
    """The heuristic in the module docstring."""
    return len(msg) == CARP_LEN and msg[0] == _FIRST and msg[3] == CARP_AUTHLEN


def is_truncated_carp(msg: bytes) -> bool:
    """CARP's first and fourth bytes in a message shorter than CARP's 36: a VRRPv2 advert
    with 7 addresses would be at least 44 bytes, so this is a cut CARP advert."""
    return 4 <= len(msg) < CARP_LEN and msg[0] == _FIRST and msg[3] == CARP_AUTHLEN


def parse_carp(msg: bytes, *, v6: bool, addrs: bytes, link: Link) -> CarpAdvert | Rejected:
    """Parse a message `is_carp` accepted; the checksum covers the CARP header only."""
    alen = 16 if v6 else 4
    text = ipv6_text if v6 else ipv4_text
    src = text(addrs[:alen])
    _vt, vhid, advskew, _authlen, demote, advbase, _ck = _HEAD.unpack_from(msg)
    body = word_sum(msg)
    # OpenBSD and FreeBSD sum the CARP header alone, also over IPv6; a pseudo-header
    # form is tolerated there in case a stack follows the ICMPv6 convention.
    if not is_valid(body) and not (v6 and is_valid(body + pseudo_sum_v6(addrs, PROTO_VRRP, 36))):
        return Rejected(
            reason=RejectReason.CHECKSUM,
            detail="CARP checksum",
            link=link,
            src_ip=src,
            vrid=vhid,
            protocol=Protocol.CARP,
        )
    return CarpAdvert(
        link=link,
        family=Family.IPV6 if v6 else Family.IPV4,
        src_ip=src,
        dst_ip=text(addrs[alen:]),
        vhid=vhid,
        advbase=advbase,
        advskew=advskew,
        demote=demote,
    )


def encode_carp(
    *,
    vhid: int,
    advbase: int = 1,
    advskew: int = 0,
    demote: int = 0,
    counter: int = 0,
    digest: bytes = bytes(20),
) -> bytes:
    """A 36-byte CARP advertisement with its checksum (the HMAC is the caller's bytes)."""
    if len(digest) != 20:
        raise ValueError("CARP digest is 20 bytes (SHA1-HMAC)")
    head = _HEAD.pack(_FIRST, vhid, advskew, CARP_AUTHLEN, demote, advbase, 0)
    msg = head + counter.to_bytes(8, "big") + digest
    return msg[:6] + finish(word_sum(msg)).to_bytes(2, "big") + msg[8:]
