"""The netlink adapter inside a lab namespace: VIPs marked and idempotent, link watching."""

from __future__ import annotations

import contextlib
import select
import time
from collections.abc import Iterator

import pytest
from pyroute2.netns import popns, pushns

from hatui.adapters.netlink import (
    HATUI_ADDR_PROTO,
    Addresses,
    LinkWatch,
    check_vip_subnet,
    default_label,
    interface_addresses,
    interface_mac,
    primary_address,
)
from hatui.codec.frames import Family
from hatui.errors import RuntimeFault
from hatui.lab import Host, Lab
from hatui.vrrp.spec import Vip

VIP4 = Vip(address="192.0.2.100", prefixlen=24)
VIP6 = Vip(address="2001:db8::64", prefixlen=64)


@contextlib.contextmanager
def inside(host: Host) -> Iterator[None]:
    """Run the block in the host's network namespace (sockets stay there afterwards)."""
    pushns(host.ns)
    try:
        yield
    finally:
        popns()


def test_label_fits_the_kernel_limit() -> None:
    assert default_label("eth0") == "eth0:hatui"
    assert default_label("enp0s31f6") == "enp0s31f6:hatui"
    assert default_label("enp0s31f6abc") == "enp0s31f6abc:h"
    assert len(default_label("a" * 15)) <= 15


def test_add_remove_idempotent_and_marked(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    with inside(a):
        addrs = Addresses("eth0")
    try:
        assert addrs.add(VIP4) is True
        assert addrs.add(VIP4) is False  # "already exists" is fine
        assert addrs.add(VIP6) is True
        assert "192.0.2.100/24" in lab.addresses(a)
        assert "2001:db8::64/64" in lab.addresses(a)
        assert "192.0.2.100/24" in addrs.present()
        # The marks: the kernel's address protocol field (iproute2 >= 6.2 shows it) and a label.
        with inside(a):
            ours = {x.address: x for x in interface_addresses("eth0")}
        assert ours["192.0.2.100"].proto == HATUI_ADDR_PROTO
        assert ours["2001:db8::64"].proto == HATUI_ADDR_PROTO
        assert ours["192.0.2.11"].proto != HATUI_ADDR_PROTO
        assert "eth0:hatui" in lab.sh(a, "ip addr show dev eth0")
        assert sorted(str(v) for v in addrs.leftovers()) == ["192.0.2.100/24", "2001:db8::64/64"]
        assert addrs.remove(VIP4) is True
        assert addrs.remove(VIP4) is False  # "not there" is fine
        assert "192.0.2.100/24" not in lab.addresses(a)
        assert "192.0.2.11/24" in lab.addresses(a)
    finally:
        addrs.close()


def test_leftovers_ignore_foreign_addresses_and_get_removed(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    lab.sh(a, "ip addr add 192.0.2.150/24 dev eth0")  # the operator's, not ours
    lab.sh(a, "ip addr add 192.0.2.151/24 dev eth0 label eth0:hatui")  # label-only mark
    with inside(a):
        addrs = Addresses("eth0")
    try:
        addrs.add(Vip(address="192.0.2.101", prefixlen=24, label="eth0:web"))
        left = sorted(str(v) for v in addrs.leftovers())
        assert left == ["192.0.2.101/24", "192.0.2.151/24"]
        assert sorted(str(v) for v in addrs.remove_leftovers()) == left
        assert addrs.leftovers() == []
        assert "192.0.2.150/24" in lab.addresses(a)
        assert "192.0.2.11/24" in lab.addresses(a)
    finally:
        addrs.close()


def test_interface_queries(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    lab.sh(a, "ip addr add 192.0.2.200/24 dev eth0")  # a secondary: not the primary
    with inside(a):
        assert interface_mac("eth0") == "02:00:00:00:00:0b"
        assert primary_address("eth0", Family.IPV4) == "192.0.2.11"
        assert primary_address("eth0", Family.IPV6).startswith("fe80::")
        assert check_vip_subnet(VIP4, "eth0") is None
        assert check_vip_subnet(VIP6, "eth0") is None
        warning = check_vip_subnet(Vip(address="198.51.100.1", prefixlen=24), "eth0")
        assert warning is not None and "198.51.100.1/24 is not in a subnet of eth0" in warning
        assert any(x.address == "192.0.2.200" and x.secondary for x in interface_addresses("eth0"))
        with pytest.raises(RuntimeFault, match="interface 'eth9' does not exist"):
            Addresses("eth9")
        with pytest.raises(RuntimeFault, match="interface 'eth9' does not exist"):
            interface_mac("eth9")
        lab.sh(a, "ip link add bare0 type veth peer name bare1")
        with pytest.raises(RuntimeFault, match="interface 'bare0' has no IPv4 address"):
            primary_address("bare0", Family.IPV4)


def test_link_watch_sees_down_and_up(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    with inside(a):
        watch = LinkWatch("eth0")
    try:
        assert watch.up is True
        assert watch.read() is None
        lab.link(a, False)
        assert _wait(watch) is False
        assert watch.up is False
        lab.link(a, True)
        assert _wait(watch) is True
    finally:
        watch.close()


def _wait(watch: LinkWatch, timeout: float = 3.0) -> bool | None:
    """Wait for a state change the way loop.add_reader would."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        select.select([watch], [], [], 0.1)
        state = watch.read()
        if state is not None:
            return state
    return None
