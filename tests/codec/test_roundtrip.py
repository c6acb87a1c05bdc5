"""Every builder's frame decodes back to the fields it was built with."""

from __future__ import annotations

import pytest

from hatui.codec.build import (
    build_arp_frame,
    build_carp_frame,
    build_garp_frame,
    build_na_frame,
    build_vrrp_frame,
)
from hatui.codec.decode import clear_cache, decode, decode_ip
from hatui.codec.frames import (
    ArpFrame,
    Auth,
    CarpAdvert,
    ChecksumForm,
    Family,
    Link,
    NeighborAdvert,
    Rejected,
    VrrpAdvert,
)

MAC = "02:00:00:00:00:11"
MAC2 = "02:00:00:00:00:12"


@pytest.fixture(autouse=True)
def _cold() -> None:
    clear_cache()


def advert(frame: bytes) -> VrrpAdvert:
    got = decode(frame)
    assert isinstance(got, VrrpAdvert), got
    return got


@pytest.mark.parametrize(
    ("auth", "password", "auth_data", "auth_type"),
    [
        (Auth.NONE, b"", b"", 0),
        (Auth.SIMPLE, b"secret", b"secret\x00\x00", 1),
        (Auth.SIMPLE, b"longpassword", b"longpass", 1),
        (Auth.AH, b"", b"", 2),
        (Auth.CISCO_MD5, b"", b"", 254),
    ],
)
def test_v2_round_trip(auth: Auth, password: bytes, auth_data: bytes, auth_type: int) -> None:
    frame = build_vrrp_frame(
        src_mac=MAC,
        src_ip="192.0.2.11",
        vrid=51,
        priority=150,
        interval_cs=300,
        addresses=["192.0.2.100", "192.0.2.101"],
        version=2,
        auth=auth,
        auth_pass=password,
    )
    got = advert(frame)
    assert got == VrrpAdvert(
        link=Link(src_mac=MAC, dst_mac="01:00:5e:00:00:12"),
        family=Family.IPV4,
        src_ip="192.0.2.11",
        dst_ip="224.0.0.18",
        ttl=255,
        version=2,
        vrid=51,
        priority=150,
        interval_cs=300,
        addresses=("192.0.2.100", "192.0.2.101"),
        auth=auth,
        auth_data=auth_data,
        checksum_form=ChecksumForm.V2,
        auth_type=auth_type,
    )


def test_v2_inside_ah_header() -> None:
    frame = build_vrrp_frame(
        src_mac=MAC,
        src_ip="192.0.2.11",
        vrid=7,
        addresses=["192.0.2.100"],
        version=2,
        auth=Auth.AH,
        ah_header=True,
    )
    assert frame[14 + 9] == 51
    got = advert(frame)
    assert (got.auth, got.vrid, got.addresses) == (Auth.AH, 7, ("192.0.2.100",))


@pytest.mark.parametrize("form", [ChecksumForm.PSEUDO, ChecksumForm.PLAIN])
def test_v3_ipv4_both_checksum_forms(form: ChecksumForm) -> None:
    frame = build_vrrp_frame(
        src_mac=MAC,
        src_ip="192.0.2.12",
        vrid=9,
        priority=254,
        interval_cs=35,
        addresses=["192.0.2.100"],
        version=3,
        checksum_form=form,
    )
    got = advert(frame)
    assert (got.version, got.vrid, got.priority, got.interval_cs) == (3, 9, 254, 35)
    assert got.checksum_form is form


def test_v3_ipv6_round_trip() -> None:
    frame = build_vrrp_frame(
        src_mac=MAC,
        src_ip="fe80::11",
        vrid=200,
        priority=0,
        interval_cs=4095,
        addresses=["fe80::1", "2001:db8::100"],
        version=3,
        family=Family.IPV6,
    )
    got = advert(frame)
    assert got == VrrpAdvert(
        link=Link(src_mac=MAC, dst_mac="33:33:00:00:00:12"),
        family=Family.IPV6,
        src_ip="fe80::11",
        dst_ip="ff02::12",
        ttl=255,
        version=3,
        vrid=200,
        priority=0,
        interval_cs=4095,
        addresses=("fe80::1", "2001:db8::100"),
        checksum_form=ChecksumForm.PSEUDO,
    )


@pytest.mark.parametrize("vlan", [0, 10, 4095])
def test_vlan_tag(vlan: int) -> None:
    frame = build_vrrp_frame(
        src_mac=MAC, src_ip="192.0.2.11", vrid=1, addresses=["192.0.2.100"], vlan=vlan
    )
    assert advert(frame).link.vlan == vlan


def test_stacked_tags_report_the_inner_vlan() -> None:
    inner = build_vrrp_frame(
        src_mac=MAC, src_ip="192.0.2.11", vrid=1, addresses=["192.0.2.100"], vlan=20
    )
    outer = inner[:12] + b"\x88\xa8\x00\x64" + inner[12:]
    got = advert(outer)
    assert got.link.vlan == 20
    triple = outer[:12] + b"\x81\x00\x00\x05" + outer[12:]
    assert decode(triple) is None


def test_unicast_advert_and_padding() -> None:
    frame = build_vrrp_frame(
        src_mac=MAC,
        src_ip="192.0.2.11",
        dst_ip="192.0.2.12",
        dst_mac=MAC2,
        vrid=3,
        addresses=["192.0.2.100"],
        pad=False,
    )
    assert len(frame) < 60
    got = advert(frame)
    assert (got.dst_ip, got.link.dst_mac) == ("192.0.2.12", MAC2)
    assert advert(frame + bytes(20)) == got  # Ethernet padding after IP's total length


def test_cache_keeps_results_per_content() -> None:
    a = build_vrrp_frame(src_mac=MAC, src_ip="192.0.2.11", vrid=1, addresses=["192.0.2.100"])
    b = build_vrrp_frame(
        src_mac=MAC, src_ip="192.0.2.11", vrid=1, addresses=["192.0.2.100"], ident=77
    )
    c = build_vrrp_frame(
        src_mac=MAC, src_ip="192.0.2.11", vrid=1, priority=99, addresses=["192.0.2.100"]
    )
    assert decode(a) is decode(b)  # identification differs only
    assert advert(c).priority == 99
    bad_ttl = build_vrrp_frame(
        src_mac=MAC, src_ip="192.0.2.11", vrid=1, addresses=["192.0.2.100"], ttl=64
    )
    assert isinstance(decode(bad_ttl), Rejected)


@pytest.mark.parametrize("op", [1, 2])
def test_arp_request_and_reply(op: int) -> None:
    frame = build_arp_frame(
        op=op,
        sender_mac=MAC,
        sender_ip="192.0.2.11",
        target_ip="192.0.2.12",
        target_mac=MAC2 if op == 2 else "00:00:00:00:00:00",
    )
    got = decode(frame)
    assert got == ArpFrame(
        link=Link(src_mac=MAC, dst_mac="ff:ff:ff:ff:ff:ff" if op == 1 else MAC2),
        op=op,
        sender_mac=MAC,
        sender_ip="192.0.2.11",
        target_mac=MAC2 if op == 2 else "00:00:00:00:00:00",
        target_ip="192.0.2.12",
    )
    assert not got.gratuitous


def test_gratuitous_arp() -> None:
    got = decode(build_garp_frame(mac=MAC, ip="192.0.2.100", vlan=5))
    assert isinstance(got, ArpFrame)
    assert got.gratuitous and got.op == 1 and got.target_mac == "ff:ff:ff:ff:ff:ff"
    assert got.link.vlan == 5


def test_unsolicited_na() -> None:
    frame = build_na_frame(src_mac=MAC, src_ip="fe80::11", target_ip="2001:db8::100")
    assert decode(frame) == NeighborAdvert(
        link=Link(src_mac=MAC, dst_mac="33:33:00:00:00:01"),
        src_ip="fe80::11",
        dst_ip="ff02::1",
        target_ip="2001:db8::100",
        target_mac=MAC,
        router=False,
        solicited=False,
        override=True,
    )


def test_na_without_option_and_flags() -> None:
    frame = build_na_frame(
        src_mac=MAC,
        src_ip="fe80::11",
        dst_ip="fe80::12",
        target_ip="2001:db8::1",
        router=True,
        solicited=True,
        override=False,
        lladdr_option=False,
    )
    got = decode(frame)
    assert isinstance(got, NeighborAdvert)
    assert (got.router, got.solicited, got.override, got.target_mac) == (True, True, False, None)
    assert not got.gratuitous


@pytest.mark.parametrize("family", [Family.IPV4, Family.IPV6])
def test_carp_is_never_vrrp(family: Family) -> None:
    src = "192.0.2.11" if family is Family.IPV4 else "fe80::11"
    frame = build_carp_frame(
        src_mac=MAC, src_ip=src, vhid=12, advbase=2, advskew=100, counter=2**40, family=family
    )
    assert decode(frame) == CarpAdvert(
        link=Link(
            src_mac=MAC,
            dst_mac="01:00:5e:00:00:12" if family is Family.IPV4 else "33:33:00:00:00:12",
        ),
        family=family,
        src_ip=src,
        dst_ip="224.0.0.18" if family is Family.IPV4 else "ff02::12",
        vhid=12,
        advbase=2,
        advskew=100,
    )


def test_vrrp_v2_with_seven_addresses_is_not_carp() -> None:
    addrs = [f"192.0.2.{100 + i}" for i in range(7)]
    frame = build_vrrp_frame(src_mac=MAC, src_ip="192.0.2.11", vrid=5, addresses=addrs, version=2)
    assert advert(frame).addresses == tuple(addrs)


def test_decode_ip_without_ethernet() -> None:
    link = Link(src_mac=MAC, dst_mac="01:00:5e:00:00:12")
    frame = build_vrrp_frame(src_mac=MAC, src_ip="192.0.2.11", vrid=4, addresses=["192.0.2.9"])
    got = decode_ip(frame[14:], link)
    assert isinstance(got, VrrpAdvert) and got.link is link and got.vrid == 4
    v6 = build_vrrp_frame(
        src_mac=MAC, src_ip="fe80::1", vrid=4, addresses=["fe80::9"], family=Family.IPV6
    )
    got6 = decode_ip(v6[14:], link)
    assert isinstance(got6, VrrpAdvert) and got6.family is Family.IPV6
    assert isinstance(decode_ip(b"", link), Rejected)
    assert isinstance(decode_ip(b"\x50" + bytes(30), link), Rejected)


def test_other_traffic_is_ignored() -> None:
    frame = bytearray(
        build_vrrp_frame(src_mac=MAC, src_ip="192.0.2.11", vrid=1, addresses=["192.0.2.9"])
    )
    frame[14 + 9] = 17  # UDP
    assert decode(bytes(frame)) is None
    frame[12:14] = b"\x88\xcc"  # LLDP
    assert decode(bytes(frame)) is None
    assert decode(b"") is None


def test_builders_refuse_impossible_adverts() -> None:
    with pytest.raises(ValueError):
        build_vrrp_frame(
            src_mac=MAC,
            src_ip="fe80::1",
            vrid=1,
            addresses=["fe80::2"],
            version=2,
            family=Family.IPV6,
        )
    with pytest.raises(ValueError):
        build_vrrp_frame(
            src_mac=MAC,
            src_ip="192.0.2.1",
            vrid=1,
            addresses=["192.0.2.2"],
            version=2,
            interval_cs=150,
        )
    with pytest.raises(ValueError):
        build_vrrp_frame(
            src_mac=MAC, src_ip="192.0.2.1", vrid=1, addresses=["192.0.2.2"], interval_cs=5000
        )
