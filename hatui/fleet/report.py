"""The fleet document (`hatui --fleet URL --headless --json`), as docs/json.md describes."""

from __future__ import annotations

from typing import Any

from hatui.fleet.model import Alert, FleetView, Instance, Node, Router


def _node(n: Node) -> dict[str, Any]:
    return {"instance": n.instance, "job": n.job, "up": n.up, "last_scrape": n.last_scrape}


def _instance(i: Instance) -> dict[str, Any]:
    return {
        "node": i.node,
        "job": i.job,
        "iname": i.iname,
        "interface": i.interface,
        "vrid": i.vrid,
        "state": i.state,
        "priority": i.priority,
        "vips": list(i.vips),
        "live": i.live,
        "last_transition": i.last_transition,
        "became_master": i.became_master,
    }


def _router(r: Router) -> dict[str, Any]:
    return {
        "watcher": r.watcher,
        "interface": r.interface,
        "protocol": r.protocol,
        "family": r.family,
        "vrid": r.vrid,
        "master": {"ip": r.master_ip, "mac": r.master_mac},
        "priority": r.priority,
        "status": r.status,
        "senders": r.senders,
        "advert_age_s": r.advert_age_s,
        "master_changes": r.changes,
    }


def _alert(a: Alert) -> dict[str, Any]:
    return {
        "kind": a.kind,
        "severity": a.severity,
        "vrid": a.vrid,
        "vips": list(a.vips),
        "interface": a.interface,
        "nodes": list(a.nodes),
        "detail": a.detail,
    }


def view_to_json(view: FleetView, *, source: str = "", queries: int = 0) -> dict[str, Any]:
    return {
        "source": source,
        "time": view.time,
        "queries": queries,
        "nodes": [_node(n) for n in view.nodes],
        "instances": [_instance(i) for i in view.instances],
        "routers": [_router(r) for r in view.routers],
        "alerts": [_alert(a) for a in view.alerts],
    }


def view_lines(view: FleetView) -> list[str]:
    """The headless summary: alerts first, then every node and instance, one per line."""
    lines = [f"alert {a.severity} {a.kind}: {a.detail}" for a in view.alerts]
    for n in view.nodes:
        lines.append(f"node {n.instance} ({n.job}) {'up' if n.up else 'DOWN'}")
    for i in view.instances:
        prio = "-" if i.priority is None else str(i.priority)
        last = "" if i.live else " (last known)"
        vips = ",".join(i.vips)
        lines.append(
            f"instance {i.node} {i.iname} {i.interface} VRID {i.vrid} {i.state}{last} "
            f"prio {prio} {vips}"
        )
    for r in view.routers:
        lines.append(
            f"router {r.watcher} {r.interface} {r.protocol} {r.family} VRID {r.vrid} "
            f"master {r.master_ip} {r.status}"
        )
    return lines
