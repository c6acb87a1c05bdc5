"""IPv4 and IPv6 headers: address text, and header builders for crafted frames."""

from __future__ import annotations

import ipaddress
import struct

from hatui.codec.checksum import internet_checksum

PROTO_AH = 51
IPV4_HEADER = struct.Struct("!BBHHHBBH4s4s")
IPV6_HEADER = struct.Struct("!IHBB16s16s")
IPV4_DF = 0x4000
IPV4_MF = 0x2000
IPV4_OFFSET_MASK = 0x1FFF
IPV4_VRRP_GROUP = "224.0.0.18"  # RFC 5798 5.1.1.2
IPV6_VRRP_GROUP = "ff02::12"  # RFC 5798 5.1.2.2
IPV6_ALL_NODES = "ff02::1"

# Address text is cached per raw bytes: captures repeat a handful of addresses, and the
# codec may not use socket.inet_ntop (pure layers import no socket, see pyproject).
_TEXT: dict[bytes, str] = {}
_TEXT_MAX = 4096


def ipv4_text(raw: bytes) -> str:
    """Four bytes as dotted quad."""
    text = _TEXT.get(raw)
    if text is None:
        text = f"{raw[0]}.{raw[1]}.{raw[2]}.{raw[3]}"
        _remember(raw, text)
    return text


def ipv6_text(raw: bytes) -> str:
    """Sixteen bytes in RFC 5952 compressed form."""
    text = _TEXT.get(raw)
    if text is None:
        text = ipaddress.IPv6Address(raw).compressed
        _remember(raw, text)
    return text


def _remember(raw: bytes, text: str) -> None:
    if len(_TEXT) >= _TEXT_MAX:
        _TEXT.clear()
    _TEXT[raw] = text


def ipv4_bytes(text: str) -> bytes:
    """Dotted quad to four bytes; raises ValueError otherwise."""
    return ipaddress.IPv4Address(text).packed


def ipv6_bytes(text: str) -> bytes:
    """IPv6 text to sixteen bytes; raises ValueError otherwise."""
    return ipaddress.IPv6Address(text).packed


def ipv4_header(
    *,
    src: bytes,
    dst: bytes,
    proto: int,
    payload_len: int,
    ttl: int = 255,
    tos: int = 0xC0,
    ident: int = 0,
    df: bool = True,
) -> bytes:
    """A 20-byte IPv4 header with a correct header checksum. TOS 0xc0 is what keepalived sends."""
    fields = [0x45, tos, 20 + payload_len, ident, IPV4_DF if df else 0, ttl, proto, 0, src, dst]
    fields[7] = internet_checksum(IPV4_HEADER.pack(*fields))
    return IPV4_HEADER.pack(*fields)


def ipv6_header(
    *,
    src: bytes,
    dst: bytes,
    next_header: int,
    payload_len: int,
    hop_limit: int = 255,
    traffic_class: int = 0,
    flow_label: int = 0,
) -> bytes:
    """A 40-byte IPv6 header without extension headers."""
    first = 6 << 28 | (traffic_class & 0xFF) << 20 | (flow_label & 0xFFFFF)
    return IPV6_HEADER.pack(first, payload_len, next_header, hop_limit, src, dst)
