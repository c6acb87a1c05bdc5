"""Headless output: event lines (rich) or JSON lines, and the final document."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from hatui.haproxy.events import HaproxyEvent
from hatui.haproxy.join import HaproxyView
from hatui.haproxy.report import event_to_json as haproxy_event_to_json
from hatui.observe.events import Event, MasterChange
from hatui.observe.report import event_to_json
from hatui.runtime.watch import CaptureStats, SnapshotGetter
from hatui.styles import EVENT_SEVERITY, EVENT_STYLE, STATUS_STYLE

if TYPE_CHECKING:
    from hatui.adapters.haproxy import Poll
    from hatui.haproxy.join import VipHolder
    from hatui.runtime.node import NodeEvent


def under_journald(stream: TextIO | None = None) -> bool:
    """True when `stream` (stdout) is systemd's journal (JOURNAL_STREAM names it)."""
    text = os.environ.get("JOURNAL_STREAM", "")
    try:
        dev, ino = (int(x) for x in text.split(":"))
        st = os.fstat((stream or sys.stdout).fileno())
    except (ValueError, OSError):
        return False
    return (st.st_dev, st.st_ino) == (dev, ino)


def stamp(time_us: int) -> str:
    """Wall time as an operator reads logs: UTC, milliseconds."""
    dt = datetime.fromtimestamp(time_us / 1e6, tz=UTC)
    return dt.strftime("%Y-%m-%d %H:%M:%S.") + f"{dt.microsecond // 1000:03d}"


def event_line(ev: Event) -> str:
    """One greppable line: time, kind, then the detail (which names interface and VRID);
    a master change adds its reason and why beside it."""
    return f"{stamp(ev.time)} {ev.kind}: {ev.detail}{why_suffix(ev)}"


def why_suffix(ev: Event) -> str:
    """The reason and why beside a master change's line, else nothing."""
    if isinstance(ev, MasterChange) and ev.why:
        return f" [{ev.reason}] why: {ev.why}"
    return ""


class TextSink:
    """Prints each event as a line; colour only on a terminal. Under journald: no time
    stamp of our own (the journal has one) and a `<N>` syslog severity prefix."""

    def __init__(self, out: TextIO | None = None, *, journal: bool | None = None) -> None:
        from rich.console import Console  # rich costs ~0.1 s to import: only when printing text

        self.out = out or sys.stdout
        self.journal = under_journald(self.out) if journal is None else journal
        self.console = Console(file=self.out, highlight=False, soft_wrap=True)

    def events(self, events: Sequence[Event]) -> None:
        for ev in events:
            if self.journal:
                severity = EVENT_SEVERITY.get(ev.kind, 6)
                self.out.write(f"<{severity}>{ev.kind}: {ev.detail}{why_suffix(ev)}\n")
            else:
                self.console.print(event_line(ev), style=EVENT_STYLE.get(ev.kind, ""), markup=False)
        if self.journal:
            self.out.flush()

    def snapshot(self, get: SnapshotGetter, stats: CaptureStats) -> None:
        pass


class JsonLinesSink:
    """One JSON object per event per line, flushed, for `| jq` and log shippers."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def events(self, events: Sequence[Event]) -> None:
        for ev in events:
            self.out.write(json.dumps(event_to_json(ev)) + "\n")
        self.out.flush()

    def snapshot(self, get: SnapshotGetter, stats: CaptureStats) -> None:
        pass


class NodeEventPrinter:
    """The node's own story, one line each: state changes, operator commands, errors.

    A state change is followed by keepalived's own line ("(VI_1) Entering MASTER STATE"):
    operators grep and alert on exactly that wording. Under journald, lines carry a `<N>`
    syslog severity and no time stamp of our own."""

    def __init__(
        self, out: TextIO | None = None, *, json_lines: bool = False, journal: bool | None = None
    ) -> None:
        from hatui.runtime.status import node_event_to_json

        self.out = out or sys.stdout
        self.json_lines = json_lines
        self.journal = under_journald(self.out) if journal is None else journal
        self.to_json = node_event_to_json

    def __call__(self, ev: NodeEvent) -> None:
        if ev.kind == "log" and not self.json_lines and not ev.why:
            return  # a priority change (it has a why) is part of the node's story
        if self.json_lines:
            obj = self.to_json(ev)
            self.out.write(json.dumps(obj) + "\n")
            self.out.flush()
            return
        line = f"{ev.instance}: {ev.detail} [{ev.state}, priority {ev.priority}]"
        if ev.kind == "transition" and ev.why:
            line += f" [{ev.reason}] why: {ev.why}"
        elif ev.why:
            line += f" why: {ev.why}"
        lines = [(EVENT_SEVERITY.get(f"node_{ev.kind}", 6), line)]
        if ev.kind == "transition" and ev.state in ("MASTER", "BACKUP", "FAULT"):
            severity = 4 if ev.state == "FAULT" else 5
            lines.append((severity, f"({ev.instance}) Entering {ev.state} STATE"))
        for severity, text in lines:
            prefix = f"<{severity}>" if self.journal else f"{stamp(ev.time)} "
            self.out.write(prefix + text + "\n")
        self.out.flush()


class HaproxyLog:
    """Follows the local haproxy beside a headless watch or node: its events as log lines
    (or JSON lines), its last view for the final document."""

    def __init__(
        self,
        holders: Callable[[], tuple[VipHolder, ...]],
        out: TextIO | None = None,
        *,
        json_lines: bool = False,
    ) -> None:
        from hatui.haproxy.track import Tracker

        self.holders = holders
        self.out = out or sys.stdout
        self.json_lines = json_lines
        self.tracker = Tracker()

    @property
    def view(self) -> HaproxyView | None:
        return self.tracker.view

    def __call__(self, poll: Poll) -> None:
        events = self.tracker.update(
            socket=poll.socket,
            time_us=poll.time_us,
            outcome=poll.outcome,
            local=poll.local,
            holders=self.holders(),
        )
        self.events(events)

    def events(self, events: Sequence[HaproxyEvent]) -> None:
        for ev in events:
            if self.json_lines:
                self.out.write(json.dumps(haproxy_event_to_json(ev)) + "\n")
            else:
                self.out.write(f"{stamp(ev.time_us)} {ev.kind}: {ev.detail}\n")
        if events:
            self.out.flush()


def print_document(
    doc: dict[str, object], out: TextIO | None = None, *, lines: bool = False
) -> None:
    """The document, indented; on one line when it ends a JSON-lines stream."""
    text = json.dumps(doc) if lines else json.dumps(doc, indent=2)
    (out or sys.stdout).write(text + "\n")


def print_summary(doc: dict[str, object], out: TextIO | None = None) -> None:
    """A readable summary of a JSON document: routers, failovers, findings, counters."""
    from rich.console import Console
    from rich.table import Table

    stream = out or sys.stdout
    # A pipe or file gets the whole table; a terminal gets its own width.
    width = None if stream.isatty() else 160
    console = Console(file=stream, highlight=False, width=width)
    routers = doc.get("routers", [])
    table = Table(title="Virtual routers", title_justify="left")
    for col in (
        "if",
        "fam",
        "VRID",
        "proto",
        "master",
        "MAC",
        "prio",
        "int ms",
        "VIPs",
        "auth",
        "adverts",
        "status",
    ):
        table.add_column(col)
    assert isinstance(routers, list)
    for r in routers:
        master = r.get("master") or {}
        mac = master.get("mac", "")
        if r.get("virtual_mac"):
            mac += " (vmac)"
        status = r.get("status", "")
        style = STATUS_STYLE.get(status, "")
        table.add_row(
            r["interface"],
            r["family"],
            str(r["vrid"]),
            _proto(r),
            master.get("ip", ""),
            mac,
            str(r["priority"]),
            f"{r['advert_interval_ms']:g}",
            " ".join(r["vips"]),
            r["auth"],
            str(r["adverts"]),
            f"[{style}]{status}[/]" if style else status,
        )
    console.print(table)
    failovers = doc.get("failovers", [])
    assert isinstance(failovers, list)
    if failovers:
        console.print("[bold]Failovers[/]")
        for f in failovers:
            console.print(
                f"  {stamp(int(f['new_first_advert'] * 1e6))} {_number(f)} "
                f"{f['from']} -> {f['to']}  {f['cause']}, gap {f['gap_ms']:.1f} ms",
                markup=False,
            )
            if f.get("why"):
                console.print(f"    {f['reason']}: {f['why']}", markup=False, style="dim")
    events = doc.get("events", [])
    assert isinstance(events, list)
    findings = [e for e in events if e["kind"] not in ("new_router", "master_change")]
    if findings:
        console.print("[bold]Findings[/]")
        for e in findings:
            vrid = f"{_number(e)} " if e.get("vrid") is not None else ""
            console.print(
                f"  {stamp(int(e['time'] * 1e6))} {vrid}{e['kind']}: {e['detail']}", markup=False
            )
    counters = doc.get("counters", {})
    assert isinstance(counters, dict)
    rejected = counters.get("rejected", {})
    bad = ", ".join(f"{k} {v}" for k, v in rejected.items() if v)
    others = "".join(f"{k} {counters[k]}, " for k in ("carp", "hsrp", "glbp") if counters.get(k))
    console.print(
        f"frames {counters.get('frames', 0)}, vrrp {counters.get('vrrp', 0)}, "
        f"arp {counters.get('arp', 0)}, {others}rejected: {bad or 'none'}",
        markup=False,
    )
    haproxy = doc.get("haproxy")
    if isinstance(haproxy, dict):
        console.print(haproxy_summary(haproxy), markup=False)
    console.print("[dim]Only masters advertise: backups appear only when they speak.[/]")


def _proto(r: dict[str, object]) -> str:
    """The protocol column: V2 / V3 for VRRP, else the protocol's name."""
    protocol = str(r.get("protocol", "vrrp"))
    return f"V{r.get('version')}" if protocol == "vrrp" else protocol.upper()


def _number(d: dict[str, object]) -> str:
    """How a router is named in a line: "vrid 51", "hsrp group 10", "carp vhid 7"."""
    label = {"hsrp": "hsrp group", "carp": "carp vhid", "glbp": "glbp group"}
    return f"{label.get(str(d.get('protocol')), 'vrid')} {d['vrid']}"


def haproxy_summary(h: dict[str, Any]) -> str:
    """One line about the local haproxy for the text summary."""
    if h.get("status") != "up":
        return f"haproxy: {h.get('error', h.get('status'))}"
    backs = ", ".join(f"{b['name']} {b['up']}/{b['total']} UP" for b in h.get("backends", []))
    alerts = "; ".join(a["detail"] for a in h.get("alerts", [])) or "no alerts"
    return f"haproxy {h.get('version')} at {h.get('socket')}: {backs or 'no backends'}; {alerts}"
