"""`hatui --fleet URL`: the fleet as a Prometheus server holds it, read-only.

Refreshes run in a worker thread at the server's scrape interval; each one updates the
tables in place. A failed refresh keeps the last good view, marked stale, with the
failure as one line; no key changes anything anywhere.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from functools import partial
from typing import Protocol

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Static

from hatui.errors import EXIT_OK
from hatui.fleet.model import Alert, FleetView, Instance, Node, Router
from hatui.runtime.fleet import FleetState
from hatui.styles import STATE_STYLE
from hatui.ui.render import Column
from hatui.ui.widgets.tables import Cells, KeyedTable

MIN_INTERVAL_S = 0.5  # however short the scrape interval, at most two refreshes a second
SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


class FleetSource(Protocol):
    """The refresh (hatui.runtime.fleet.FleetPoller, or recorded answers in tests)."""

    @property
    def url(self) -> str: ...

    def interval(self) -> float: ...

    def refresh(self) -> FleetState: ...


def _ago(now: float, then: float | None) -> str:
    if then is None:
        return "-"
    seconds = max(0.0, now - then)
    return f"{seconds:.1f}s" if seconds < 60 else f"{seconds / 60:.0f}m"


class AlertsTable(KeyedTable):
    COLUMNS = (
        Column(key="severity", label="severity", width=8, rank=0),
        Column(key="kind", label="alert", width=16, rank=1),
        Column(key="detail", label="detail", width=30, rank=2, flex=True),
    )

    def show(self, alerts: Sequence[Alert]) -> None:
        def cells(a: Alert) -> Cells:
            style = SEVERITY_STYLE.get(a.severity, "")
            return {
                "severity": Text(a.severity, style=style),
                "kind": Text(a.kind, style=style),
                "detail": a.detail,
            }

        order = {"critical": 0, "warning": 1, "info": 2}
        self.sync(
            [(a.key, a, partial(cells, a), (order.get(a.severity, 3), a.key)) for a in alerts]
        )


class InstancesTable(KeyedTable):
    COLUMNS = (
        Column(key="vrid", label="VRID", width=4, rank=0),
        Column(key="vips", label="VIPs", width=15, rank=1),
        Column(key="node", label="node", width=21, rank=0, flex=True),
        Column(key="state", label="state", width=13, rank=0),
        Column(key="prio", label="prio", width=4, rank=2),
        Column(key="iname", label="name", width=10, rank=3),
        Column(key="intf", label="if", width=8, rank=5),
        Column(key="last", label="last move", width=9, rank=4),
        Column(key="elected", label="elect", width=5, rank=6),
    )

    def show(self, instances: Sequence[Instance], now: float) -> None:
        def cells(i: Instance, last: str) -> Cells:
            state = i.state if i.live else f"{i.state} (down)"
            style = STATE_STYLE.get(i.state, "") if i.live else "dim strike"
            return {
                "vrid": str(i.vrid),
                "vips": ",".join(i.vips),
                "node": i.node,
                "state": Text(state, style=style),
                "prio": "-" if i.priority is None else str(i.priority),
                "iname": i.iname,
                "intf": i.interface,
                "last": last,
                "elected": str(i.became_master) if i.became_master else "",
            }

        rows = []
        for i in instances:
            last = _ago(now, i.last_transition)
            rows.append((i.key, (i, last), partial(cells, i, last), (*i.pair, i.node)))
        self.sync(rows)


class NodesTable(KeyedTable):
    COLUMNS = (
        Column(key="instance", label="node", width=21, rank=0, flex=True),
        Column(key="up", label="up", width=4, rank=0),
        Column(key="scrape", label="scraped", width=7, rank=1),
        Column(key="job", label="job", width=8, rank=2),
    )

    def show(self, nodes: Sequence[Node], now: float) -> None:
        def cells(n: Node, ago: str) -> Cells:
            up = Text("up", style="green") if n.up else Text("DOWN", style="bold red")
            return {"instance": n.instance, "up": up, "scrape": ago, "job": n.job}

        rows = []
        for n in nodes:
            ago = _ago(now, n.last_scrape)
            key = f"{n.job}/{n.instance}"
            rows.append((key, (n.up, ago, n.job), partial(cells, n, ago), (n.up, key)))
        self.sync(rows)


class FleetRoutersTable(KeyedTable):
    COLUMNS = (
        Column(key="vrid", label="VRID", width=4, rank=0),
        Column(key="master", label="master", width=15, rank=0),
        Column(key="status", label="status", width=11, rank=1),
        Column(key="watcher", label="heard by", width=15, rank=1, flex=True),
        Column(key="prio", label="prio", width=4, rank=2),
        Column(key="where", label="if/proto", width=12, rank=3),
    )

    def show(self, routers: Sequence[Router]) -> None:
        def cells(r: Router) -> Cells:
            style = "" if r.status == "ok" else "bold red"
            return {
                "vrid": str(r.vrid),
                "master": r.master_ip,
                "status": Text(r.status, style=style),
                "prio": "-" if r.priority is None else str(r.priority),
                "watcher": r.watcher,
                "where": f"{r.interface} {r.protocol}",
            }

        self.sync([(r.key, r, partial(cells, r), (r.vrid, r.key)) for r in routers])


class FleetApp(App[int]):
    """The fleet console over one FleetSource."""

    CSS_PATH = "fleet.tcss"
    TITLE = "hatui fleet"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("q", "quit", "quit", id="quit"),
        Binding("ctrl+c", "quit", "quit", show=False, priority=True),
    ]

    def __init__(self, source: FleetSource, *, duration: float | None = None) -> None:
        super().__init__()
        self.source = source
        self.duration = duration
        self.state = FleetState(view=None)
        self.refreshes = 0

    def compose(self) -> ComposeResult:
        yield Static(f"fleet: {self.source.url}  (connecting)", id="fleet-header")
        yield Static("", id="fleet-status")
        yield AlertsTable(id="fleet-alerts")
        yield InstancesTable(id="fleet-instances")
        with Horizontal(id="fleet-bottom"):
            yield NodesTable(id="fleet-nodes")
            yield FleetRoutersTable(id="fleet-routers")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#fleet-alerts").border_title = "alerts"
        self.query_one("#fleet-instances").border_title = "VRRP instances"
        self.query_one("#fleet-nodes").border_title = "nodes"
        self.query_one("#fleet-routers").border_title = "LAN routers (watchers)"
        if self.duration is not None:
            self.set_timer(self.duration, lambda: self.exit(EXIT_OK))
        self.run_worker(self._poll(), exclusive=True, group="fleet")

    async def _poll(self) -> None:
        interval = max(MIN_INTERVAL_S, await asyncio.to_thread(self.source.interval))
        while True:
            start = time.monotonic()
            self.show(await asyncio.to_thread(self.source.refresh))
            await asyncio.sleep(max(MIN_INTERVAL_S, interval - (time.monotonic() - start)))

    def show(self, state: FleetState) -> None:
        """Draw one refresh: tables in place when there is a view; the status line says
        whether it is fresh."""
        self.state = state
        self.refreshes += 1
        view = state.view
        status = self.query_one("#fleet-status", Static)
        status.set_class(state.stale, "-stale")
        if state.stale:
            kept = "" if view is None else ", showing the last good view"
            status.update(f"stale: {state.error}{kept}")
        else:
            status.update(f"{state.queries} queries in {state.elapsed_s * 1000:.0f} ms")
        if view is None:
            return
        self._header(view)
        self.query_one(AlertsTable).show(view.alerts)
        self.query_one(InstancesTable).show(view.instances, view.time)
        self.query_one(NodesTable).show(view.nodes, view.time)
        self.query_one(FleetRoutersTable).show(view.routers)

    def _header(self, view: FleetView) -> None:
        down = sum(1 for n in view.nodes if not n.up)
        critical = sum(1 for a in view.alerts if a.severity == "critical")
        stamp = time.strftime("%H:%M:%S", time.localtime(view.time))
        text = Text(f"fleet: {self.source.url}  {stamp}  ")
        text.append(f"{len(view.nodes)} nodes")
        if down:
            text.append(f" ({down} down)", style="bold red")
        text.append(f"  {len(view.instances)} instances  {len(view.routers)} routers  ")
        text.append(f"{len(view.alerts)} alerts", style="bold red" if critical else "")
        self.query_one("#fleet-header", Static).update(text)


def run_fleet_ui(source: FleetSource, *, duration: float | None = None) -> int:
    code = FleetApp(source, duration=duration).run()
    return EXIT_OK if code is None else code
