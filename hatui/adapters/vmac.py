"""keepalived's use_vmac: a private-mode macvlan per instance carrying the virtual MAC.

As keepalived 2.2.7 (vrrp_vmac.c, vrrp_if_config.c): the macvlan is named `vrrp.VRID`
unless the config names it, has MAC 00:00:5e:00:01:VRID (IPv6: 00:00:5e:00:02:VRID) in
private mode, no automatic IPv6 link-local (addrgenmode none); IPv4 instances set
arp_ignore 1, accept_local 1, rp_filter 0 and promote_secondaries 1 on it and
arp_ignore 1, arp_filter 1 on the base interface (put back at stop), and turn IPv6 off
on it; IPv6 instances give it the base interface's link-local address, the adverts'
source. hatui marks its macvlans with the alias `hatui vmac`, so the next start removes
what a crashed node left, as it does with VIPs.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
from typing import Any

from pyroute2.netlink import NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from hatui.adapters.netlink import HATUI_ADDR_PROTO, NetlinkFailure, Rtnl, ifindex
from hatui.adapters.sysctl import Sysctls
from hatui.codec.frames import Family
from hatui.errors import RuntimeFault

log = logging.getLogger(__name__)

ALIAS = "hatui vmac"
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK, RTM_NEWADDR = 16, 17, 18, 20
MACVLAN_MODE_PRIVATE = 1
IN6_ADDR_GEN_MODE_NONE = 1
IFF_UP = 0x1
IFA_F_NODAD = 0x02
RT_SCOPE_LINK = 253


def vmac_address(vrid: int, family: Family) -> str:
    """RFC 5798 7.3: 00-00-5E-00-01-{VRID} for IPv4, 00-00-5E-00-02-{VRID} for IPv6."""
    kind = 2 if family is Family.IPV6 else 1
    return f"00:00:5e:00:{kind:02x}:{vrid:02x}"


def _links(rtnl: Rtnl) -> list[Any]:
    msg = ifinfmsg()
    msg["family"] = socket.AF_UNSPEC
    return rtnl.request(msg, RTM_GETLINK, NLM_F_DUMP)


def _kind(link: Any) -> str | None:
    info = link.get("IFLA_LINKINFO")
    return info.get("IFLA_INFO_KIND") if info is not None else None


def _delete(rtnl: Rtnl, index: int) -> None:
    msg = ifinfmsg()
    msg["index"] = index
    try:
        rtnl.request(msg, RTM_DELLINK, NLM_F_ACK)
    except NetlinkFailure as exc:
        if exc.code != errno.ENODEV:
            raise


def remove_stale_vmacs() -> list[str]:
    """Delete macvlans a crashed hatui left (they carry its alias); their names."""
    rtnl = Rtnl()
    gone = []
    try:
        for link in _links(rtnl):
            if _kind(link) == "macvlan" and link.get("IFLA_IFALIAS") == ALIAS:
                _delete(rtnl, link["index"])
                gone.append(str(link.get("IFLA_IFNAME")))
    finally:
        rtnl.close()
    for name in gone:
        log.warning("removed macvlan %s left by an earlier hatui", name)
    return gone


class Vmac:
    """One instance's macvlan: `create` makes it ready, `remove` takes it and the
    settings it changed away. Creation is all or nothing."""

    def __init__(self, name: str, base: str, vrid: int, family: Family) -> None:
        self.name = name
        self.base = base
        self.mac = vmac_address(vrid, family)
        self.family = family
        self.index: int | None = None
        self.sysctls = Sysctls()

    def create(self, link_local: str | None = None) -> None:
        base_index = ifindex(self.base)  # a clear error for a missing base interface
        rtnl = Rtnl()
        try:
            self._conflict(rtnl)
            msg = ifinfmsg()
            msg["family"] = socket.AF_UNSPEC
            msg["attrs"] = [
                ("IFLA_IFNAME", self.name),
                ("IFLA_LINK", base_index),
                ("IFLA_ADDRESS", self.mac),
                (
                    "IFLA_LINKINFO",
                    {
                        "attrs": [
                            ("IFLA_INFO_KIND", "macvlan"),
                            (
                                "IFLA_INFO_DATA",
                                {"attrs": [("IFLA_MACVLAN_MODE", MACVLAN_MODE_PRIVATE)]},
                            ),
                        ]
                    },
                ),
            ]
            try:
                rtnl.request(msg, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)
            except NetlinkFailure as exc:
                raise RuntimeFault(
                    f"cannot create macvlan {self.name} on {self.base}: {exc.text}"
                ) from None
            self.index = ifindex(self.name)
            try:
                self._configure(rtnl, link_local)
            except Exception:
                self.remove()
                raise
        finally:
            rtnl.close()
        log.info("created macvlan %s (%s) on %s", self.name, self.mac, self.base)

    def _conflict(self, rtnl: Rtnl) -> None:
        """An interface of our name: a macvlan is replaced, anything else is an error."""
        for link in _links(rtnl):
            if link.get("IFLA_IFNAME") != self.name:
                continue
            if _kind(link) != "macvlan":
                raise RuntimeFault(f"interface {self.name} exists and is not a macvlan")
            log.warning("replacing the macvlan %s found at start", self.name)
            _delete(rtnl, link["index"])

    def _configure(self, rtnl: Rtnl, link_local: str | None) -> None:
        assert self.index is not None
        # No EUI-64 link-local from the virtual MAC (RFC 5798 7.4); set before going up.
        msg = ifinfmsg()
        msg["index"] = self.index
        # The kernel takes an alias only on an existing link, so it is set here.
        msg["attrs"] = [
            ("IFLA_IFALIAS", ALIAS),
            (
                "IFLA_AF_SPEC",
                {
                    "attrs": [
                        (
                            "AF_INET6",
                            {"attrs": [("IFLA_INET6_ADDR_GEN_MODE", IN6_ADDR_GEN_MODE_NONE)]},
                        )
                    ]
                },
            ),
        ]
        rtnl.request(msg, RTM_NEWLINK, NLM_F_ACK)
        conf = f"net/ipv4/conf/{self.name}"
        if self.family is Family.IPV4:
            for key, value in (("arp_ignore", 1), ("accept_local", 1), ("rp_filter", 0)):
                self.sysctls.set(f"{conf}/{key}", value)
            self.sysctls.set(f"{conf}/promote_secondaries", 1)
            self.sysctls.set(f"net/ipv4/conf/{self.base}/arp_ignore", 1)
            self.sysctls.set(f"net/ipv4/conf/{self.base}/arp_filter", 1)
            self.sysctls.set(f"net/ipv6/conf/{self.name}/disable_ipv6", 1)
        up = ifinfmsg()
        up["index"] = self.index
        up["flags"] = IFF_UP
        up["change"] = IFF_UP
        rtnl.request(up, RTM_NEWLINK, NLM_F_ACK)
        if self.family is Family.IPV6 and link_local is not None:
            addr = ifaddrmsg()
            addr["family"] = socket.AF_INET6
            addr["prefixlen"] = 64
            addr["index"] = self.index
            addr["scope"] = RT_SCOPE_LINK
            addr["flags"] = IFA_F_NODAD
            ip = str(ipaddress.ip_address(link_local.split("%")[0]))
            addr["attrs"] = [
                ("IFA_ADDRESS", ip),
                ("IFA_FLAGS", IFA_F_NODAD),
                ("IFA_PROTO", HATUI_ADDR_PROTO),
            ]
            rtnl.request(addr, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE)

    def remove(self) -> None:
        """Delete the macvlan (its VIPs go with it) and put the base's settings back."""
        if self.index is not None:
            rtnl = Rtnl()
            try:
                _delete(rtnl, self.index)
            except NetlinkFailure as exc:
                log.error("cannot remove macvlan %s: %s", self.name, exc.text)
            finally:
                rtnl.close()
            self.index = None
            log.info("removed macvlan %s", self.name)
        # The macvlan's own keys went with it; restoring them would only fail.
        self.sysctls.saved = {
            k: v for k, v in self.sysctls.saved.items() if f"/{self.name}/" not in k
        }
        self.sysctls.restore()
