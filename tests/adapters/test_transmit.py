"""The transmit adapter in a namespace lab: what it sends, captured and decoded on another host."""

from __future__ import annotations

import contextlib
import re
import select
import time
from collections.abc import Iterator

import pytest
from pyroute2.netns import popns, pushns

from hatui.adapters.capture import CaptureSocket
from hatui.adapters.transmit import AdvertSender, GarpSender
from hatui.codec.decode import decode
from hatui.codec.frames import ArpFrame, ChecksumForm, Decoded, Family, NeighborAdvert, VrrpAdvert
from hatui.codec.vrrp import encode_vrrp
from hatui.errors import RuntimeFault
from hatui.lab import Host, Lab, start_keepalived
from tests.conftest import require_keepalived


@contextlib.contextmanager
def inside(host: Host) -> Iterator[None]:
    """Run the block in the host's network namespace (sockets stay there afterwards)."""
    pushns(host.ns)
    try:
        yield
    finally:
        popns()


def capture(cap: CaptureSocket, want: int, timeout: float = 3.0) -> list[tuple[bytes, Decoded]]:
    """Frames the observer received (not its own), decoded, until `want` matched."""
    got: list[tuple[bytes, Decoded]] = []
    end = time.monotonic() + timeout
    while time.monotonic() < end and len(got) < want:
        select.select([cap], [], [], 0.05)
        for p in cap.read_batch():
            if not p.outgoing:
                got.append((p.data, decode(p.data)))
    return got


def adverts(got: list[tuple[bytes, Decoded]]) -> list[tuple[bytes, VrrpAdvert]]:
    return [(raw, f) for raw, f in got if isinstance(f, VrrpAdvert)]


def vrrp_msg(family: Family, version: int, src: str, dst: str, priority: int = 150) -> bytes:
    v6 = family is Family.IPV6
    return encode_vrrp(
        version=version,
        vrid=51,
        priority=priority,
        interval_cs=100,
        addresses=("2001:db8::64",) if v6 else ("192.0.2.100",),
        family=family,
        src_ip=src,
        dst_ip=dst,
    )


@pytest.fixture
def pair(lab: Lab) -> tuple[Host, Host, CaptureSocket]:
    sender, observer = lab.add_host("s", 11), lab.add_host("o", 12)
    with inside(observer):
        cap = CaptureSocket("eth0")
    return sender, observer, cap


def test_v2_advert_to_the_group(lab: Lab, pair: tuple[Host, Host, CaptureSocket]) -> None:
    sender, _observer, cap = pair
    with inside(sender):
        tx = AdvertSender("eth0", Family.IPV4)
    assert tx.src_ip == "192.0.2.11"
    assert tx.send(vrrp_msg(Family.IPV4, 2, tx.src_ip, "224.0.0.18"), "224.0.0.18")
    [(raw, adv)] = adverts(capture(cap, 1))
    assert (adv.src_ip, adv.dst_ip, adv.ttl, adv.version) == ("192.0.2.11", "224.0.0.18", 255, 2)
    assert adv.link.src_mac == sender.mac and adv.link.dst_mac == "01:00:5e:00:00:12"
    assert adv.checksum_form is ChecksumForm.V2  # the decoder verified it
    assert raw[15] == 0xC0  # IPv4 TOS, what keepalived sends
    # Joined the group (IGMP snooping keeps forwarding to this port); loopback off.
    assert "224.0.0.18" in lab.sh(sender, "ip maddr show dev eth0")
    tx.close()


def test_v3_advert_unicast(pair: tuple[Host, Host, CaptureSocket]) -> None:
    sender, observer, cap = pair
    with inside(sender):
        tx = AdvertSender("eth0", Family.IPV4, join=False)
    assert tx.send(vrrp_msg(Family.IPV4, 3, tx.src_ip, observer.ip), observer.ip)
    [(raw, adv)] = adverts(capture(cap, 1))
    assert (adv.dst_ip, adv.ttl, adv.version) == (observer.ip, 255, 3)
    assert adv.link.dst_mac == observer.mac
    assert adv.checksum_form is ChecksumForm.PSEUDO
    assert raw[15] == 0xC0
    tx.close()


def test_v3_advert_ipv6(pair: tuple[Host, Host, CaptureSocket]) -> None:
    sender, observer, cap = pair
    with inside(sender):
        tx = AdvertSender("eth0", Family.IPV6)
    assert tx.src_ip.startswith("fe80::")  # RFC 5798 5.1.2.1: the link-local address
    assert tx.send(vrrp_msg(Family.IPV6, 3, tx.src_ip, "ff02::12"), "ff02::12")
    assert tx.send(vrrp_msg(Family.IPV6, 3, tx.src_ip, observer.ip6, 99), observer.ip6)
    got = adverts(capture(cap, 2))
    assert [(a.dst_ip, a.ttl, a.priority) for _, a in got] == [
        ("ff02::12", 255, 150),
        (observer.ip6, 255, 99),
    ]
    assert all(a.src_ip == tx.src_ip and a.family is Family.IPV6 for _, a in got)
    assert got[0][1].link.dst_mac == "33:33:00:00:00:12"
    tx.close()


def test_garp_and_na(pair: tuple[Host, Host, CaptureSocket]) -> None:
    sender, _observer, cap = pair
    with inside(sender):
        tx = GarpSender("eth0")
    assert tx.announce("192.0.2.100")
    assert tx.announce("2001:db8::64")
    # Frames are built once per (address, MAC): a hit sends the same bytes, and another
    # MAC (a VMAC) is another frame, not the cached one.
    assert tx.announce("192.0.2.100")
    assert tx.frame("192.0.2.100") is tx.frame("192.0.2.100")
    assert tx.announce("192.0.2.100", "00:00:5e:00:01:33")
    got = [f for _, f in capture(cap, 4)]
    arps = [f for f in got if isinstance(f, ArpFrame)]
    assert len(arps) == 3 and arps[0] == arps[1]
    assert (arps[2].sender_ip, arps[2].sender_mac) == ("192.0.2.100", "00:00:5e:00:01:33")
    arp = arps[0]
    assert (arp.op, arp.sender_ip, arp.target_ip) == (1, "192.0.2.100", "192.0.2.100")
    assert (arp.sender_mac, arp.target_mac) == (sender.mac, "ff:ff:ff:ff:ff:ff")
    assert (arp.link.src_mac, arp.link.dst_mac) == (sender.mac, "ff:ff:ff:ff:ff:ff")
    na = next(f for f in got if isinstance(f, NeighborAdvert))
    assert (na.target_ip, na.target_mac, na.dst_ip) == ("2001:db8::64", sender.mac, "ff02::1")
    assert na.override and not na.solicited and not na.router
    assert na.src_ip == "2001:db8::64"  # keepalived sends it from the VIP itself
    tx.close()


def test_errors_are_one_line(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    lab.sh(a, "ip link add bare0 type veth peer name bare1 && ip link set bare0 up")
    with inside(a):
        with pytest.raises(RuntimeFault, match="interface 'eth9' does not exist"):
            AdvertSender("eth9", Family.IPV4)
        with pytest.raises(RuntimeFault, match="interface 'eth9' does not exist"):
            GarpSender("eth9")
        with pytest.raises(RuntimeFault, match="interface 'bare0' has no IPv4 address"):
            AdvertSender("bare0", Family.IPV4)
        with pytest.raises(RuntimeFault, match=re.escape("cannot send from 198.51.100.1 on eth0")):
            AdvertSender("eth0", Family.IPV4, src_ip="198.51.100.1")  # not ours: bind fails


KEEPALIVED_CONF = """
global_defs {{
    vrrp_garp_master_delay 0
}}
vrrp_instance VI_{fam} {{
    state MASTER
    interface eth0
    virtual_router_id {vrid}
    priority 255
    advert_int 1
    {extra}
    virtual_ipaddress {{
        {vip}
    }}
}}
"""


@pytest.mark.keepalived
@pytest.mark.slow
def test_matches_keepalived_garp_and_na(lab: Lab) -> None:
    """keepalived (priority 255, the address owner, so master at once) announces its VIPs;
    our frames for the same VIPs from the same MAC decode to the same fields."""
    require_keepalived()
    ka_host, observer = lab.add_host("k", 11), lab.add_host("o", 12)
    with inside(observer):
        cap = CaptureSocket("eth0")
    conf4 = KEEPALIVED_CONF.format(fam=4, vrid=51, extra="", vip="192.0.2.100/24")
    conf6 = KEEPALIVED_CONF.format(fam=6, vrid=52, extra="version 3", vip="2001:db8::64/64")
    start_keepalived(lab, ka_host, conf4 + conf6)
    theirs = [f for _, f in capture(cap, 12, timeout=6.0)]
    ka_arp = next(f for f in theirs if isinstance(f, ArpFrame) and f.sender_ip == "192.0.2.100")
    ka_na = next(
        f for f in theirs if isinstance(f, NeighborAdvert) and f.target_ip == "2001:db8::64"
    )
    with inside(ka_host):
        tx = GarpSender("eth0")
    tx.announce("192.0.2.100")
    tx.announce("2001:db8::64")
    ours = [f for _, f in capture(cap, 40, timeout=1.0)]
    my_arp = next(f for f in ours if isinstance(f, ArpFrame) and f.sender_ip == "192.0.2.100")
    my_na = next(f for f in ours if isinstance(f, NeighborAdvert) and f.target_ip == "2001:db8::64")
    assert my_arp == ka_arp
    assert my_na == ka_na
    tx.close()
