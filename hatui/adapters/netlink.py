"""Interface addresses and link state over rtnetlink: VIPs marked as hatui's, link watching.

Requests go over a plain blocking netlink socket with pyroute2's message classes doing
the encoding. pyroute2 0.9's `IPRoute` runs its own asyncio loop and refuses to work
inside a running one; each request here takes well under a millisecond, so the node's
loop can call these directly. Sockets belong to the network namespace current when they
are created, which lets tests build adapters inside a lab namespace.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyroute2.netlink import NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST
from pyroute2.netlink.rtnl import RTM_DELADDR, RTM_GETADDR, RTM_GETLINK, RTM_NEWADDR
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.marshal import MarshalRtnl

from hatui.codec.frames import Family
from hatui.errors import RuntimeFault
from hatui.vrrp.spec import Vip

log = logging.getLogger(__name__)

# IFA_PROTO (Linux >= 6.1) value marking hatui's addresses; the kernel's own values are 0..3
# and iproute2 names none above them, so a crashed node's VIPs are recognisable later.
HATUI_ADDR_PROTO = 0x68
LABEL_SUFFIX = ":hatui"
IFNAMSIZ = 15  # usable characters of an interface name or IPv4 label
NETLINK_ROUTE = 0
RTMGRP_LINK = 1
NLMSG_ERROR, NLMSG_DONE = 2, 3
IFA_F_SECONDARY, IFA_F_NODAD = 0x01, 0x02
IFF_UP, IFF_RUNNING = 0x1, 0x40
RTM_NEWLINK, RTM_DELLINK = 16, 17
SCOPES = {"global": 0, "site": 200, "link": 253, "host": 254, "nowhere": 255}


class NetlinkFailure(Exception):
    """The kernel answered a request with an error code."""

    def __init__(self, code: int) -> None:
        self.code = code
        self.text = os.strerror(code)
        super().__init__(self.text)


class Rtnl:
    """A blocking rtnetlink socket for request/response exchanges."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        self.sock.bind((0, 0))
        self.sock.settimeout(2.0)
        self.seq = 0
        self.marshal = MarshalRtnl()

    def request(self, msg: Any, kind: int, flags: int) -> list[Any]:
        self.seq += 1
        msg["header"]["type"] = kind
        msg["header"]["flags"] = NLM_F_REQUEST | flags
        msg["header"]["sequence_number"] = self.seq
        msg.encode()
        self.sock.send(msg.data)
        out: list[Any] = []
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except TimeoutError:
                raise RuntimeFault("netlink: no answer from the kernel") from None
            for reply in self.marshal.parse(data):
                header = reply["header"]
                if header["sequence_number"] != self.seq:
                    continue
                if header["type"] == NLMSG_DONE:
                    return out
                if header["type"] == NLMSG_ERROR:
                    err = header.get("error")
                    if err is not None:
                        raise NetlinkFailure(err.code)
                    return out  # an ACK
                out.append(reply)
                if not flags & NLM_F_DUMP and not flags & NLM_F_ACK:
                    return out

    def close(self) -> None:
        self.sock.close()


def ifindex(ifname: str) -> int:
    """The interface's index in the current namespace, or one clear RuntimeFault."""
    try:
        return socket.if_nametoindex(ifname)
    except OSError:
        raise RuntimeFault(f"interface {ifname!r} does not exist") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class IfAddress:
    """One address on an interface, as the kernel reports it."""

    address: str
    prefixlen: int
    family: Family
    label: str | None
    proto: int
    scope: int
    secondary: bool

    @property
    def hatui(self) -> bool:
        """Put there by hatui: its address protocol mark, or its IPv4 label."""
        return self.proto == HATUI_ADDR_PROTO or (self.label or "").endswith(LABEL_SUFFIX)


def _dump_addresses(rtnl: Rtnl, index: int) -> list[IfAddress]:
    msg = ifaddrmsg()
    msg["family"] = socket.AF_UNSPEC
    out = []
    for m in rtnl.request(msg, RTM_GETADDR, NLM_F_DUMP):
        if m["index"] != index:
            continue
        family = Family.IPV6 if m["family"] == socket.AF_INET6 else Family.IPV4
        addr = m.get("IFA_LOCAL") or m.get("IFA_ADDRESS")
        flags = m.get("IFA_FLAGS") or m["flags"]
        out.append(
            IfAddress(
                address=addr,
                prefixlen=m["prefixlen"],
                family=family,
                label=m.get("IFA_LABEL"),
                proto=m.get("IFA_PROTO") or 0,
                scope=m["scope"],
                secondary=bool(flags & IFA_F_SECONDARY),
            )
        )
    return out


def interface_addresses(ifname: str) -> list[IfAddress]:
    """Every address on `ifname`, primary first as the kernel orders them."""
    index = ifindex(ifname)
    rtnl = Rtnl()
    try:
        return _dump_addresses(rtnl, index)
    finally:
        rtnl.close()


def interface_mac(ifname: str) -> str:
    """The interface's own hardware address (adverts and GARPs leave from it)."""
    index = ifindex(ifname)
    rtnl = Rtnl()
    try:
        msg = ifinfmsg()
        msg["index"] = index
        links = rtnl.request(msg, RTM_GETLINK, 0)
    finally:
        rtnl.close()
    mac = links[0].get("IFLA_ADDRESS") if links else None
    if not mac:
        raise RuntimeFault(f"interface {ifname!r} has no hardware address")
    return str(mac)


def primary_address(
    ifname: str, family: Family, addresses: Sequence[IfAddress] | None = None
) -> str:
    """The source address for adverts: IPv4 the interface's primary address (not a hatui
    VIP); IPv6 its link-local address (RFC 5798 5.1.2.1). `addresses`: the interface's,
    when the caller has them (a node with 255 instances asks once, not 255 times)."""
    for a in interface_addresses(ifname) if addresses is None else addresses:
        if a.family is not family or a.hatui:
            continue
        if family is Family.IPV4 and not a.secondary:
            return a.address
        if family is Family.IPV6 and a.scope == SCOPES["link"]:
            return a.address
    kind = "IPv4 address" if family is Family.IPV4 else "IPv6 link-local address"
    raise RuntimeFault(f"interface {ifname!r} has no {kind}")


def check_vip_subnet(
    vip: Vip, ifname: str, addresses: Sequence[IfAddress] | None = None
) -> str | None:
    """A warning when the VIP lies in none of the interface's own subnets (keepalived
    accepts that, but it is usually a typo), else None."""
    ip = ipaddress.ip_address(vip.address)
    have_all = interface_addresses(ifname) if addresses is None else addresses
    own = [a for a in have_all if not a.hatui and a.family is vip.family]
    for a in own:
        if ip in ipaddress.ip_interface(f"{a.address}/{a.prefixlen}").network:
            return None
    have = ", ".join(f"{a.address}/{a.prefixlen}" for a in own) or "no addresses"
    return f"VIP {vip} is not in a subnet of {ifname} ({have})"


def default_label(ifname: str) -> str:
    """`IFACE:hatui`, shortened to fit the kernel's 15-character label."""
    for suffix in (LABEL_SUFFIX, ":h"):
        if len(ifname) + len(suffix) <= IFNAMSIZ:
            return ifname + suffix
    return ifname


class Addresses:
    """Adds and removes VIPs on one interface; both are idempotent."""

    def __init__(self, interface: str) -> None:
        self.interface = interface
        self.index = ifindex(interface)
        self.rtnl = Rtnl()

    def _msg(self, vip: Vip) -> Any:
        ip = ipaddress.ip_address(vip.address)
        msg = ifaddrmsg()
        msg["family"] = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        msg["prefixlen"] = vip.prefixlen
        msg["index"] = ifindex(vip.dev) if vip.dev else self.index
        msg["scope"] = _scope(vip.scope)
        attrs: list[tuple[str, Any]] = [("IFA_LOCAL", vip.address), ("IFA_ADDRESS", vip.address)]
        if ip.version == 4:
            attrs.append(("IFA_LABEL", vip.label or default_label(vip.dev or self.interface)))
            if vip.brd:
                attrs.append(("IFA_BROADCAST", vip.brd))
        else:
            # A VIP moves between nodes: duplicate address detection would only delay it.
            msg["flags"] = IFA_F_NODAD
            attrs.append(("IFA_FLAGS", IFA_F_NODAD))
        attrs.append(("IFA_PROTO", HATUI_ADDR_PROTO))
        msg["attrs"] = attrs
        return msg

    def add(self, vip: Vip) -> bool:
        """Add `vip`; False if it was already there."""
        try:
            self.rtnl.request(self._msg(vip), RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)
        except NetlinkFailure as exc:
            if exc.code == errno.EEXIST:
                return False
            raise self._fault("add", vip, exc) from None
        log.info("added %s on %s", vip, vip.dev or self.interface)
        return True

    def remove(self, vip: Vip) -> bool:
        """Remove `vip`; False if it was not there."""
        try:
            self.rtnl.request(self._msg(vip), RTM_DELADDR, NLM_F_ACK)
        except NetlinkFailure as exc:
            if exc.code in (errno.EADDRNOTAVAIL, errno.ENOENT, errno.ESRCH):
                return False
            raise self._fault("remove", vip, exc) from None
        log.info("removed %s from %s", vip, vip.dev or self.interface)
        return True

    def _fault(self, what: str, vip: Vip, exc: NetlinkFailure) -> RuntimeFault:
        if exc.code == errno.EPERM:
            return RuntimeFault(f"cannot {what} {vip}: permission denied (needs CAP_NET_ADMIN)")
        if exc.code == errno.ENODEV:
            return RuntimeFault(f"interface {vip.dev or self.interface!r} does not exist")
        return RuntimeFault(f"cannot {what} {vip} on {self.interface}: {exc.text}")

    def addresses(self) -> list[IfAddress]:
        return _dump_addresses(self.rtnl, self.index)

    def present(self) -> list[str]:
        """Every address on the interface as `ADDR/LEN`."""
        return [f"{a.address}/{a.prefixlen}" for a in self.addresses()]

    def leftovers(self) -> list[Vip]:
        """Addresses carrying hatui's mark: what a crashed node left behind."""
        return [
            Vip(address=a.address, prefixlen=a.prefixlen, label=a.label)
            for a in self.addresses()
            if a.hatui
        ]

    def remove_leftovers(self) -> list[Vip]:
        """Remove hatui-marked addresses (on start); returns what was removed."""
        gone = [vip for vip in self.leftovers() if self.remove(vip)]
        for vip in gone:
            log.warning("removed %s left on %s by an earlier hatui", vip, self.interface)
        return gone

    def close(self) -> None:
        self.rtnl.close()


def _scope(scope: str | None) -> int:
    if scope is None:
        return 0
    if scope in SCOPES:
        return SCOPES[scope]
    try:
        return int(scope)
    except ValueError:
        raise RuntimeFault(f"unknown address scope {scope!r}") from None


def _link_up(flags: int) -> bool:
    # IFF_RUNNING follows the operational state: carrier present and not dormant.
    return bool(flags & IFF_UP) and bool(flags & IFF_RUNNING)


_IFINFO = struct.Struct("=BxHiII")  # family, type, index, flags, change
_NLMSGHDR = struct.Struct("=IHHII")


class LinkWatch:
    """An interface's up/down state, and a non-blocking netlink socket for changes."""

    def __init__(self, interface: str) -> None:
        self.interface = interface
        self.index = ifindex(interface)
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        self.sock.bind((0, RTMGRP_LINK))  # subscribe before reading the state: no gap
        self.sock.setblocking(False)
        self.up = self._query()

    def fileno(self) -> int:
        return self.sock.fileno()

    def read(self) -> bool | None:
        """Drain queued notifications; the new state if it changed, else None."""
        old = self.up
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except BlockingIOError:
                break
            except OSError as exc:  # ENOBUFS: notifications lost; ask for the state instead
                log.warning("link watch on %s: %s; re-reading state", self.interface, exc)
                self.up = self._query()
                continue
            off = 0
            while off + _NLMSGHDR.size <= len(data):
                length, kind, _flags, _seq, _pid = _NLMSGHDR.unpack_from(data, off)
                if length < _NLMSGHDR.size:
                    break
                if kind == RTM_DELLINK and length >= _NLMSGHDR.size + _IFINFO.size:
                    _fam, _typ, index, _flags, _chg = _IFINFO.unpack_from(data, off + 16)
                    if index == self.index:
                        self.up = False
                elif kind == RTM_NEWLINK and length >= _NLMSGHDR.size + _IFINFO.size:
                    _fam, _typ, index, flags, _chg = _IFINFO.unpack_from(data, off + 16)
                    if index == self.index:
                        self.up = _link_up(flags)
                off += (length + 3) & ~3
        return self.up if self.up != old else None

    def _query(self) -> bool:
        rtnl = Rtnl()
        try:
            msg = ifinfmsg()
            msg["index"] = self.index
            return _link_up(rtnl.request(msg, RTM_GETLINK, 0)[0]["flags"])
        finally:
            rtnl.close()

    def close(self) -> None:
        self.sock.close()
