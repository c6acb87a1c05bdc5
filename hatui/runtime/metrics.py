"""Prometheus metrics on `--metrics [ADDR:]PORT`, with prometheus_client.

Node instances use the names and labels of the keepalived exporter people already run
(mehdy/keepalived-exporter: `keepalived_vrrp_state{iname,intf,vrid,ip_address}`, 0 INIT,
1 BACKUP, 2 MASTER, 3 FAULT; advert, become_master, release_master, pri_zero and script
series), so existing dashboards and alert rules keep working. Everything the watcher hears
on the LAN is `hatui_*` with labels interface, protocol, family, vrid
(runtime/lanmetrics.py).

The endpoint is a small HTTP server of its own threads: a scrape's body is this process's
registry as prometheus_client writes it, followed, on a node, by its LAN view's text as
the LAN view wrote it (`lan_text`): the node never parses nor re-renders the LAN's series,
and the two sets of family names are disjoint. The node's state belongs to the event loop:
a scrape asks the loop for a copy (one short callback) and builds the families in the HTTP
thread, so a slow or hostile client holds a thread, never the loop.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hatui.errors import RuntimeFault, UsageError
from hatui.runtime.lanmetrics import LanCounters, LanData, lan_data, lan_families

if TYPE_CHECKING:
    from hatui.runtime.node import Node
    from hatui.runtime.watch import Watch

log = logging.getLogger(__name__)

STATE_VALUE = {"INIT": 0, "BACKUP": 1, "MASTER": 2, "FAULT": 3}
GATHER_TIMEOUT_S = 5.0
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


@dataclass(frozen=True, slots=True)
class Gathered:
    """A copy of what a scrape reports, taken on the event loop."""

    lan: LanData | None
    instances: list[dict[str, Any]]
    scripts: dict[str, bool]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    body: Callable[[], bytes]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        if self.path.split("?")[0] not in ("/", "/metrics"):
            self.send_error(404)
            return
        body = self.server.body()
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE_LATEST)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("metrics: " + format, *args)


def _server_family(address: str) -> type[_Server]:
    if ":" not in address:
        return _Server
    import socket

    class _Server6(_Server):
        address_family = socket.AF_INET6

    return _Server6


class Exporter(Collector):
    """The /metrics endpoint of one process: its node and/or its watcher, and on a node
    the text of the LAN view it runs in another process (`lan_text`)."""

    def __init__(self, listen: str) -> None:
        self.address, self.port = parse_listen(listen)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.watch: Watch | None = None
        self.node: Node | None = None
        self.lan_text: Callable[[], bytes | None] | None = None  # blocking: the HTTP thread
        self.lan = LanCounters()
        self.registry = CollectorRegistry(auto_describe=False)
        self._server: _Server | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Bind now, so a port in use fails (one line) before the node touches a VIP."""
        try:
            server = _server_family(self.address)((self.address, self.port), _Handler)
        except OSError as exc:
            where = f"{self.address}:{self.port}"
            raise RuntimeFault(f"--metrics {where}: {exc.strerror or exc}") from None
        server.body = self.body
        self._server = server
        threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
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
        lan_text: Callable[[], bytes | None] | None = None,
    ) -> None:
        """What to report, and the loop that owns it; the watcher's events feed `lan`.
        A node reports its LAN with `lan_text` (its LAN view's own text) instead."""
        with self._lock:
            self.loop, self.watch, self.node, self.lan_text = loop, watch, node, lan_text
        if watch is not None:
            watch.sinks.append(self.lan)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def body(self) -> bytes:
        """A scrape's answer, in an HTTP thread: this registry, then the LAN view's text
        as it came (asked here: its answer never waits on the loop)."""
        own = bytes(generate_latest(self.registry))
        with self._lock:
            lan_text = self.lan_text
        text = lan_text() if lan_text is not None else None
        return own + text if text else own

    def describe(self) -> list[Metric]:
        return []

    def _gather(self) -> Gathered:
        """Runs on the event loop."""
        lan = None
        if self.watch is not None:
            snap = self.watch.observer.snapshot(self.watch.clock.wall_us())
            stats = self.lan.stats
            lan = lan_data(snap, self.lan, stats.kernel_drops if stats is not None else 0)
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
        return Gathered(lan=lan, instances=instances, scripts=scripts)

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
            yield from lan_families(data.lan)


def bind(listen: str | None) -> Exporter | None:
    """The --metrics endpoint of this process, bound now (a port in use fails here, as one
    line, before anything else starts), or None without --metrics."""
    if not listen:
        return None
    exporter = Exporter(listen)
    exporter.start()
    return exporter


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
