"""The fleet's typed view: nodes, VRRP instances, LAN routers and alerts (pure)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    """A scrape target: `instance` is Prometheus's label, `last_scrape` its last sample."""

    instance: str
    job: str
    up: bool
    last_scrape: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Instance:
    """A VRRP instance as its node reports it; `live` False: the node is down and this is
    its last known state."""

    node: str
    job: str
    iname: str
    interface: str
    vrid: int
    state: str
    priority: int | None
    vips: tuple[str, ...]
    live: bool
    last_transition: float | None = None
    became_master: int = 0  # in queries.WINDOW

    @property
    def key(self) -> str:
        return f"{self.job}/{self.node}/{self.iname}"

    @property
    def pair(self) -> tuple[int, tuple[str, ...], str]:
        """What the nodes of one pair share: the VRID and VIPs (the interface when a node
        reports no VIP). Names differ from node to node, VIPs do not."""
        return (self.vrid, self.vips, "" if self.vips else self.interface)


@dataclass(frozen=True, slots=True, kw_only=True)
class Router:
    """A virtual router a watcher hears on its LAN (`hatui_router_*`)."""

    watcher: str
    interface: str
    protocol: str
    family: str
    vrid: int
    master_ip: str
    master_mac: str
    priority: int | None
    status: str  # ok | split_brain | stale
    senders: int | None
    advert_age_s: float | None
    changes: int = 0  # master changes in queries.WINDOW

    @property
    def key(self) -> str:
        return f"{self.watcher}/{self.interface}/{self.protocol}/{self.family}/{self.vrid}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """A condition across nodes: `kind` two_masters, no_master, no_backup,
    down_holding_vip, failover, flapping, split_brain or stale."""

    kind: str
    severity: str  # critical | warning | info
    vrid: int
    vips: tuple[str, ...]
    interface: str
    nodes: tuple[str, ...]
    detail: str

    @property
    def key(self) -> str:
        vips, nodes = ",".join(self.vips), ",".join(self.nodes)
        return f"{self.kind}/{self.vrid}/{vips}/{self.interface}/{nodes}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetView:
    time: float
    nodes: tuple[Node, ...]
    instances: tuple[Instance, ...]
    routers: tuple[Router, ...]
    alerts: tuple[Alert, ...] = ()
