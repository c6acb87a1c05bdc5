"""The node's real side effects: adverts on raw sockets, VIPs via netlink, GARPs, notify scripts."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
from collections.abc import Callable

from hatui.adapters.netlink import Addresses, primary_address
from hatui.adapters.routes import Routes
from hatui.adapters.transmit import AdvertSender, GarpSender
from hatui.codec.ethernet import ipv4_multicast_mac, ipv6_multicast_mac
from hatui.codec.frames import Auth, ChecksumForm, Family, Link, VrrpAdvert
from hatui.codec.vrrp import encode_vrrp
from hatui.vrrp import actions as act
from hatui.vrrp.spec import InstanceSpec, NodeSpec, SyncGroupSpec, Vip

log = logging.getLogger(__name__)

Notifier = Callable[[InstanceSpec | SyncGroupSpec, str, int], None]


class RealNodeIO:
    """Opens every socket a node needs up front, so a failure is reported before it starts."""

    def __init__(self, spec: NodeSpec, notifier: Notifier | None = None) -> None:
        self.senders: dict[str, AdvertSender] = {}
        self.garps: dict[str, GarpSender] = {}
        self.addresses: dict[str, Addresses] = {}
        self.notifier = notifier
        # Each instance's last advert, encoded: a master repeats the same bytes every
        # interval, and encoding (address parsing, checksum) was most of a send's cost.
        self._encoded: dict[str, tuple[object, list[tuple[bytes, str, VrrpAdvert]]]] = {}
        # Our adverts as a watcher would see them: the node's capture leaves its own frames
        # out (in the kernel), and its observer hears them from here instead, so the LAN
        # view (split brain, mismatches, metrics) still includes this node.
        self.on_sent: Callable[[str, VrrpAdvert], None] | None = None
        self._sources: dict[tuple[str, Family], str] = {}  # one netlink dump per interface
        self.spec = spec
        self.routes = Routes()
        self._static_on = False
        try:
            for ispec in spec.instances:
                self.open_instance(ispec)
        except Exception:
            self.close()
            raise

    def open_instance(self, ispec: InstanceSpec) -> str:
        """Open the sockets `ispec` needs (its advert sender, GARP and address handles
        for its interfaces); returns its primary address. Errors raise RuntimeFault."""
        src = ispec.unicast_src or ispec.mcast_src
        if src is None:
            key = (ispec.interface, ispec.family)
            if key not in self._sources:
                self._sources[key] = primary_address(*key)
            src = self._sources[key]
        self.senders[ispec.name] = AdvertSender(
            ispec.interface,
            ispec.family,
            src_ip=src,
            mcast_group=ispec.mcast_group,
            join=not ispec.unicast_peers,
        )
        for name in {ispec.interface, *(v.dev for v in ispec.vips if v.dev)}:
            if name not in self.garps:
                self.garps[name] = GarpSender(name)
            if name not in self.addresses:
                self.addresses[name] = Addresses(name)
        return self.senders[ispec.name].src_ip

    def close_instance(self, ispec: InstanceSpec) -> None:
        """A reload removed (or will restart) `ispec`: close its advert socket."""
        sender = self.senders.pop(ispec.name, None)
        self._encoded.pop(ispec.name, None)
        if sender is not None:
            sender.close()

    def primary_ip(self, ispec: InstanceSpec) -> str:
        """The address adverts come from: the router's tie-breaker (RFC 5798 6.4.3)."""
        return self.senders[ispec.name].src_ip

    def remove_leftovers(self) -> list[Vip]:
        """VIPs a crashed hatui left behind (they carry hatui's mark), and its routes and
        rules (logged here)."""
        gone: list[Vip] = []
        for addrs in self.addresses.values():
            gone += addrs.remove_leftovers()
        routes = self.routes.remove_leftovers()
        if routes:
            log.warning("removed %d routes and rules left by an earlier hatui", routes)
        return gone

    def start_static(self) -> None:
        """keepalived's static_ipaddress, static_routes and static_rules, all or nothing:
        set up once at start, whatever the VRRP state; `close` takes them away."""
        spec = self.spec
        added: list[Vip] = []
        try:
            for vip in spec.static_addresses:
                if self._addresses_for(vip).add(vip):
                    added.append(vip)
            self.routes.install([*spec.static_routes, *spec.static_rules])
        except Exception:
            for vip in added:
                with contextlib.suppress(Exception):
                    self._addresses_for(vip).remove(vip)
            raise
        self._static_on = True

    def _addresses_for(self, vip: Vip) -> Addresses:
        name = vip.dev or (self.spec.instances[0].interface if self.spec.instances else "")
        if name not in self.addresses:
            self.addresses[name] = Addresses(name)
        return self.addresses[name]

    def send_advert(self, spec: InstanceSpec, primary_ip: str, advert: act.SendAdvert) -> None:
        sender = self.senders[spec.name]
        key = (advert.priority, advert.interval_cs, advert.addresses)
        cached = self._encoded.get(spec.name)
        if cached is None or cached[0] != key:
            cached = (key, self._encode(spec, sender.src_ip, advert))
            self._encoded[spec.name] = cached
        for payload, dst, frame in cached[1]:
            sent = sender.send(payload, dst)
            if sent and self.on_sent is not None:
                self.on_sent(spec.interface, frame)

    def _encode(
        self, spec: InstanceSpec, src_ip: str, advert: act.SendAdvert
    ) -> list[tuple[bytes, str, VrrpAdvert]]:
        """Each destination's message, and the frame as a watcher would decode it."""
        auth = Auth.SIMPLE if spec.auth_pass else Auth.NONE
        password = (spec.auth_pass or "").encode()
        garp = self.garps.get(spec.interface)
        src_mac = garp.mac if garp is not None else "00:00:00:00:00:00"
        out = []
        for dst in spec.unicast_peers or (spec.group,):
            payload = encode_vrrp(
                version=spec.version,
                vrid=spec.vrid,
                priority=advert.priority,
                interval_cs=advert.interval_cs,
                addresses=advert.addresses,
                family=spec.family,
                src_ip=src_ip,
                dst_ip=dst,
                auth=auth,
                auth_pass=password,
                checksum_form=spec.checksum_form,
            )
            frame = VrrpAdvert(
                link=Link(src_mac=src_mac, dst_mac=_dst_mac(dst)),
                family=spec.family,
                src_ip=src_ip,
                dst_ip=dst,
                ttl=255,
                version=spec.version,
                vrid=spec.vrid,
                priority=advert.priority,
                interval_cs=advert.interval_cs,
                addresses=advert.addresses,
                auth=auth,
                auth_data=password.ljust(8, b"\0")[:8] if spec.version == 2 and password else b"",
                checksum_form=ChecksumForm.V2 if spec.version == 2 else spec.checksum_form,
                auth_type=1 if spec.version == 2 and password else 0,  # RFC 3768 5.3.6
            )
            out.append((payload, dst, frame))
        return out

    def add_vips(self, spec: InstanceSpec, vips: tuple[Vip, ...]) -> None:
        for vip in vips:
            self.addresses[vip.dev or spec.interface].add(vip)
        # virtual_routes/rules follow the VIPs (a route may use one as its source).
        self.routes.install([*spec.virtual_routes, *spec.virtual_rules])

    def remove_vips(self, spec: InstanceSpec, vips: tuple[Vip, ...]) -> None:
        self.routes.remove([*spec.virtual_routes, *spec.virtual_rules])
        for vip in vips:
            self.addresses[vip.dev or spec.interface].remove(vip)

    def garp(self, spec: InstanceSpec, vips: tuple[Vip, ...]) -> None:
        for vip in vips:
            self.garps[vip.dev or spec.interface].announce(vip.address)

    def notify(self, spec: InstanceSpec | SyncGroupSpec, state: str, priority: int) -> None:
        if self.notifier is not None:
            self.notifier(spec, state, priority)

    def close(self) -> None:
        if self._static_on:
            self._static_on = False
            spec = self.spec
            self.routes.remove([*spec.static_routes, *spec.static_rules])
            for vip in spec.static_addresses:
                with contextlib.suppress(Exception):
                    self._addresses_for(vip).remove(vip)
        with contextlib.suppress(Exception):
            self.routes.close()
        closables: list[AdvertSender | GarpSender | Addresses] = [
            *self.senders.values(),
            *self.garps.values(),
            *self.addresses.values(),
        ]
        for closable in closables:
            with contextlib.suppress(Exception):
                closable.close()


def _dst_mac(dst: str) -> str:
    """The Ethernet destination of an advert to `dst`: the group's multicast MAC; a unicast
    peer's MAC is the kernel's business (ARP), shown as unknown."""
    ip = ipaddress.ip_address(dst)
    if not ip.is_multicast:
        return "00:00:00:00:00:00"
    if ip.version == 4:
        return ipv4_multicast_mac(ip.packed)
    return ipv6_multicast_mac(ip.packed)
