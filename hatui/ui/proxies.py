"""Rich text for the haproxy panel: its rows, its title and the detail pane of a proxy.

Pure functions of the haproxy view (hatui.haproxy.join), like hatui.ui.render."""

from __future__ import annotations

from typing import assert_never

from rich.text import Text

from hatui.haproxy.config import WILDCARD
from hatui.haproxy.join import BoundVip, HaproxyView, Reached, Unreached, by_cause
from hatui.haproxy.stats import Backend, Frontend
from hatui.ui.render import Column, duration

PROXY_STYLE = {
    "OPEN": "green",
    "UP": "green",
    "FULL": "bold yellow",
    "STOP": "bold red",
    "DOWN": "bold red",
    "MAINT": "yellow",
    "DRAIN": "yellow",
    "NOLB": "yellow",
    "no": "dim",  # "no check"
}

# Status and what serves go last when narrow; the name and status always show.
PROXY_COLUMNS: tuple[Column, ...] = (
    Column(key="name", label="proxy", width=14, rank=0),
    Column(key="status", label="status", width=6, rank=1),
    Column(key="serve", label="VIPs / servers UP", width=20, rank=2, flex=True),
    Column(key="sess", label="sess/max", width=9, rank=3),
    Column(key="rate", label="rate/q", width=7, rank=4),
)


def status_text(status: str) -> Text:
    return Text(status, style=PROXY_STYLE.get(status.split(" ")[0], ""))


def vip_text(v: BoundVip) -> Text:
    if v.here:
        return Text(f"{v.vip} here", style="bold green")
    return Text(f"{v.vip} @{v.master or '?'}", style="dim")


def frontend_cells(f: Frontend, view: HaproxyView) -> dict[str, str | Text]:
    vips = view.vips.get(f.name, ())
    serve = Text(", ").join(vip_text(v) for v in vips) if vips else Text(_binds(f, view), "dim")
    rate = f.req_rate if f.req_rate is not None else f.rate
    return {
        "name": Text("fe " + f.name, style="bold"),
        "status": status_text(f.status),
        "serve": serve,
        "sess": Text(f"{_n(f.sessions)}/{_n(f.max_sessions)}", justify="right"),
        "rate": Text(f"{_n(rate)}/s", justify="right"),
    }


def backend_cells(b: Backend) -> dict[str, str | Text]:
    up = b.up_servers
    style = "green" if up == len(b.servers) and up else ("bold red" if up == 0 else "yellow")
    return {
        "name": Text("be " + b.name),
        "status": status_text(b.status),
        "serve": Text(f"{up}/{len(b.servers)} UP", style=style),
        "sess": Text(_n(b.sessions), justify="right"),
        "rate": Text(f"q {_n(b.queue)}", justify="right"),
    }


def title(view: HaproxyView | None) -> Text:
    """The panel's border title: version and socket, or why it cannot be read."""
    if view is None:
        return Text("haproxy: reading the stats socket...")
    out = Text()
    match view.outcome:
        case Unreached(configured=configured):
            out.append("haproxy: ", style="bold red" if configured else "dim")
        case Reached(info=info):
            out.append(f"haproxy {info.version.split('-')[0]} ")
    # The alerts first: at 80 columns a long socket path or status would cut them off.
    if view.alerts:
        out.append(f"{len(view.alerts)} alert{'s' * (len(view.alerts) > 1)}", "bold red")
        out.append(" · ")
    match view.outcome:
        case Unreached(status=status, configured=configured):
            out.append(status, style="bold red" if configured else "dim")
        case Reached():
            out.append(view.socket)
    return out


def detail(view: HaproxyView, key: str | None) -> Text:
    """The selected proxy (`fe:NAME` / `be:NAME`) with its servers, under the alerts, and
    the process last (at 80x24 the servers matter more than the socket's path)."""
    out = Text()
    for group in by_cause(view.alerts):  # a paragraph for the VIPs of one cause, not one each
        first = group[0]
        vips = ", ".join(a.vip for a in group)
        line = first.detail if len(group) == 1 else f"{len(group)} VIPs {first.cause}: {vips}"
        out.append(line + "\n", style="bold red")
    if view.alerts:
        out.append("\n")
    match view.outcome:
        case Unreached(status=status):
            out.append("haproxy\n", style="bold")
            out.append(status + "\n")
        case Reached(info=info, stats=stats, config=conf, config_path=path):
            kind, _, name = (key or "").partition(":")
            front = next((f for f in stats.frontends if f.name == name), None)
            back = stats.backend(name)
            if kind == "fe" and front is not None:
                out.append_text(_frontend_detail(front, view))
            elif kind == "be" and back is not None:
                out.append_text(_backend_detail(back))
            else:
                out.append("Select a proxy for its servers.\n", style="dim")
            pid = f" pid {info.pid}" if info.pid is not None else ""
            out.append(f"\nhaproxy {info.version}{pid}\n", style="dim")
            out.append(f"socket {view.socket}\n", style="dim")
            where = path if conf is not None else "not readable: binds unknown"
            out.append(f"config {where}\n", style="dim")
        case _:
            assert_never(view.outcome)
    return out


def _frontend_detail(f: Frontend, view: HaproxyView) -> Text:
    out = Text()
    out.append(f"Frontend {f.name} ", style="bold underline")
    out.append_text(status_text(f.status))
    out.append(f"\nbinds {_binds(f, view)}\n")
    for v in view.vips.get(f.name, ()):
        who = "held here" if v.here else f"held by {v.master or 'nobody heard'}"
        out.append(f"  VIP {v.vip} {who}\n", style="bold green" if v.here else "")
    limit = f", limit {f.limit}" if f.limit is not None else ""
    out.append(f"sessions {_n(f.sessions)} (max {_n(f.max_sessions)}{limit})\n")
    if f.req_rate is not None:
        out.append(f"requests {f.req_rate}/s\n")
    assert isinstance(view.outcome, Reached)
    conf = view.outcome.config
    fc = conf.frontend(f.name) if conf is not None else None
    for name in fc.backends if fc is not None else ():
        b = view.outcome.stats.backend(name)
        if b is not None:
            out.append(f"-> {name} ")
            out.append_text(status_text(b.status))
            out.append(f" {b.up_servers}/{len(b.servers)} UP, queue {_n(b.queue)}\n")
    return out


def _backend_detail(b: Backend) -> Text:
    out = Text()
    out.append(f"Backend {b.name} ", style="bold underline")
    out.append_text(status_text(b.status))
    out.append(f"\n{b.up_servers}/{len(b.servers)} servers UP, queue {_n(b.queue)}\n")
    out.append("server     status    for last check\n", style="dim")
    for s in b.servers:
        out.append(f"{s.name[:10]:<10} ")
        out.append_text(status_text(f"{s.status[:8]:<8}"))
        since = duration(s.changed_s) if s.changed_s is not None else "-"
        out.append(f" {since:>4} {s.check or '-'}\n")
    return out


def _binds(f: Frontend, view: HaproxyView) -> str:
    if not isinstance(view.outcome, Reached) or view.outcome.config is None:
        return "?"
    fc = view.outcome.config.frontend(f.name)
    if fc is None or not fc.binds:
        return "-"
    return ", ".join("* (all)" if b == WILDCARD else b for b in fc.binds)


def _n(value: int | None) -> str:
    return "-" if value is None else str(value)
