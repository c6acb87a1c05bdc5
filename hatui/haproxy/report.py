"""The `haproxy` key of serve and watch JSON documents, and haproxy events as JSON.

    {"socket": "/run/haproxy/admin.sock", "time": 0.0,
     "status": "up" | "down" | "none", "error": "..." (down, none),
     "version": "2.6.12", "pid": 123, "config": "/etc/haproxy/haproxy.cfg" | null (up),
     "frontends": [{"name", "status", "binds": ["192.0.2.100" | "*"], "sessions",
                    "max_sessions", "session_limit", "req_rate",
                    "vips": [{"vip", "master", "here"}]}],
     "backends": [{"name", "status", "up", "total", "queue",
                   "servers": [{"name", "status", "check", "changed_s", "address"}]}],
     "alerts": [{"kind", "vip", "vrid", "detail"}]}

Counts are null where haproxy leaves the column empty. Fields may be added.
"""

from __future__ import annotations

from typing import Any, assert_never

from hatui.haproxy.events import HaproxyEvent
from hatui.haproxy.join import HaproxyView, Reached, Unreached

Json = dict[str, Any]


def view_to_json(view: HaproxyView) -> Json:
    """docs/json.md's contract: socket, frontends (name, status, binds, sessions), backends
    (name, status, servers (name, status, check)); plus status, VIPs and alerts."""
    out: Json = {"socket": view.socket, "time": view.time_us / 1e6}
    match view.outcome:
        case Unreached(status=status, configured=configured):
            out.update(
                {
                    "status": "down" if configured else "none",
                    "error": status,
                    "frontends": [],
                    "backends": [],
                }
            )
        case Reached(info=info, stats=stats, config=conf, config_path=path):
            out.update(
                {
                    "status": "up",
                    "version": info.version,
                    "pid": info.pid,
                    "config": path if conf is not None else None,
                }
            )
            out["frontends"] = [
                {
                    "name": f.name,
                    "status": f.status,
                    "binds": list(fc.binds) if (fc := conf and conf.frontend(f.name)) else [],
                    "sessions": f.sessions,
                    "max_sessions": f.max_sessions,
                    "session_limit": f.limit,
                    "req_rate": f.req_rate,
                    "vips": [
                        {"vip": v.vip, "master": v.master, "here": v.here}
                        for v in view.vips.get(f.name, ())
                    ],
                }
                for f in stats.frontends
            ]
            out["backends"] = [
                {
                    "name": b.name,
                    "status": b.status,
                    "up": b.up_servers,
                    "total": len(b.servers),
                    "queue": b.queue,
                    "servers": [
                        {
                            "name": s.name,
                            "status": s.status,
                            "check": s.check,
                            "changed_s": s.changed_s,
                            "address": s.address,
                        }
                        for s in b.servers
                    ],
                }
                for b in stats.backends
            ]
        case _:
            assert_never(view.outcome)
    out["alerts"] = [
        {"kind": str(a.kind), "vip": a.vip, "vrid": a.vrid, "detail": a.detail} for a in view.alerts
    ]
    return out


def event_to_json(ev: HaproxyEvent) -> Json:
    """Shaped as observer events are (time, kind, vrid, protocol, detail), with `source`
    and `vips` (the VIPs an alert is about, all of them where one event stands for many):
    `vrid` and `protocol` are those of the router carrying the VIPs, null when none or
    when they differ."""
    return {
        "time": ev.time_us / 1e6,
        "kind": ev.kind,
        "interface": None,
        "family": None,
        "vrid": ev.vrid,
        "protocol": ev.protocol,
        "detail": ev.detail,
        "source": "haproxy",
        "vips": list(ev.vips),
    }
