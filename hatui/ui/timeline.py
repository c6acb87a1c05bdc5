"""The console's timeline of one virtual router (key `t`): who was master over time, the
master's priority, failovers, near failovers and ARP owner changes on one text axis, then
each failover with its reason and why."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from hatui.ui.model import EventRow, FailoverRow, RouterRow
from hatui.ui.render import SPARK, clock

# What the marker row shows for an event, most important first where two share a column.
MARKS = {
    "master_change": ("F", "bold red"),
    "split_brain": ("!", "bold red"),
    "near_failover": ("~", "bold yellow"),
    "stale": ("s", "red"),
    "arp_owner_change": ("a", "cyan"),
    "vip_foreign_mac": ("x", "magenta"),
}
_RANK = {kind: i for i, kind in enumerate(MARKS)}
LABEL = 18  # the row labels' width


def _priority_at(points: Sequence[tuple[float, int]], t: float, default: int) -> int:
    value = points[0][1] if points else default
    for at, p in points:
        if at > t:
            break
        value = p
    return value


def timeline(
    r: RouterRow,
    failovers: Sequence[FailoverRow],
    events: Sequence[EventRow],
    now: float,
    width: int = 60,
) -> Text:
    """The timeline as rich text, `width` columns of time from the router's first term to
    `now`."""
    start = r.history[0].since if r.history else now
    span = max(now - start, 1e-3)
    step = span / width
    mine = [e for e in events if e.key == r.key]
    out = Text()
    out.append(f"Timeline of VRID {r.vrid} ({r.interface} {r.family} {r.protocol})\n", "bold")
    out.append(f"{clock(start)} .. {clock(now)} UTC, {step * 1000:.0f} ms a column\n\n", "dim")
    masters: dict[str, list[str]] = {}
    for term in r.history:
        row = masters.setdefault(term.ip, [" "] * width)
        lo = int((term.since - start) / step)
        hi = int((term.since + term.held_s - start) / step + 0.999)
        for col in range(max(lo, 0), min(max(hi, lo + 1), width)):
            row[col] = "█"
    for ip, row in masters.items():
        out.append(f"{'master ' + ip:<{LABEL}}", "bold")
        out.append("".join(row) + "\n", "green")
    points = sorted((e.time, e.priority) for e in mine if e.priority is not None)
    prio = "".join(
        SPARK[min(7, _priority_at(points, start + (c + 0.5) * step, r.priority) * 8 // 256)]
        for c in range(width)
    )
    out.append(f"{'priority 0..255':<{LABEL}}", "bold")
    out.append(prio + "\n")
    marks: list[str | None] = [None] * width  # the kind shown in each column
    for e in mine:
        if e.kind not in MARKS:
            continue
        col = min(width - 1, max(0, int((e.time - start) / step)))
        held = marks[col]
        if held is None or _RANK[e.kind] < _RANK[held]:
            marks[col] = e.kind
    out.append(f"{'events':<{LABEL}}", "bold")
    for kind in marks:
        if kind is None:
            out.append(" ")
        else:
            out.append(*MARKS[kind])
    out.append("\n")
    out.append(
        f"{'':<{LABEL}}F failover  ~ near failover  a ARP owner change  ! split brain"
        "  s stale  x foreign MAC\n",
        "dim",
    )
    mine_fo = [f for f in failovers if f.key == r.key]
    out.append("\nFailovers\n", "bold underline")
    if not mine_fo:
        out.append("none\n", "dim")
    for f in mine_fo:
        out.append(f"{clock(f.at)} {f.from_ip} -> {f.to_ip}  {f.reason or f.cause}", "yellow")
        out.append(f", gap {f.gap_ms:.3f} ms\n")
        if f.why:
            out.append(f"  {f.why.partition(': ')[2]}\n", "dim")
    near = [e for e in mine if e.kind == "near_failover"]
    out.append("\nNear failovers\n", "bold underline")
    if not near:
        out.append("none\n", "dim")
    for e in near:
        out.append(f"{clock(e.time)} {e.detail.partition(': ')[2]}\n")
    arp = [e for e in mine if e.kind == "arp_owner_change"]
    out.append("\nARP owner changes\n", "bold underline")
    if not arp:
        out.append("none\n", "dim")
    for e in arp:
        out.append(f"{clock(e.time)} {e.detail.partition(': ')[2] or e.detail}\n")
    return out
