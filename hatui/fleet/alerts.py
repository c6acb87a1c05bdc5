"""Conditions across nodes that no single node can see (pure).

Instances belong to one pair when they share a VRID and VIPs (model.Instance.pair).
Per pair: two nodes MASTER, no MASTER, a MASTER without a BACKUP, a down node whose last
known state was MASTER (its VIPs may still sit on it), recent elections and flapping.
Per LAN router a watcher hears: split brain, a stale master, recent master changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from hatui.fleet.model import Alert, Instance, Router
from hatui.fleet.queries import WINDOW

# As prometheus/hatui-alerts.yml's VrrpFlapping: this many master changes in the window.
FLAP_MIN = 3
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def _what(vrid: int, vips: Sequence[str], interface: str) -> str:
    return f"VRID {vrid} " + (",".join(vips) if vips else f"on {interface}")


def _pair_alerts(group: Sequence[Instance]) -> list[Alert]:
    first = group[0]
    vrid, vips, interface = first.vrid, first.vips, first.interface
    what = _what(vrid, vips, interface)

    def alert(kind: str, severity: str, nodes: Sequence[str], detail: str) -> Alert:
        return Alert(
            kind=kind,
            severity=severity,
            vrid=vrid,
            vips=vips,
            interface=interface,
            nodes=tuple(sorted(set(nodes))),
            detail=f"{what}: {detail}",
        )

    out = []
    live = [i for i in group if i.live]
    masters = [i.node for i in live if i.state == "MASTER"]
    backups = [i.node for i in live if i.state == "BACKUP"]
    if len(set(masters)) >= 2:
        out.append(alert("two_masters", "critical", masters, f"MASTER on {', '.join(masters)}"))
    if live and not masters:
        states = ", ".join(f"{i.node} {i.state}" for i in live)
        out.append(alert("no_master", "critical", [i.node for i in live], f"no MASTER ({states})"))
    if masters and not backups:
        out.append(alert("no_backup", "warning", masters, f"no BACKUP for {', '.join(masters)}"))
    for i in group:
        if not i.live and i.state == "MASTER":
            out.append(
                alert("down_holding_vip", "critical", [i.node], f"{i.node} is down, last MASTER")
            )
    elected = [i for i in group if i.became_master]
    count = sum(i.became_master for i in elected)
    if count >= FLAP_MIN:
        names = [i.node for i in elected]
        out.append(alert("flapping", "warning", names, f"{count} elections in {WINDOW}"))
    elif count:
        names = [i.node for i in elected]
        out.append(
            alert("failover", "info", names, f"{', '.join(names)} became MASTER in {WINDOW}")
        )
    return out


def _router_alerts(routers: Sequence[Router]) -> list[Alert]:
    """One alert per condition and router, however many watchers hear it."""
    heard: dict[tuple[str, str, str, int, str], list[Router]] = defaultdict(list)
    for r in routers:
        if r.status != "ok":
            heard[(r.status, r.protocol, r.family, r.vrid, r.master_ip)].append(r)
        if r.changes >= FLAP_MIN:
            heard[("flapping", r.protocol, r.family, r.vrid, "")].append(r)
    out = []
    for (kind, protocol, family, vrid, master), rs in heard.items():
        first = rs[0]
        where = f"{protocol} {family} VRID {vrid} on {first.interface}"
        if kind == "split_brain":
            detail = f"{where}: two senders claim master"
        elif kind == "stale":
            detail = f"{where}: master {master} silent past Master_Down_Interval"
        else:
            detail = f"{where}: {max(r.changes for r in rs)} master changes in {WINDOW}"
        out.append(
            Alert(
                kind=kind,
                severity="warning" if kind == "flapping" else "critical",
                vrid=vrid,
                vips=(),
                interface=first.interface,
                nodes=tuple(sorted({r.watcher for r in rs})),
                detail=detail,
            )
        )
    return out


def fleet_alerts(instances: Sequence[Instance], routers: Sequence[Router]) -> tuple[Alert, ...]:
    """Every alert, most severe first."""
    pairs: dict[tuple[int, tuple[str, ...], str], list[Instance]] = defaultdict(list)
    for inst in instances:
        pairs[inst.pair].append(inst)
    out = [a for group in pairs.values() for a in _pair_alerts(group)]
    out += _router_alerts(routers)
    return tuple(sorted(out, key=lambda a: (SEVERITY_ORDER[a.severity], a.kind, a.vrid, a.key)))
