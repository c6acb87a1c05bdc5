"""Prometheus metrics on `--metrics [ADDR:]PORT`, with prometheus_client.

Node instances use the names and labels of the keepalived exporter people already run
(mehdy/keepalived-exporter: `keepalived_vrrp_state{iname,intf,vrid,ip_address}`, 0 INIT,
1 BACKUP, 2 MASTER, 3 FAULT; advert, become_master, release_master, pri_zero and script
series), so existing dashboards and alert rules keep working. Everything the watcher hears
on the LAN is `hatui_*` with labels interface, protocol, family, vrid.

prometheus_client serves HTTP from its own threads; the node's state belongs to the event
loop. A scrape therefore asks the loop for a copy (one short callback) and builds the
families in the HTTP thread: a slow or hostile client holds a thread, never the loop.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from hatui.errors import RuntimeFault, UsageError
from hatui.observe.events import Event, MasterChange
from hatui.runtime.watch import CaptureStats, SnapshotGetter

if TYPE_CHECKING:
    from hatui.observe.model import ObserverSnapshot
    from hatui.runtime.lanview import LanView
    from hatui.runtime.node import Node
    from hatui.runtime.watch import Watch

log = logging.getLogger(__name__)

STATE_VALUE = {"INIT": 0, "BACKUP": 1, "MASTER": 2, "FAULT": 3}
GATHER_TIMEOUT_S = 5.0
RouterKey = tuple[str, str, str, int]  # interface, protocol, family, vrid
ROUTER_LABELS = ["interface", "protocol", "family", "vrid"]
# keepalived exporter counter (and hatui's own) -> the node's per-instance stat. Not
# reported: the exporter's packet_len, ip_ttl, invalid_type and addr_list errors, which
# hatui counts per interface as hatui_frames_rejected{reason} (a bad frame has no instance).
NODE_COUNTERS = {
    "keepalived_advert_rcvd": ("advert_rcvd", "Advertisements received"),
    "keepalived_advert_sent": ("advert_sent", "Advertisements sent"),
    "keepalived_become_master": ("become_master", "Became master"),
    "keepalived_release_master": ("release_master", "Released master"),
    "keepalived_pri_zero_rcvd": ("pri_zero_rcvd", "Priority zero received"),
    "keepalived_pri_zero_sent": ("pri_zero_sent", "Priority zero sent"),
    "keepalived_advert_interval_err": ("discard_interval", "Advertisement interval errors"),
    "keepalived_auth_failure": ("discard_auth", "Authentication failures"),
    "hatui_node_garp_rounds": ("garp_rounds", "Gratuitous ARP/NA rounds sent"),
}


def parse_listen(text: str) -> tuple[str, int]:
    """`PORT`, `ADDR:PORT` or `[V6ADDR]:PORT` -> (address, port); UsageError otherwise."""
    addr, sep, port = text.rpartition(":")
    if not sep:
        addr = "0.0.0.0"
    addr = addr.strip("[]") or "0.0.0.0"
    try:
        ipaddress.ip_address(addr)
        number = int(port)
    except ValueError:
        raise UsageError(
            f"--metrics {text}: expected [ADDR:]PORT, e.g. 9650 or 127.0.0.1:9650"
        ) from None
    if not 0 <= number < 65536:
        raise UsageError(f"--metrics {text}: port out of range 0..65535")
    return addr, number


@dataclass
class LanCounters:
    """What only events tell: master changes by cause and the last failover's gap."""

    changes: Counter[tuple[RouterKey, str]] = field(default_factory=Counter)
    last_gap_s: dict[RouterKey, float] = field(default_factory=dict)
    stats: CaptureStats | None = None

    def events(self, events: Sequence[Event]) -> None:
        for ev in events:
            if isinstance(ev, MasterChange) and ev.interface and ev.family and ev.vrid:
                key = (ev.interface, str(ev.protocol), str(ev.family), ev.vrid)
                self.changes[(key, str(ev.cause))] += 1
                self.last_gap_s[key] = ev.gap_us / 1e6

    def snapshot(self, get: SnapshotGetter, stats: CaptureStats) -> None:
        self.stats = stats  # never calls get(): a scrape builds its own snapshot


@dataclass(frozen=True, slots=True)
class Gathered:
    """A copy of what a scrape reports, taken on the event loop."""

    lan: ObserverSnapshot | None
    changes: dict[tuple[RouterKey, str], int]
    last_gap_s: dict[RouterKey, float]
    kernel_drops: int
    instances: list[dict[str, Any]]
    scripts: dict[str, bool]


class Exporter(Collector):
    """The /metrics endpoint of one process: its node and/or its watcher, or a node and
    the LAN view it runs in another process."""

    def __init__(self, listen: str) -> None:
        self.address, self.port = parse_listen(listen)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.watch: Watch | None = None
        self.node: Node | None = None
        self.lan_view: LanView | None = None  # a node's LAN, from its LAN-view process
        self.lan = LanCounters()
        self.registry = CollectorRegistry(auto_describe=False)
        self._server: Any = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Bind now, so a port in use fails (one line) before the node touches a VIP."""
        try:
            self._server, _thread = start_http_server(
                self.port, addr=self.address, registry=self.registry
            )
        except OSError as exc:
            where = f"{self.address}:{self.port}"
            raise RuntimeFault(f"--metrics {where}: {exc.strerror or exc}") from None
        self.registry.register(self)

    @property
    def bound_port(self) -> int:
        """The port listened on (the one asked for, or the kernel's pick for port 0)."""
        return int(self._server.server_port) if self._server is not None else self.port

    def attach(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        watch: Watch | None,
        node: Node | None,
        lan_view: LanView | None = None,
    ) -> None:
        """What to report, and the loop that owns it; the watcher's events feed `lan`.
        A node reports its LAN from `lan_view` (another process) instead of a watch."""
        with self._lock:
            self.loop, self.watch, self.node, self.lan_view = loop, watch, node, lan_view
        if watch is not None:
            watch.sinks.append(self.lan)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def describe(self) -> list[Metric]:
        return []

    def _gather(self) -> Gathered:
        """Runs on the event loop."""
        lan = None
        if self.watch is not None:
            lan = self.watch.observer.snapshot(self.watch.clock.wall_us())
        instances: list[dict[str, Any]] = []
        scripts: dict[str, bool] = {}
        if self.node is not None:
            for name in self.node.instance_names():
                router = self.node.router(name)
                spec = router.spec
                history = self.node.history(name)
                instances.append(
                    {
                        "iname": name,
                        "intf": spec.interface,
                        "vrid": str(spec.vrid),
                        "vips": [v.address for v in spec.vips],
                        "state": str(router.state),
                        "priority": router.effective_priority,
                        "stats": dict(self.node.instance_stats(name)),
                        "last_transition": None
                        if history.last is None
                        else history.last.time / 1e6,
                        "transitions": history.transitions,
                        "near_failovers": history.near_failovers,
                        "trackers": {t.name: t.contribution for t in router.trackers},
                    }
                )
                for tracker in router.trackers:
                    if tracker.kind == "script":
                        scripts[tracker.name] = scripts.get(tracker.name, True) and tracker.ok
        stats = self.lan.stats
        return Gathered(
            lan=lan,
            changes=dict(self.lan.changes),
            last_gap_s=dict(self.lan.last_gap_s),
            kernel_drops=stats.kernel_drops if stats is not None else 0,
            instances=instances,
            scripts=scripts,
        )

    def collect(self) -> Iterator[Metric]:
        """Runs in an HTTP thread: a copy from the loop, then the families."""
        with self._lock:
            loop = self.loop
        if loop is None or loop.is_closed():
            return
        done = threading.Event()
        box: list[Gathered] = []

        def gather() -> None:
            try:
                box.append(self._gather())
            finally:
                done.set()

        try:
            loop.call_soon_threadsafe(gather)
        except RuntimeError:  # the loop closed: shutting down
            return
        if not done.wait(GATHER_TIMEOUT_S) or not box:
            log.warning("metrics: the event loop did not answer within %s s", GATHER_TIMEOUT_S)
            return
        data = box[0]
        if self.node is not None:
            yield from _node_families(data)
        if data.lan is not None:
            yield from _lan_families(data)
        if self.lan_view is not None:
            # Asked here, in the HTTP thread: the LAN view's answer never waits on the loop.
            text = self.lan_view.metrics()
            if text:
                yield from text_string_to_metric_families(text.decode())


class _Families(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def lan_exposition(snap: ObserverSnapshot, lan: LanCounters, kernel_drops: int) -> bytes:
    """The LAN families as Prometheus text: what a LAN-view process hands its node."""
    data = Gathered(
        lan=snap,
        changes=dict(lan.changes),
        last_gap_s=dict(lan.last_gap_s),
        kernel_drops=kernel_drops,
        instances=[],
        scripts={},
    )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(list(_lan_families(data))))
    return bytes(generate_latest(registry))


def _node_families(data: Gathered) -> Iterator[Metric]:
    up = GaugeMetricFamily("keepalived_up", "Status of the VRRP daemon (hatui's node)")
    up.add_metric([], 1)
    yield up
    state = GaugeMetricFamily(
        "keepalived_vrrp_state",
        "State of vrrp: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT",
        labels=["iname", "intf", "vrid", "ip_address"],
    )
    prio = GaugeMetricFamily(
        "hatui_node_priority",
        "Effective priority of each instance",
        labels=["iname", "intf", "vrid"],
    )
    counters = {
        name: CounterMetricFamily(name, text, labels=["iname", "intf", "vrid"])
        for name, (_key, text) in NODE_COUNTERS.items()
    }
    for inst in data.instances:
        labels = [inst["iname"], inst["intf"], inst["vrid"]]
        for vip in inst["vips"]:
            state.add_metric([*labels, vip], STATE_VALUE.get(inst["state"], 0))
        prio.add_metric(labels, inst["priority"])
        for name, (key, _text) in NODE_COUNTERS.items():
            counters[name].add_metric(labels, inst["stats"].get(key, 0))
    yield state
    yield prio
    yield from counters.values()
    yield from _transition_families(data)
    script = GaugeMetricFamily(
        "keepalived_script_status", "Tracker script status: 1 good, 0 bad", labels=["name"]
    )
    for name, ok in sorted(data.scripts.items()):
        script.add_metric([name], 1 if ok else 0)
    yield script


def _transition_families(data: Gathered) -> Iterator[Metric]:
    """Why and when instances changed state (labels as the keepalived exporter's)."""
    labels3 = ["iname", "intf", "vrid"]
    last = GaugeMetricFamily(
        "hatui_instance_last_transition_timestamp_seconds",
        "When the instance last changed state (seconds since the epoch)",
        labels=labels3,
    )
    count = CounterMetricFamily(
        "hatui_instance_transitions",
        "State changes, by the state entered",
        labels=[*labels3, "to"],
    )
    effective = GaugeMetricFamily(
        "hatui_instance_effective_priority",
        "Priority adverts carry: base or operator override plus trackers",
        labels=labels3,
    )
    weight = GaugeMetricFamily(
        "hatui_tracker_weight",
        "Each tracked object's current contribution to the instance's priority",
        labels=[*labels3, "tracker"],
    )
    near = CounterMetricFamily(
        "hatui_instance_near_failover",
        "Times the instance's Master_Down timer was within one interval of expiry",
        labels=labels3,
    )
    for inst in data.instances:
        labels = [inst["iname"], inst["intf"], inst["vrid"]]
        if inst["last_transition"] is not None:
            last.add_metric(labels, inst["last_transition"])
        for to, n in sorted(inst["transitions"].items()):
            count.add_metric([*labels, to], n)
        effective.add_metric(labels, inst["priority"])
        for tracker, part in sorted(inst["trackers"].items()):
            weight.add_metric([*labels, tracker], part)
        near.add_metric(labels, inst["near_failovers"])
    yield from (last, count, effective, weight, near)


def _vip_families(snap: ObserverSnapshot) -> Iterator[Metric]:
    """Every VIP heard (observe/vips.py): owner, conflict, moves and the last move's gap."""
    labels = ["interface", "vip"]
    owner = GaugeMetricFamily(
        "hatui_vip_owner_info",
        "The MAC answering for a VIP, and its own IP",
        labels=[*labels, "mac", "ip"],
    )
    conflict = GaugeMetricFamily(
        "hatui_vip_conflict", "1 while two MACs answer for a VIP", labels=labels
    )
    moves = CounterMetricFamily("hatui_vip_moves", "Owner changes of a VIP", labels=labels)
    gap = GaugeMetricFamily(
        "hatui_vip_last_move_gap_seconds",
        "From the old owner's last answer to the new owner's first, at the last move",
        labels=labels,
    )
    for v in snap.vips:
        if not v.interface:  # listed, never heard
            continue
        key = [v.interface, v.ip]
        if v.mac is not None:
            owner.add_metric([*key, v.mac, v.owner_ip or ""], 1)
        conflict.add_metric(key, 1 if v.conflict is not None else 0)
        moves.add_metric(key, v.moves)
        if v.last_move is not None:
            gap.add_metric(key, v.last_move.gap_us / 1e6)
    yield from (owner, conflict, moves, gap)


def _lan_families(data: Gathered) -> Iterator[Metric]:
    snap = data.lan
    assert snap is not None

    def gauge(name: str, text: str, extra: Sequence[str] = ()) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, text, labels=[*ROUTER_LABELS, *extra])

    master = gauge(
        "hatui_router_master", "The master heard, as labels", ["master_ip", "master_mac"]
    )
    priority = gauge("hatui_router_priority", "The master's advertised priority")
    interval = gauge("hatui_router_advert_interval_seconds", "The master's advert interval")
    age = gauge("hatui_router_advert_age_seconds", "Time since the master's last advert")
    down = gauge("hatui_router_master_down_seconds", "RFC Master_Down_Interval for this router")
    senders = gauge("hatui_router_senders", "Addresses heard advertising (backups speak rarely)")
    split = gauge("hatui_router_split_brain", "1 while two senders claim master")
    stale = gauge("hatui_router_stale", "1 while the master is silent past Master_Down_Interval")
    mismatch = gauge("hatui_router_mismatch", "1 while senders' configs disagree")
    foreign = gauge("hatui_router_vip_foreign_mac", "VIPs answered (ARP/ND) by another MAC")
    adverts = CounterMetricFamily("hatui_router_adverts", "Adverts heard", labels=ROUTER_LABELS)
    changes = CounterMetricFamily(
        "hatui_router_master_change", "Master changes by cause", labels=[*ROUTER_LABELS, "cause"]
    )
    gap = gauge("hatui_router_last_failover_gap_seconds", "Silence between the last two masters")
    near = CounterMetricFamily(
        "hatui_router_near_failover",
        "Near failovers: the master silent 2+ adverts in a row, no takeover",
        labels=ROUTER_LABELS,
    )
    owners = {(a.interface, a.ip): a.mac for a in snap.arp}
    now = snap.time
    for r in snap.routers:
        key: RouterKey = (r.interface, str(r.protocol), str(r.family), r.vrid)
        labels = [r.interface, key[1], key[2], str(r.vrid)]
        master.add_metric([*labels, r.master_ip, r.master_mac], 1)
        priority.add_metric(labels, r.priority)
        interval.add_metric(labels, r.interval_cs / 100)
        age.add_metric(labels, max(0, now - r.master_last_advert) / 1e6)
        down.add_metric(labels, r.master_down_us / 1e6)
        senders.add_metric(labels, len(r.senders))
        split.add_metric(labels, 1 if r.status == "split_brain" else 0)
        stale.add_metric(labels, 1 if r.status == "stale" else 0)
        mismatch.add_metric(labels, 1 if r.mismatches else 0)
        answered = [owners.get((r.interface, v)) for v in r.vips]
        foreign.add_metric(labels, sum(1 for mac in answered if mac and mac != r.master_mac))
        adverts.add_metric(labels, r.adverts)
        near.add_metric(labels, r.near_failovers)
    for (key, cause), count in sorted(data.changes.items()):
        changes.add_metric([key[0], key[1], key[2], str(key[3]), cause], count)
    for key, seconds in sorted(data.last_gap_s.items()):
        gap.add_metric([key[0], key[1], key[2], str(key[3])], seconds)
    yield from (master, priority, interval, age, down, senders, split, stale, mismatch, foreign)
    yield from (adverts, changes, gap, near)
    yield from _vip_families(snap)
    frames = CounterMetricFamily("hatui_frames", "Frames the watcher decoded or rejected")
    frames.add_metric([], snap.counters.frames)
    rejected = CounterMetricFamily(
        "hatui_frames_rejected", "Frames rejected, by reason", labels=["reason"]
    )
    for reason, count in sorted(snap.counters.rejected.items()):
        rejected.add_metric([reason], count)
    drops = CounterMetricFamily("hatui_kernel_drops", "Frames the kernel dropped before capture")
    drops.add_metric([], data.kernel_drops)
    yield from (frames, rejected, drops)
