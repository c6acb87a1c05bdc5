"""The node status as JSON: what `hatui ctl status --json`, the control stream and the UI read.

One schema for every consumer, so `hatui --attach` renders exactly what a local console
does. Times are seconds (floats) relative to the snapshot: ages and countdowns, never raw
monotonic stamps, which mean nothing to another process.
"""

from __future__ import annotations

from hatui.runtime.node import InstanceHistory, NodeEvent, NodeStatus
from hatui.vrrp.spec import InstanceSpec
from hatui.vrrp.status import RouterStatus

Json = dict[str, object]


def _ms(us: int) -> float:
    return round(us / 1000, 3)


def history_to_json(h: InstanceHistory) -> Json:
    """The last transition (wall-clock `time`, `from`, `to`, `cause`, `reason`, `why`),
    `transitions` by the state entered, and `near_failovers`."""
    last = h.last
    return {
        "last_transition": None
        if last is None
        else {
            "time": last.time / 1e6,
            "from": last.old,
            "to": last.new,
            "cause": last.cause,
            "reason": last.reason,
            "why": last.why,
        },
        "transitions": dict(sorted(h.transitions.items())),
        "near_failovers": h.near_failovers,
    }


def router_to_json(
    r: RouterStatus, spec: InstanceSpec, now: int, history: InstanceHistory | None = None
) -> Json:
    """One instance; with its `history`, the keys of `history_to_json` too."""
    extra = history_to_json(history) if history is not None else {}
    return extra | {
        "name": r.name,
        "interface": spec.interface,
        "vrid": r.vrid,
        "version": r.version,
        "family": r.family,
        "state": str(r.state),
        "state_age_s": None if r.state_since is None else round((now - r.state_since) / 1e6, 3),
        "state_cause": r.state_cause,
        "primary_ip": r.primary_ip,
        "base_priority": r.base_priority,
        "override": r.override,
        "effective_priority": r.effective_priority,
        "trackers": [
            {
                "kind": t.kind,
                "name": t.name,
                "weight": t.weight,
                "ok": t.ok,
                "value": t.value,
                "contribution": t.contribution,
                "faulting": t.faulting,
            }
            for t in r.trackers
        ],
        "faults": list(r.faults),
        "link_up": r.link_up,
        "hold": r.hold,
        "paused": r.paused,
        "vips": [str(v) for v in spec.vips],
        "vips_held": r.vips_held,
        "master_ip": r.master_ip,
        "last_advert": None
        if r.last_advert is None
        else {
            "ip": r.last_advert.ip,
            "priority": r.last_advert.priority,
            "age_s": round((now - r.last_advert.at) / 1e6, 3),
        },
        "advert_interval_ms": _ms(spec.advert_int_us),
        "master_adver_interval_ms": _ms(r.master_adver_interval_us),
        "skew_ms": _ms(r.skew_us),
        "master_down_ms": _ms(r.master_down_interval_us),
        "preempt": spec.preempt,
        "peers": list(spec.unicast_peers),
        "next_timer": None if r.next_timer is None else str(r.next_timer),
        "next_in_ms": None if r.next_deadline is None else _ms(r.next_deadline - now),
    }


def node_status_to_json(status: NodeStatus, specs: dict[str, InstanceSpec]) -> Json:
    """`{"instances": [...], "counters": {...}}` for every instance of a node."""
    return {
        "instances": [
            router_to_json(r, specs[r.name], status.now, status.histories.get(r.name))
            for r in status.routers
        ],
        "counters": dict(sorted(status.counters.items())),
    }


def node_event_to_json(ev: NodeEvent) -> Json:
    return {
        "time": ev.time / 1e6,
        "kind": f"node_{ev.kind}",
        "protocol": "vrrp",  # the node runs VRRP; every event line says its protocol
        "instance": ev.instance,
        "detail": ev.detail,
        "state": ev.state,
        "priority": ev.priority,
    } | ({"reason": ev.reason or None, "why": ev.why} if ev.reason or ev.why else {})
