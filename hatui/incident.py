"""The incident report of `hatui --read FILE --report OUT.html`: one self-contained HTML page
(inline CSS and SVG, no fetch of any kind) with a swimlane per router and per node instance
on one time axis, master and priority over time, every failover with its reason, why and
gap, near failovers, ARP ownership changes and findings. Nodes' JSON logs (`--serve
--headless --json` output, `--node-log`) join the same timeline.

Built from the JSON document (docs/json.md) and node event lines alone, so a report can
be made from saved output as well as from a capture."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from hatui.errors import UsageError

Json = dict[str, object]

WIDTH = 1100  # the SVG's width in user units; it scales to the page
LEFT = 170  # the lane labels' column
RIGHT = 45
BAND = 18  # the master (or state) band
PLOT = 44  # the priority plot
STRIP = 12  # markers: failovers, near failovers, ARP owner changes
LANE = 12 + BAND + 4 + PLOT + 4 + STRIP + 12
AXIS = 28
STATE_FILL = {"MASTER": "#2e7d32", "BACKUP": "#90a4ae", "FAULT": "#c62828", "INIT": "#eceff1"}
# What the Findings section lists: what is wrong, or was, on the LAN.
FINDINGS = frozenset(
    {
        "split_brain",
        "split_brain_healed",
        "stale",
        "stale_recovered",
        "mismatch",
        "vip_foreign_mac",
        "vip_conflict",
        "vip_conflict_cleared",
        "owner_claim",
        "rejected",
    }
)


@dataclass(slots=True)
class _NodeLane:
    node: str
    instance: str
    events: list[Json] = field(default_factory=list)


def read_node_log(path: str) -> list[Json]:
    """The node events (`node_*` kinds) of a `--serve --headless --json` log; any other
    line (the final document, LAN events, text) is skipped. A file that cannot be read or
    holds no node event is a usage error."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as exc:
        raise UsageError(f"--node-log {path}: {exc.strerror or exc}") from None
    out: list[Json] = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        kind = obj.get("kind") if isinstance(obj, dict) else None
        if isinstance(kind, str) and kind.startswith("node_") and "time" in obj:
            out.append(obj)
    if not out:
        raise UsageError(
            f"--node-log {path}: no node events (expected `hatui --serve --headless --json` output)"
        )
    return out


def _num(x: object, default: float = 0.0) -> float:
    return float(x) if isinstance(x, int | float) else default


def _clock(t: float, *, ms: bool = True) -> str:
    dt = datetime.fromtimestamp(t, tz=UTC)
    text = dt.strftime("%H:%M:%S")
    return text + f".{dt.microsecond // 1000:03d}" if ms else text


def _stamp(t: float) -> str:
    dt = datetime.fromtimestamp(t, tz=UTC)
    return dt.strftime("%Y-%m-%d %H:%M:%S.") + f"{dt.microsecond // 1000:03d}"


def _colour(ip: str) -> str:
    """A stable colour per address, so one router keeps its colour in every lane."""
    h = int(hashlib.blake2s(ip.encode(), digest_size=2).hexdigest(), 16)
    return f"hsl({h % 360}, 55%, 48%)"


def _rkey(obj: Json) -> tuple[str, str, str, int]:
    vrid = obj.get("vrid")
    return (
        str(obj.get("interface", "")),
        str(obj.get("family", "")),
        str(obj.get("protocol", "vrrp")),
        int(vrid) if isinstance(vrid, int) else -1,
    )


def _rlabel(key: tuple[str, str, str, int]) -> str:
    what = {"hsrp": "group", "carp": "vhid"}.get(key[2], "vrid")
    return f"{key[0]} {key[1]} {what} {key[3]}"


class _Axis:
    def __init__(self, t0: float, t1: float) -> None:
        self.t0 = t0
        self.span = max(t1 - t0, 1e-3)

    def x(self, t: float) -> float:
        return LEFT + (t - self.t0) / self.span * (WIDTH - LEFT - RIGHT)

    def ticks(self) -> list[float]:
        for step in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600):
            if self.span / step <= 10:
                break
        else:
            step = 3600.0
        first = (self.t0 // step + 1) * step
        return [first + k * step for k in range(int(self.span // step) + 1)]


def _title(text: str) -> str:
    return f"<title>{escape(text)}</title>"


def _priority_path(points: list[tuple[float, int]], axis: _Axis, top: float, end: float) -> str:
    """A step line of priority over time, 0..255 bottom to top."""
    if not points:
        return ""
    d = []
    for i, (t, p) in enumerate(points):
        y = top + PLOT - p / 255 * PLOT
        x = axis.x(t)
        d.append(f"M{x:.1f},{y:.1f}" if i == 0 else f"H{x:.1f}V{y:.1f}")
    d.append(f"H{axis.x(end):.1f}")
    return (
        f'<path class="priority" d="{"".join(d)}" fill="none" stroke="#37474f" stroke-width="1.5"/>'
    )


def _router_lane(
    r: Json, events: list[Json], failovers: list[Json], axis: _Axis, y: float, end: float
) -> list[str]:
    key = _rkey(r)
    out = [f'<g class="lane router" data-router="{escape(_rlabel(key))}">']
    out.append(f'<text x="6" y="{y + 24}" class="lane-label">{escape(_rlabel(key))}</text>')
    out.append(f'<text x="6" y="{y + 40}" class="lane-sub">master / priority</text>')
    band = y + 12
    history = r.get("history")
    for h in history if isinstance(history, list) else []:
        since = _num(h.get("since"))
        until = _num(h.get("until"), end) if h.get("until") is not None else end
        x0, x1 = axis.x(since), axis.x(until)
        ip = str(h.get("ip", ""))
        tip = f"{ip} master {_clock(since)} - {_clock(until)} ({h.get('reason', '')})"
        out.append(
            f'<rect class="term" x="{x0:.1f}" y="{band}" width="{max(x1 - x0, 0.5):.1f}" '
            f'height="{BAND}" fill="{_colour(ip)}">{_title(tip)}</rect>'
        )
        if x1 - x0 > 8 * len(ip):
            out.append(f'<text x="{x0 + 4:.1f}" y="{band + 13}" class="term-ip">{ip}</text>')
    plot = band + BAND + 4
    points: list[tuple[float, int]] = []
    for e in events:
        kind, t = e.get("kind"), _num(e.get("time"))
        if kind == "new_router" and isinstance(e.get("priority"), int):
            points.append((t, int(e["priority"])))  # type: ignore[call-overload]
        elif kind == "priority_change" and str(e.get("new", "")).isdigit():
            points.append((t, int(str(e["new"]))))
        elif kind == "release":
            points.append((t, 0))
        elif kind == "master_change" and isinstance(e.get("to_priority"), int):
            points.append((t, int(e["to_priority"])))  # type: ignore[call-overload]
    if not points:
        points = [(_num(r.get("first_seen")), int(_num(r.get("priority"))))]
    out.append(
        f'<rect x="{LEFT}" y="{plot}" width="{WIDTH - LEFT - RIGHT}" height="{PLOT}" '
        'class="plot-bg"/>'
    )
    out.append(_priority_path(sorted(points), axis, plot, end))
    for p in (0, 255):
        yy = plot + PLOT - p / 255 * PLOT
        out.append(f'<text x="{LEFT - 4}" y="{yy + 3:.1f}" class="tick-r">{p}</text>')
    strip = plot + PLOT + 4
    for f in failovers:
        old, new = _num(f.get("old_last_advert")), _num(f.get("new_first_advert"))
        x0, x1 = sorted((axis.x(old), axis.x(new)))
        gap = _num(f.get("gap_ms"))
        tip = (
            f"{_stamp(new)} failover {f.get('from')} -> {f.get('to')} ({f.get('reason')}),"
            f" gap {gap:.3f} ms: {f.get('why', '')}"
        )
        out.append(
            f'<rect class="gap" x="{x0:.1f}" y="{band + BAND + 4}" '
            f'width="{max(x1 - x0, 1):.1f}" height="{PLOT}">{_title(tip)}</rect>'
        )
        out.append(
            f'<line class="failover" data-reason="{escape(str(f.get("reason", "")))}" '
            f'data-gap-ms="{gap:.3f}" x1="{x1:.1f}" x2="{x1:.1f}" y1="{band - 4}" '
            f'y2="{strip + STRIP}">{_title(tip)}</line>'
        )
    for e in events:
        kind, t = e.get("kind"), _num(e.get("time"))
        x = axis.x(t)
        detail = f"{_stamp(t)} {e.get('detail', '')}"
        if kind == "near_failover":
            out.append(
                f'<path class="near-failover" d="M{x:.1f},{strip}l5,{STRIP}h-10z">'
                f"{_title(detail)}</path>"
            )
        elif kind == "arp_owner_change":
            out.append(
                f'<rect class="arp-change" x="{x - 3:.1f}" y="{strip + 2}" width="6" '
                f'height="{STRIP - 4}">{_title(detail)}</rect>'
            )
        elif kind in ("split_brain", "stale", "mismatch", "vip_foreign_mac", "owner_claim"):
            since = _num(e.get("since"), t) if kind == "split_brain" else t
            healed = "split_brain_healed" if kind == "split_brain" else "stale_recovered"
            ends = [
                _num(o.get("time"))
                for o in events
                if o.get("kind") == healed and _num(o.get("time")) >= t
            ]
            stop = min(ends) if ends else end
            if kind in ("split_brain", "stale"):
                x0, x1 = axis.x(since), axis.x(stop)
                out.append(
                    f'<rect class="finding {kind}" x="{x0:.1f}" y="{band - 2}" '
                    f'width="{max(x1 - x0, 2):.1f}" height="{BAND + 4}">{_title(detail)}</rect>'
                )
            else:
                out.append(
                    f'<circle class="finding {kind}" cx="{x:.1f}" cy="{strip + STRIP / 2}" '
                    f'r="4">{_title(detail)}</circle>'
                )
    out.append("</g>")
    return out


def _node_lane(lane: _NodeLane, axis: _Axis, y: float, end: float) -> list[str]:
    label = f"{lane.node}: {lane.instance}"
    short = label if len(label) <= 24 else "..." + label[-21:]  # the label column's width
    out = [f'<g class="lane node" data-node="{escape(label)}">']
    out.append(f'<text x="6" y="{y + 24}" class="lane-label">{escape(short)}{_title(label)}</text>')
    out.append(f'<text x="6" y="{y + 40}" class="lane-sub">node state / priority</text>')
    band = y + 12
    states = [e for e in lane.events if e.get("kind") == "node_transition"]
    for i, e in enumerate(states):
        t0 = _num(e.get("time"))
        t1 = _num(states[i + 1].get("time")) if i + 1 < len(states) else end
        state = str(e.get("state", ""))
        x0, x1 = axis.x(t0), axis.x(t1)
        tip = f"{_stamp(t0)} {e.get('detail', '')} [{e.get('reason', '')}] {e.get('why', '')}"
        out.append(
            f'<rect class="state" x="{x0:.1f}" y="{band}" width="{max(x1 - x0, 0.5):.1f}" '
            f'height="{BAND}" fill="{STATE_FILL.get(state, "#b0bec5")}">{_title(tip)}</rect>'
        )
        if x1 - x0 > 60:
            out.append(f'<text x="{x0 + 4:.1f}" y="{band + 13}" class="term-ip">{state}</text>')
        out.append(
            f'<line class="node-transition" x1="{x0:.1f}" x2="{x0:.1f}" y1="{band - 4}" '
            f'y2="{band + BAND + 4 + PLOT}">{_title(tip)}</line>'
        )
    plot = band + BAND + 4
    points = [
        (_num(e.get("time")), int(_num(e.get("priority"))))
        for e in lane.events
        if isinstance(e.get("priority"), int)
    ]
    out.append(
        f'<rect x="{LEFT}" y="{plot}" width="{WIDTH - LEFT - RIGHT}" height="{PLOT}" '
        'class="plot-bg"/>'
    )
    out.append(_priority_path(sorted(points), axis, plot, end))
    strip = plot + PLOT + 4
    for e in lane.events:
        if e.get("kind") == "node_near_failover":
            x = axis.x(_num(e.get("time")))
            tip = f"{_stamp(_num(e.get('time')))} {e.get('detail', '')}"
            out.append(
                f'<path class="near-failover" d="M{x:.1f},{strip}l5,{STRIP}h-10z">'
                f"{_title(tip)}</path>"
            )
    out.append("</g>")
    return out


def _svg(doc: Json, lanes: list[_NodeLane], t0: float, t1: float) -> str:
    axis = _Axis(t0, t1)
    routers = [r for r in doc.get("routers", []) if isinstance(r, dict)]  # type: ignore[attr-defined]
    events = [e for e in doc.get("events", []) if isinstance(e, dict)]  # type: ignore[attr-defined]
    failovers = [f for f in doc.get("failovers", []) if isinstance(f, dict)]  # type: ignore[attr-defined]
    height = AXIS + LANE * (len(routers) + len(lanes)) + 10
    out = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} '
        f'{height}" width="100%" role="img" aria-label="timeline">'
    ]
    for t in axis.ticks():
        x = axis.x(t)
        out.append(
            f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{AXIS - 6}" y2="{height}"/>'
            f'<text x="{x:.1f}" y="{AXIS - 10}" class="tick">{_clock(t, ms=axis.span < 5)}</text>'
        )
    y = float(AXIS)
    for r in routers:
        key = _rkey(r)
        mine = [e for e in events if _rkey(e) == key]
        theirs = [f for f in failovers if _rkey(f) == key]
        out += _router_lane(r, mine, theirs, axis, y, t1)
        y += LANE
    for lane in lanes:
        out += _node_lane(lane, axis, y, t1)
        y += LANE
    out.append("</svg>")
    return "\n".join(out)


def _table(head: Sequence[str], rows: list[list[str]], cls: str, empty: str) -> str:
    if not rows:
        return f'<p class="empty">{escape(empty)}</p>'
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _span(doc: Json, logs: Sequence[tuple[str, list[Json]]]) -> tuple[float, float]:
    times: list[float] = []
    for r in doc.get("routers", []):  # type: ignore[attr-defined]
        times += [_num(r.get("first_seen")), _num(r.get("last_seen"))]
    for e in doc.get("events", []):  # type: ignore[attr-defined]
        times.append(_num(e.get("time")))
    for _name, evs in logs:
        times += [_num(e.get("time")) for e in evs]
    times = [t for t in times if t > 0]
    if not times:
        return 0.0, 1.0
    lo, hi = min(times), max(times)
    pad = max((hi - lo) * 0.02, 0.05)
    return lo - pad, hi + pad


_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #212121; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; }
.meta { color: #616161; } .empty { color: #757575; font-style: italic; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid #e0e0e0; padding: 4px 6px; text-align: left;
         vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; }
svg.timeline { border: 1px solid #e0e0e0; background: #fff; }
.lane-label { font: bold 12px sans-serif; } .lane-sub { font: 11px sans-serif; fill: #757575; }
.tick { font: 10px sans-serif; text-anchor: middle; fill: #616161; }
.tick-r { font: 9px sans-serif; text-anchor: end; fill: #9e9e9e; }
.grid { stroke: #eeeeee; } .plot-bg { fill: #fafafa; }
.term-ip { font: 11px sans-serif; fill: #fff; }
.gap { fill: #ffcdd2; opacity: 0.7; } .failover { stroke: #d32f2f; stroke-width: 2; }
.node-transition { stroke: #424242; stroke-width: 1; stroke-dasharray: 2 2; }
.near-failover { fill: #ef6c00; } .arp-change { fill: #1565c0; }
.finding { fill: #c62828; opacity: 0.35; } circle.finding { opacity: 0.9; }
.legend span { display: inline-block; margin-right: 14px; }
.sw { display: inline-block; width: 12px; height: 12px; vertical-align: middle;
      margin-right: 4px; }
"""

# Runs in the browser after layout: counts the markers the SVG engine laid out, so a
# headless browser's DOM dump shows the page rendered (no fetch, no effect on the page).
_SCRIPT = """
document.addEventListener('DOMContentLoaded', function () {
  var marks = document.querySelectorAll('svg.timeline .failover');
  var laid = 0;
  marks.forEach(function (m) { if (m.getBBox().height > 0) { laid += 1; } });
  document.body.setAttribute('data-failovers', String(marks.length));
  document.body.setAttribute('data-laid-out', String(laid));
});
"""


def render(doc: Json, logs: Sequence[tuple[str, list[Json]]], *, source: str) -> str:
    """The report page for a document and node logs (name, node events)."""
    t0, t1 = _span(doc, logs)
    lanes: dict[tuple[str, str], _NodeLane] = {}
    for name, evs in logs:
        for e in sorted(evs, key=lambda e: _num(e.get("time"))):
            inst = str(e.get("instance", ""))
            lane = lanes.setdefault((name, inst), _NodeLane(node=name, instance=inst))
            lane.events.append(e)
    events = [e for e in doc.get("events", []) if isinstance(e, dict)]  # type: ignore[attr-defined]
    failovers = [f for f in doc.get("failovers", []) if isinstance(f, dict)]  # type: ignore[attr-defined]
    fo_rows = [
        [
            _stamp(_num(f.get("new_first_advert"))),
            _rlabel(_rkey(f)),
            f"{f.get('from')} -> {f.get('to')}",
            f"{f.get('from_priority')} -> {f.get('to_priority')}",
            str(f.get("reason", "")),
            f"{_num(f.get('gap_ms')):.3f}",
            "" if f.get("rfc_gap_ms") is None else f"{_num(f.get('rfc_gap_ms')):.3f}",
            str(f.get("why", "")),
        ]
        for f in failovers
    ]
    near_rows = [
        [
            _stamp(_num(e.get("time"))),
            _rlabel(_rkey(e)),
            str(e.get("ip", "")),
            f"{_num(e.get('silence_ms')):.3f}",
            f"{_num(e.get('master_down_ms')):.3f}",
            f"{_num(e.get('margin_ms')):.3f}",
        ]
        for e in events
        if e.get("kind") == "near_failover"
    ]
    for (name, inst), lane in lanes.items():
        for e in lane.events:
            if e.get("kind") == "node_near_failover":
                near_rows.append(
                    [_stamp(_num(e.get("time"))), f"{name}: {inst}", "", "", "", str(e["detail"])]
                )
    arp_rows = [
        [
            _stamp(_num(e.get("time"))),
            f"{e.get('interface')} {e.get('ip')}",
            f"{e.get('old_mac')} -> {e.get('mac')}",
            "yes" if e.get("gratuitous") else "no",
            "" if e.get("gap_ms") is None else f"{_num(e.get('gap_ms')):.3f}",
        ]
        for e in events
        if e.get("kind") == "arp_owner_change"
    ]
    finding_rows = [
        [_stamp(_num(e.get("time"))), str(e.get("kind", "")), str(e.get("detail", ""))]
        for e in events
        if e.get("kind") in FINDINGS
    ]
    node_rows = [
        [
            _stamp(_num(e.get("time"))),
            f"{name}: {inst}",
            str(e.get("kind", "")).removeprefix("node_"),
            str(e.get("detail", "")),
            str(e.get("reason") or ""),
            str(e.get("why") or ""),
        ]
        for (name, inst), lane in lanes.items()
        for e in lane.events
        if e.get("kind") != "node_log" or e.get("why")
    ]
    node_rows.sort(key=lambda row: row[0])
    routers = doc.get("routers", [])
    n_routers = len(routers) if isinstance(routers, list) else 0
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>hatui incident report: {escape(source)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Incident report: {escape(source)}</h1>",
        f'<p class="meta">{_stamp(t0)} to {_stamp(t1)} UTC; {n_routers} routers,'
        f" {len(failovers)} failovers, {len(near_rows)} near failovers,"
        f" {len(arp_rows)} ARP ownership changes, {len(finding_rows)} findings"
        f"{', ' + str(len(logs)) + ' node logs' if logs else ''}. Made by hatui.</p>",
        '<h2>Timeline</h2><p class="legend">'
        '<span><i class="sw" style="background:#d32f2f"></i>failover (shaded: the gap)</span>'
        '<span><i class="sw" style="background:#ef6c00"></i>near failover</span>'
        '<span><i class="sw" style="background:#1565c0"></i>ARP owner change</span>'
        '<span><i class="sw" style="background:#c62828;opacity:.4"></i>split brain / stale</span>'
        "<span>line: priority (0-255)</span></p>",
        _svg(doc, list(lanes.values()), t0, t1),
        "<h2>Failovers</h2>",
        _table(
            ["time (UTC)", "router", "master", "priority", "reason", "gap ms", "RFC ms", "why"],
            fo_rows,
            "failovers",
            "No failover.",
        ),
        "<h2>Near failovers</h2>",
        _table(
            ["time (UTC)", "router", "master", "silence ms", "Master_Down ms", "margin ms"],
            near_rows,
            "near-failovers",
            "No near failover.",
        ),
        "<h2>ARP ownership changes</h2>",
        _table(
            ["time (UTC)", "VIP", "MAC", "gratuitous", "unanswered ms"],
            arp_rows,
            "arp",
            "No ARP ownership change.",
        ),
        "<h2>Findings</h2>",
        _table(["time (UTC)", "kind", "detail"], finding_rows, "findings", "No findings."),
    ]
    if logs:
        parts += [
            "<h2>Node events</h2>",
            _table(
                ["time (UTC)", "node: instance", "kind", "detail", "reason", "why"],
                node_rows,
                "node-events",
                "No node events.",
            ),
        ]
    parts += [f"<script>{_SCRIPT}</script>", "</body></html>"]
    return "\n".join(parts) + "\n"
