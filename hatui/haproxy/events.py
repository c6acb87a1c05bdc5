"""Events from two successive haproxy views: reachability, restarts, server and frontend
status changes, and alerts raised and cleared."""

from __future__ import annotations

from dataclasses import dataclass

from hatui.haproxy.join import Alert, HaproxyView, Reached, Unreached, by_cause

UP = "haproxy_up"
UNREACHABLE = "haproxy_unreachable"
RESTART = "haproxy_restart"
SERVER = "haproxy_server"
FRONTEND = "haproxy_frontend"
CLEARED = "haproxy_alert_cleared"
LISTED = 5  # VIPs a coalesced event's detail names; its `vips` has them all


@dataclass(frozen=True, slots=True, kw_only=True)
class HaproxyEvent:
    time_us: int
    kind: str  # one of the names above, or an AlertKind
    detail: str
    vrid: int | None = None
    protocol: str | None = None  # the VIP's router's, for alerts
    vips: tuple[str, ...] = ()  # the VIPs an alert (or its clearing) is about


def changes(prev: HaproxyView | None, cur: HaproxyView) -> list[HaproxyEvent]:
    """What changed from `prev` to `cur` (everything notable when `prev` is None)."""
    t = cur.time_us
    out: list[HaproxyEvent] = []
    before = prev.outcome if prev is not None else None
    match cur.outcome:
        case Unreached(status=status, configured=configured):
            # Once when it goes away, and again only when the reason changes.
            news = not isinstance(before, Unreached) or before.status != status
            if configured and news:
                out.append(HaproxyEvent(time_us=t, kind=UNREACHABLE, detail=f"haproxy: {status}"))
        case Reached(info=info):
            if not isinstance(before, Reached):
                out.append(HaproxyEvent(time_us=t, kind=UP, detail=_up(cur)))
            elif before.info.pid != info.pid:
                out.append(HaproxyEvent(time_us=t, kind=RESTART, detail=_up(cur) + " (restarted)"))
            else:
                out += _status_changes(before, cur.outcome, t)
    old = {(a.kind, a.vip): a for a in prev.alerts} if prev is not None else {}
    new = {(a.kind, a.vip): a for a in cur.alerts}
    raised = [a for key, a in new.items() if key not in old]
    cleared = [a for key, a in old.items() if key not in new]
    out += [_raised(group, t) for group in by_cause(raised)]
    out += [_cleared(group, t) for group in by_cause(cleared)]
    return out


def _raised(group: list[Alert], t: int) -> HaproxyEvent:
    first = group[0]
    many = f"{len(group)} VIPs {first.cause}: {_listed(group)}"
    detail = first.detail if len(group) == 1 else many
    return _event(group, t, str(first.kind), detail)


def _cleared(group: list[Alert], t: int) -> HaproxyEvent:
    first = group[0]
    what = first.kind.removeprefix("haproxy_")
    detail = (
        f"cleared {what} for {first.vip}"
        if len(group) == 1
        else f"cleared {what} for {len(group)} VIPs: {_listed(group)}"
    )
    return _event(group, t, CLEARED, detail)


def _event(group: list[Alert], t: int, kind: str, detail: str) -> HaproxyEvent:
    """With the VIPs, and the router's VRID and protocol where they all share one."""
    vrids = {a.vrid for a in group}
    protocols = {a.protocol for a in group}
    return HaproxyEvent(
        time_us=t,
        kind=kind,
        detail=detail,
        vips=tuple(a.vip for a in group),
        vrid=vrids.pop() if len(vrids) == 1 else None,
        protocol=protocols.pop() if len(protocols) == 1 else None,
    )


def _listed(group: list[Alert]) -> str:
    names = ", ".join(a.vip for a in group[:LISTED])
    more = len(group) - LISTED
    return f"{names}, ... (+{more} more)" if more > 0 else names


def _up(view: HaproxyView) -> str:
    assert isinstance(view.outcome, Reached)
    info = view.outcome.info
    pid = f", pid {info.pid}" if info.pid is not None else ""
    return f"haproxy {info.version} answers at {view.socket}{pid}"


def _status_changes(before: Reached, now: Reached, t: int) -> list[HaproxyEvent]:
    out = []
    old_front = {f.name: f.status for f in before.stats.frontends}
    for f in now.stats.frontends:
        was = old_front.get(f.name)
        if was is not None and was != f.status:
            out.append(
                HaproxyEvent(time_us=t, kind=FRONTEND, detail=f"{f.name} {was} -> {f.status}")
            )
    old_srv = {(b.name, s.name): s.status for b in before.stats.backends for s in b.servers}
    for b in now.stats.backends:
        for s in b.servers:
            was = old_srv.get((b.name, s.name))
            # "UP 1/3" is UP failing its checks: news only when the first word changes.
            if was is not None and was.split()[0:1] != s.status.split()[0:1]:
                check = f" ({s.check})" if s.check else ""
                out.append(
                    HaproxyEvent(
                        time_us=t,
                        kind=SERVER,
                        detail=f"{b.name}/{s.name} {was} -> {s.status}{check}",
                    )
                )
    return out
