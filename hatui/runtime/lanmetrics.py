"""The LAN's metric families: what a watcher heard, as `hatui_*` series.

Built where the watcher runs: in the LAN view (runtime/lanview.py), which hands its node
the Prometheus text, and in a plain `--watch` (runtime/metrics.py). Their names never
meet the node's own families (`keepalived_*`, `hatui_node_*`): a node's /metrics is the two
texts one after the other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hatui.observe.events import Event, MasterChange
from hatui.observe.model import ObserverSnapshot

if TYPE_CHECKING:  # types only: the node's /metrics loads no capture
    from hatui.runtime.watch import CaptureStats, SnapshotGetter

RouterKey = tuple[str, str, str, int]  # interface, protocol, family, vrid
ROUTER_LABELS = ["interface", "protocol", "family", "vrid"]


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
class LanData:
    """A copy of what the LAN families report, taken where the watcher runs."""

    snap: ObserverSnapshot
    changes: dict[tuple[RouterKey, str], int]
    last_gap_s: dict[RouterKey, float]
    kernel_drops: int


def lan_data(snap: ObserverSnapshot, counters: LanCounters, kernel_drops: int) -> LanData:
    return LanData(snap, dict(counters.changes), dict(counters.last_gap_s), kernel_drops)


class _Families(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def lan_exposition(data: LanData) -> bytes:
    """The LAN families as Prometheus text: what a LAN view hands its node."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(list(lan_families(data))))
    return bytes(generate_latest(registry))


def lan_families(data: LanData) -> Iterator[Metric]:
    """The `hatui_*` families of what the watcher heard (labels: interface, protocol,
    family, vrid), never a name of the node's own families."""
    snap = data.snap

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
