"""The node's real side effects: adverts on raw sockets, VIPs via netlink, GARPs, notify scripts."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from hatui.adapters.netlink import Addresses, primary_address
from hatui.adapters.routes import Routes
from hatui.adapters.sysctl import Sysctls
from hatui.adapters.transmit import AdvertSender, GarpSender
from hatui.adapters.vmac import Vmac, remove_stale_vmacs
from hatui.codec.frames import Auth, Family
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
        self._encoded: dict[str, tuple[act.SendAdvert, list[tuple[bytes, str]]]] = {}
        self._sources: dict[tuple[str, Family], str] = {}  # one netlink dump per interface
        self.spec = spec
        self.routes = Routes()
        self.sysctls = Sysctls()
        self.vmacs: dict[str, Vmac] = {}
        self._static_on = False
        try:
            if any(i.vmac for i in spec.instances):
                remove_stale_vmacs()  # a crashed node's, before ours are made
            for ispec in spec.instances:
                self.open_instance(ispec)
        except Exception:
            self.close()
            raise

    def open_instance(self, ispec: InstanceSpec) -> str:
        """Open what `ispec` needs (its macvlan with use_vmac, its advert sender, GARP and
        address handles where its VIPs live); returns its primary address. Errors raise
        RuntimeFault."""
        self.senders[ispec.name] = self._sender(ispec)
        if ispec.promote_secondaries:
            # keepalived: removing one VIP must not take its subnet's others along.
            self.sysctls.set(f"net/ipv4/conf/{ispec.interface}/promote_secondaries", 1)
        for name in {_home(ispec), *(v.dev for v in ispec.vips if v.dev)}:
            if name not in self.garps:
                self.garps[name] = GarpSender(name)
            if name not in self.addresses:
                self.addresses[name] = Addresses(name)
        return self.senders[ispec.name].src_ip

    def close_instance(self, ispec: InstanceSpec) -> None:
        """A reload removed (or will restart) `ispec`: close its advert socket and macvlan."""
        sender = self.senders.pop(ispec.name, None)
        self._encoded.pop(ispec.name, None)
        if sender is not None:
            sender.close()
        vmac = self.vmacs.pop(ispec.name, None)
        if vmac is not None:
            with contextlib.suppress(Exception):
                vmac.remove()

    def _source(self, interface: str, family: Family) -> str:
        """An interface's primary address: one netlink dump per interface and family."""
        key = (interface, family)
        if key not in self._sources:
            self._sources[key] = primary_address(interface, family)
        return self._sources[key]

    def _sender(self, ispec: InstanceSpec) -> AdvertSender:
        """Adverts leave from the instance's interface, or from its macvlan (use_vmac)
        with the base interface's address as their source, as keepalived's do."""
        src = ispec.unicast_src or ispec.mcast_src
        interface = ispec.interface
        if ispec.vmac is not None:
            base_src = self._source(ispec.interface, ispec.family)
            vmac = Vmac(ispec.vmac, ispec.interface, ispec.vrid, ispec.family)
            self.vmacs[ispec.name] = vmac
            vmac.create(base_src if ispec.family is Family.IPV6 else None)
            src = src or base_src
            if not ispec.vmac_xmit_base:
                interface = ispec.vmac
        return AdvertSender(
            interface,
            ispec.family,
            src_ip=src or self._source(interface, ispec.family),
            mcast_group=ispec.mcast_group,
            join=not ispec.unicast_peers,
        )

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
        cached = self._encoded.get(spec.name)
        # The router hands a master the same SendAdvert object while nothing changes, so
        # identity is the quick hit; an equal advert in a new object is a hit too.
        if cached is None or cached[0] is not advert:
            if cached is None or cached[0] != advert:
                cached = (advert, self._encode(spec, sender.src_ip, advert))
            else:
                cached = (advert, cached[1])
            self._encoded[spec.name] = cached
        for payload, dst in cached[1]:
            sender.send(payload, dst)

    def _encode(
        self, spec: InstanceSpec, src_ip: str, advert: act.SendAdvert
    ) -> list[tuple[bytes, str]]:
        """Each destination's message."""
        auth = Auth.SIMPLE if spec.auth_pass else Auth.NONE
        password = (spec.auth_pass or "").encode()
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
            out.append((payload, dst))
        return out

    def add_vips(self, spec: InstanceSpec, vips: tuple[Vip, ...]) -> None:
        for vip in vips:
            self.addresses[vip.dev or _home(spec)].add(vip)
        # virtual_routes/rules follow the VIPs (a route may use one as its source).
        self.routes.install([*spec.virtual_routes, *spec.virtual_rules])

    def remove_vips(self, spec: InstanceSpec, vips: tuple[Vip, ...]) -> None:
        self.routes.remove([*spec.virtual_routes, *spec.virtual_rules])
        for vip in vips:
            self.addresses[vip.dev or _home(spec)].remove(vip)

    def garp(self, spec: InstanceSpec, vips: tuple[Vip, ...]) -> None:
        for vip in vips:
            self.garps[vip.dev or _home(spec)].announce(vip.address)

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
        self.sysctls.restore()
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
        for vmac in self.vmacs.values():  # after the sockets on them; their VIPs go too
            with contextlib.suppress(Exception):
                vmac.remove()
        self.vmacs.clear()


def _home(spec: InstanceSpec) -> str:
    """Where an instance's VIPs without a `dev` live: its macvlan, else its interface."""
    return spec.vmac or spec.interface
