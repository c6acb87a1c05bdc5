"""haproxy joined to VRRP: which frontends bind a VIP, who holds it, and what is wrong.

Inputs are one poll's outcome (stats and config, or why the socket could not be read),
the addresses on this machine, and who the LAN says is master of each VIP. The output is
a frozen view the console, headless logs and JSON all read, with its alerts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, assert_never

from hatui.haproxy.config import WILDCARD, HaproxyConf
from hatui.haproxy.stats import Info, Stats


class AlertKind(StrEnum):
    DOWN = "haproxy_down"  # we hold a VIP and haproxy does not answer
    UNSERVED = "haproxy_vip_unserved"  # we hold a VIP; its frontends have no UP server
    UNBOUND = "haproxy_vip_unbound"  # we hold a VIP that no frontend binds


@dataclass(frozen=True, slots=True, kw_only=True)
class VipHolder:
    """What the VRRP side says about one VIP: the master heard on the LAN (if any)."""

    vip: str
    master: str | None
    vrid: int | None = None
    protocol: str = "vrrp"  # of the router that carries the VIP: "vrrp", "carp", "hsrp"


@dataclass(frozen=True, slots=True, kw_only=True)
class Reached:
    """A poll that got answers."""

    info: Info
    stats: Stats
    config: HaproxyConf | None  # None: the config file could not be read
    config_path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Unreached:
    """A poll that did not: `status` is the one line the panel shows."""

    status: str
    configured: bool  # False: no stats socket anywhere, so there is nothing to alert on
    hint: str = ""  # said once, with the first haproxy_unreachable (the socket was not asked for)


Outcome = Reached | Unreached


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundVip:
    vip: str
    master: str | None
    here: bool  # this machine holds it now


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    kind: AlertKind
    vip: str
    vrid: int | None
    protocol: str = "vrrp"
    cause: str  # what is wrong with the VIP: alerts of one kind and cause are one event

    @property
    def detail(self) -> str:
        return f"{self.vip} {self.cause}"


@dataclass(frozen=True, slots=True, kw_only=True)
class HaproxyView:
    socket: str
    time_us: int
    outcome: Outcome
    vips: dict[str, tuple[BoundVip, ...]]  # frontend name -> the VIPs it binds
    alerts: tuple[Alert, ...]

    @property
    def up(self) -> bool:
        return isinstance(self.outcome, Reached)


def assess(
    *,
    socket: str,
    time_us: int,
    outcome: Outcome,
    local: frozenset[str],
    holders: tuple[VipHolder, ...],
) -> HaproxyView:
    """Mark bound VIPs and raise the three alerts, for the VIPs VRRP knows about."""
    by_vip = {h.vip: h for h in holders}
    held = [h for h in holders if h.vip in local]
    vips: dict[str, tuple[BoundVip, ...]] = {}
    alerts: list[Alert] = []
    match outcome:
        case Unreached(configured=configured):
            if configured:
                alerts += [
                    Alert(
                        kind=AlertKind.DOWN,
                        vip=h.vip,
                        vrid=h.vrid,
                        protocol=h.protocol,
                        cause=f"held here but haproxy does not answer ({outcome.status})",
                    )
                    for h in held
                ]
        case Reached(stats=stats, config=conf):
            if conf is not None:
                for f in conf.frontends:
                    vips[f.name] = tuple(
                        BoundVip(vip=v, master=by_vip[v].master, here=v in local)
                        for v in _bound(f.binds, by_vip)
                    )
                alerts += _serving_alerts(held, stats, conf)
        case _:
            assert_never(outcome)
    return HaproxyView(
        socket=socket, time_us=time_us, outcome=outcome, vips=vips, alerts=tuple(alerts)
    )


def by_cause(alerts: Iterable[Alert]) -> list[list[Alert]]:
    """Alerts of one kind and cause, in order: one event or one paragraph each, however
    many VIPs (a node of 255 instances becoming master beside a stopped haproxy)."""
    groups: dict[tuple[str, str], list[Alert]] = {}
    for a in alerts:
        groups.setdefault((a.kind, a.cause), []).append(a)
    return list(groups.values())


def _bound(binds: tuple[str, ...], by_vip: dict[str, VipHolder]) -> list[str]:
    if WILDCARD in binds:
        return sorted(by_vip)
    return [b for b in binds if b in by_vip]


def _serving_alerts(held: list[VipHolder], stats: Stats, conf: HaproxyConf) -> list[Alert]:
    alerts = []
    for h in held:
        fronts = [f for f in conf.frontends if h.vip in f.binds or WILDCARD in f.binds]
        if not fronts:
            alerts.append(
                Alert(
                    kind=AlertKind.UNBOUND,
                    vip=h.vip,
                    vrid=h.vrid,
                    protocol=h.protocol,
                    cause="held here but no haproxy frontend binds it",
                )
            )
            continue
        if any(_serves(f.name, f.backends, stats) for f in fronts):
            continue
        names = ", ".join(f.name for f in fronts)
        alerts.append(
            Alert(
                kind=AlertKind.UNSERVED,
                vip=h.vip,
                vrid=h.vrid,
                protocol=h.protocol,
                cause=f"held here, nothing serving: {names} has no UP server",
            )
        )
    return alerts


def _serves(name: str, backends: tuple[str, ...], stats: Stats) -> bool:
    """A frontend serves if it is open and one of its backends has an UP server. One that
    names no backend (it answers by itself, or routes by rules we do not read) counts."""
    front = next((f for f in stats.frontends if f.name == name), None)
    if front is None or front.status not in ("OPEN", "FULL"):
        return False
    known = [b for b in (stats.backend(n) for n in backends) if b is not None]
    if not backends:
        return True
    return any(b.up_servers > 0 for b in known)


def holders(claims: Iterable[tuple[str, str | None, int | None, str]]) -> tuple[VipHolder, ...]:
    """VIP holders from (vip, master, vrid, protocol) claims: the first claim of a VIP
    holds it (two routers that claim one VIP are a misconfiguration the observer reports)."""
    out: dict[str, VipHolder] = {}
    for vip, master, vrid, protocol in claims:
        if vip not in out:
            out[vip] = VipHolder(vip=vip, master=master, vrid=vrid, protocol=protocol)
    return tuple(out.values())


def holders_from_docs(node: Mapping[str, Any] | None, routers: object) -> tuple[VipHolder, ...]:
    """VIP holders from the JSON contract documents: the node's own instances first (a
    node drops its own adverts, so the LAN view may not list what it masters), then every
    router heard on the LAN."""
    own = (
        (str(vip).split("/")[0], inst.get("master_ip"), inst.get("vrid"), "vrrp")
        for inst in (node or {}).get("instances", [])
        for vip in inst.get("vips", [])
    )
    lan = (
        (str(vip), (r.get("master") or {}).get("ip"), r.get("vrid"), str(r.get("protocol", "vrrp")))
        for r in (routers if isinstance(routers, list) else [])
        for vip in r.get("vips", [])
    )
    return holders(itertools.chain(own, lan))
