"""scapy as the oracle: it builds and we decode, we build and it parses; checksums agree."""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP
from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, IPv6
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.layers.vrrp import VRRP, VRRPv3
from scapy.packet import Packet

from hatui.codec.build import build_arp_frame, build_na_frame, build_vrrp_frame
from hatui.codec.decode import clear_cache, decode
from hatui.codec.frames import (
    ArpFrame,
    Auth,
    ChecksumForm,
    Family,
    NeighborAdvert,
    VrrpAdvert,
)

MAC = "02:00:00:00:00:11"


@pytest.fixture(autouse=True)
def _cold() -> None:
    clear_cache()


def v4(payload: Packet, ttl: int = 255, dst: str = "224.0.0.18") -> bytes:
    return bytes(
        Ether(src=MAC, dst="01:00:5e:00:00:12")
        / IP(src="192.0.2.11", dst=dst, ttl=ttl, proto=112)
        / payload
    )


@pytest.mark.parametrize(("authtype", "auth"), [(0, Auth.NONE), (1, Auth.SIMPLE), (2, Auth.AH)])
def test_scapy_vrrp_v2_decodes(authtype: int, auth: Auth) -> None:
    pkt = VRRP(
        vrid=51,
        priority=150,
        adv=2,
        authtype=authtype,
        addrlist=["192.0.2.100", "192.0.2.101"],
        auth1=0x70617373,
        auth2=0x776F7264,
    )
    got = decode(v4(pkt))
    assert isinstance(got, VrrpAdvert), got
    assert (got.version, got.vrid, got.priority, got.interval_cs) == (2, 51, 150, 200)
    assert got.addresses == ("192.0.2.100", "192.0.2.101")
    assert got.auth is auth and got.checksum_form is ChecksumForm.V2
    assert got.auth_data == (b"password" if auth is Auth.SIMPLE else b"")


def test_scapy_vrrp_v3_ipv4_uses_the_pseudo_header() -> None:
    pkt = VRRPv3(vrid=9, priority=200, adv=50, addrlist=["192.0.2.100"])
    got = decode(v4(pkt))
    assert isinstance(got, VrrpAdvert), got
    assert (got.version, got.vrid, got.priority, got.interval_cs) == (3, 9, 200, 50)
    assert got.checksum_form is ChecksumForm.PSEUDO


def test_scapy_vrrp_v3_ipv6_with_vlan() -> None:
    pkt = (
        Ether(src=MAC, dst="33:33:00:00:00:12")
        / Dot1Q(vlan=42)
        / IPv6(src="fe80::11", dst="ff02::12", hlim=255)
        / VRRPv3(vrid=77, priority=100, adv=100, addrlist=["fe80::1", "2001:db8::100"])
    )
    got = decode(bytes(pkt))
    assert isinstance(got, VrrpAdvert), got
    assert got.family is Family.IPV6 and got.link.vlan == 42
    assert got.addresses == ("fe80::1", "2001:db8::100")


def test_scapy_arp_and_na_decode() -> None:
    arp = Ether(src=MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(
        op=2, hwsrc=MAC, psrc="192.0.2.100", hwdst="ff:ff:ff:ff:ff:ff", pdst="192.0.2.100"
    )
    got = decode(bytes(arp))
    assert isinstance(got, ArpFrame) and got.op == 2 and got.gratuitous
    assert (got.sender_mac, got.sender_ip) == (MAC, "192.0.2.100")
    na = (
        Ether(src=MAC, dst="33:33:00:00:00:01")
        / IPv6(src="fe80::11", dst="ff02::1", hlim=255)
        / ICMPv6ND_NA(tgt="2001:db8::100", R=0, S=0, O=1)
        / ICMPv6NDOptDstLLAddr(lladdr=MAC)
    )
    got_na = decode(bytes(na))
    assert isinstance(got_na, NeighborAdvert), got_na
    assert (got_na.target_ip, got_na.target_mac, got_na.override) == ("2001:db8::100", MAC, True)


@pytest.mark.parametrize("auth", [Auth.NONE, Auth.SIMPLE, Auth.AH])
def test_our_v2_parses_in_scapy(auth: Auth) -> None:
    frame = build_vrrp_frame(
        src_mac=MAC,
        src_ip="192.0.2.11",
        vrid=51,
        priority=150,
        interval_cs=100,
        addresses=["192.0.2.100"],
        version=2,
        auth=auth,
        auth_pass=b"secret",
    )
    pkt = Ether(frame)
    vrrp = pkt[VRRP]
    assert (vrrp.version, vrrp.vrid, vrrp.priority, vrrp.adv) == (2, 51, 150, 1)
    assert vrrp.addrlist == ["192.0.2.100"]
    assert vrrp.authtype == {Auth.NONE: 0, Auth.SIMPLE: 1, Auth.AH: 2}[auth]
    assert pkt[IP].ttl == 255 and pkt[IP].tos == 0xC0 and pkt[IP].flags == "DF"
    assert_checksums_match_scapy(pkt, VRRP)


@pytest.mark.parametrize("family", [Family.IPV4, Family.IPV6])
def test_our_v3_parses_in_scapy(family: Family) -> None:
    v6 = family is Family.IPV6
    frame = build_vrrp_frame(
        src_mac=MAC,
        src_ip="fe80::11" if v6 else "192.0.2.11",
        vrid=8,
        priority=90,
        interval_cs=20,
        addresses=["2001:db8::100"] if v6 else ["192.0.2.100"],
        family=family,
    )
    pkt = Ether(frame)
    vrrp = pkt[VRRPv3]
    assert (vrrp.version, vrrp.vrid, vrrp.priority, vrrp.adv) == (3, 8, 90, 20)
    assert_checksums_match_scapy(pkt, VRRPv3)


def test_plain_form_is_not_scapys() -> None:
    frame = build_vrrp_frame(
        src_mac=MAC,
        src_ip="192.0.2.11",
        vrid=8,
        addresses=["192.0.2.100"],
        checksum_form=ChecksumForm.PLAIN,
    )
    pkt = Ether(frame)
    ours = pkt[VRRPv3].chksum
    del pkt[VRRPv3].chksum
    assert Ether(bytes(pkt))[VRRPv3].chksum != ours


def test_our_arp_and_na_parse_in_scapy() -> None:
    arp = Ether(
        build_arp_frame(op=1, sender_mac=MAC, sender_ip="192.0.2.11", target_ip="192.0.2.12")
    )
    assert (arp[ARP].op, arp[ARP].hwsrc, arp[ARP].psrc, arp[ARP].pdst) == (
        1,
        MAC,
        "192.0.2.11",
        "192.0.2.12",
    )
    na = Ether(build_na_frame(src_mac=MAC, src_ip="fe80::11", target_ip="2001:db8::100"))
    assert na[IPv6].hlim == 255 and na[IPv6].dst == "ff02::1"
    assert (na[ICMPv6ND_NA].tgt, na[ICMPv6ND_NA].O, na[ICMPv6ND_NA].S) == ("2001:db8::100", 1, 0)
    assert na[ICMPv6NDOptDstLLAddr].lladdr == MAC
    assert_checksums_match_scapy(na, ICMPv6ND_NA, field="cksum")


def assert_checksums_match_scapy(pkt: Packet, layer: type[Packet], field: str = "chksum") -> None:
    """Drop our checksums and let scapy recompute them: they must come out equal."""
    ours = getattr(pkt[layer], field)
    ip_layer = IP if IP in pkt else None
    ip_ours = pkt[IP].chksum if ip_layer else None
    fresh = pkt.copy()
    delattr(fresh[layer], field)
    if ip_layer:
        del fresh[IP].chksum
    rebuilt = Ether(bytes(fresh))
    assert getattr(rebuilt[layer], field) == ours
    if ip_layer:
        assert rebuilt[IP].chksum == ip_ours
