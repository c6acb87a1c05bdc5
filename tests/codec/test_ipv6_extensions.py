"""VRRP behind IPv6 extension headers (RFC 8200 4): the chain built with scapy, the
advert by hatui's encoder (its checksum covers the pseudo-header with the upper-layer
length, which extension headers do not change), decoded by hatui."""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import (
    HBHOptUnknown,
    ICMPv6MLReport2,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    RouterAlert,
)
from scapy.layers.ipsec import AH
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw

from hatui.codec.build import encode_vrrp
from hatui.codec.decode import clear_cache, decode
from hatui.codec.frames import Family, Rejected, RejectReason, VrrpAdvert

MAC = "00:00:5e:00:02:07"
SRC = "fe80::11"


@pytest.fixture(autouse=True)
def _cold() -> None:
    clear_cache()


ADVERT = encode_vrrp(
    version=3,
    vrid=7,
    priority=120,
    interval_cs=100,
    addresses=["2001:db8::100"],
    family=Family.IPV6,
    src_ip=SRC,
    dst_ip="ff02::12",
)


def frame(*ext: Packet, hlim: int = 255) -> bytes:
    ip: Packet = IPv6(src=SRC, dst="ff02::12", hlim=hlim)
    for i, e in enumerate(ext):
        if i == len(ext) - 1:
            e.nh = 112
        ip = ip / e
    return bytes(Ether(src=MAC, dst="33:33:00:00:00:12") / ip / Raw(ADVERT))


@pytest.mark.parametrize(
    "ext",
    [
        (IPv6ExtHdrHopByHop(options=[RouterAlert()]),),
        (IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x1E, optdata=b"\x00" * 4)]),),
        (IPv6ExtHdrHopByHop(options=[RouterAlert()]), IPv6ExtHdrDestOpt()),
        (IPv6ExtHdrRouting(addresses=[]),),
        (IPv6ExtHdrHopByHop(), AH(spi=1, seq=1, payloadlen=4, icv=b"\x00" * 12)),
    ],
    ids=["hop-by-hop", "dest-opts", "hbh+dest", "routing", "hbh+ah"],
)
def test_vrrp_behind_extension_headers_is_decoded(ext: tuple[Packet, ...]) -> None:
    data = frame(*ext)
    got = decode(data)
    assert isinstance(got, VrrpAdvert), got
    assert (got.family, got.vrid, got.priority, got.interval_cs) == (Family.IPV6, 7, 120, 100)
    assert got.addresses == ("2001:db8::100",) and got.src_ip == SRC
    assert decode(data) is got  # memoised like any IPv6 advert


def test_hop_limit_still_checked_behind_extensions() -> None:
    got = decode(frame(IPv6ExtHdrHopByHop(options=[RouterAlert()]), hlim=1))
    assert isinstance(got, Rejected) and got.reason is RejectReason.TTL


def test_fragmented_advert_is_malformed() -> None:
    got = decode(frame(IPv6ExtHdrFragment(m=1, id=5)))
    assert isinstance(got, Rejected) and got.reason is RejectReason.MALFORMED
    assert "fragment" in got.detail and got.src_ip == SRC


def test_truncated_extension_header_is_length() -> None:
    data = bytearray(frame(IPv6ExtHdrHopByHop(options=[RouterAlert()])))
    data[55] = 40  # hop-by-hop length: 328 bytes, past the payload
    got = decode(bytes(data))
    assert isinstance(got, Rejected) and got.reason is RejectReason.LENGTH


def test_extension_loop_is_bounded() -> None:
    hbh = [IPv6ExtHdrDestOpt() for _ in range(9)]
    got = decode(frame(*hbh))
    assert isinstance(got, Rejected) and "chain too long" in got.detail


def test_mld_behind_hop_by_hop_is_not_ours() -> None:
    data = bytes(
        Ether(src=MAC, dst="33:33:00:00:00:16")
        / IPv6(src=SRC, dst="ff02::16", hlim=1)
        / IPv6ExtHdrHopByHop(options=[RouterAlert()])
        / ICMPv6MLReport2()
    )
    assert decode(data) is None
