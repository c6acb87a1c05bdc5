"""CARP against tshark's labels: frames built here from OpenBSD's layout (ip_carp.h: a
byte of version 2 and type 1, vhid, advskew, authlen 7, demote, advbase, checksum over
the CARP header, 8-byte counter, 20-byte SHA1-HMAC), read by tshark first, then by hatui.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from hatui.codec.decode import clear_cache, decode
from hatui.codec.frames import CarpAdvert, Family
from tests.corpus.tshark import HAVE_TSHARK, packets, write_pcap

pytestmark = pytest.mark.skipif(not HAVE_TSHARK, reason="needs tshark")

FIELDS = {
    "carp.version",
    "carp.type",
    "carp.vhid",
    "carp.advskew",
    "carp.authlen",
    "carp.demotion",
    "carp.adver_int",
    "carp.checksum.status",
}


@pytest.fixture(autouse=True)
def _cold() -> None:
    clear_cache()


def _sum(data: bytes) -> int:
    total = sum(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def carp_msg(*, vhid: int, advskew: int, demote: int, advbase: int, typever: int = 0x21) -> bytes:
    head = struct.pack("!6BH", typever, vhid, advskew, 7, demote, advbase, 0)
    msg = head + (5).to_bytes(8, "big") + bytes(range(20))
    return msg[:6] + _sum(msg).to_bytes(2, "big") + msg[8:]


def carp_frame(msg: bytes, *, v6: bool) -> bytes:
    mac = "00:00:5e:00:01:07"
    if v6:
        ip6 = IPv6(src="fe80::11", dst="ff02::12", hlim=255, nh=112)
        return bytes(Ether(src=mac, dst="33:33:00:00:00:12") / ip6 / Raw(msg))
    ip4 = IP(src="192.0.2.11", dst="224.0.0.18", ttl=255, proto=112)
    return bytes(Ether(src=mac, dst="01:00:5e:00:00:12") / ip4 / Raw(msg))


def tshark_read(frames: list[bytes], tmp: Path) -> list[dict[str, str]]:
    path = write_pcap(tmp / "carp.pcap", frames)
    got = packets(path, FIELDS, "ip.proto==112,carp")
    return [{k: f.label for k, f in p.items()} for p in got]


@pytest.mark.parametrize("v6", [False, True])
def test_carp_fields_as_tshark_labels_them(v6: bool, tmp_path: Path) -> None:
    cases = [(7, 0, 0, 1), (200, 100, 3, 2), (1, 255, 0, 5)]
    frames = [
        carp_frame(carp_msg(vhid=v, advskew=s, demote=d, advbase=b), v6=v6) for v, s, d, b in cases
    ]
    for (vhid, skew, demote, base), data, t in zip(
        cases, frames, tshark_read(frames, tmp_path), strict=True
    ):
        assert (t["carp.version"], t["carp.type"], t["carp.authlen"]) == ("2", "Advertisement", "7")
        assert t["carp.checksum.status"] == "Good"
        assert [t[f] for f in ("carp.vhid", "carp.advskew", "carp.demotion", "carp.adver_int")] == [
            str(vhid),
            str(skew),
            str(demote),
            str(base),
        ]
        got = decode(data)
        assert isinstance(got, CarpAdvert), got
        assert got.family is (Family.IPV6 if v6 else Family.IPV4)
        assert (got.vhid, got.advskew, got.demote, got.advbase) == (vhid, skew, demote, base)


def test_other_carp_types_and_versions_are_not_carp_adverts(tmp_path: Path) -> None:
    """tshark names only type 1 (Advertisement) and version 2; hatui reads nothing else as
    a CARP advert."""
    frames = [
        carp_frame(carp_msg(vhid=7, advskew=0, demote=0, advbase=1, typever=tv), v6=False)
        for tv in (0x22, 0x31, 0x11)
    ]
    for data, t in zip(frames, tshark_read(frames, tmp_path), strict=True):
        assert (t.get("carp.version"), t.get("carp.type")) != ("2", "Advertisement"), t
        assert not isinstance(decode(data), CarpAdvert)
