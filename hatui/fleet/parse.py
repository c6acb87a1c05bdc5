"""Prometheus answers to the fleet's typed view (pure).

Input is the `data.result` list of each instant query in queries.py, as the HTTP API
returns it (`[{"metric": {...}, "value": [time, "text"]}]`). Bad or missing entries are
skipped, never raised: another exporter's odd series must not hide the fleet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from hatui.fleet.alerts import fleet_alerts
from hatui.fleet.model import FleetView, Instance, Node, Router
from hatui.fleet.queries import PRIORITY_METRICS, STATE_METRIC, TRANSITION_METRIC

Result = Sequence[Mapping[str, Any]]
STATES = {0: "INIT", 1: "BACKUP", 2: "MASTER", 3: "FAULT"}
ROUTER_STATUS = (("hatui_router_split_brain", "split_brain"), ("hatui_router_stale", "stale"))


def _value(sample: Mapping[str, Any]) -> float | None:
    """The sample's value; None for a missing one, NaN or an infinity."""
    try:
        value = float(sample["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _labels(sample: Mapping[str, Any]) -> Mapping[str, str]:
    """The sample's labels, the API's own dict; empty (the sample is skipped) unless every
    label value is a string, as Prometheus sends them."""
    metric = sample.get("metric")
    if isinstance(metric, dict) and all(type(v) is str for v in metric.values()):
        return metric
    return {}


def _vrid(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _nodes(up: Result, scraped: Result) -> tuple[Node, ...]:
    stamps = {}
    for s in scraped:
        labels, value = _labels(s), _value(s)
        if value is not None:
            stamps[(labels.get("job", ""), labels.get("instance", ""))] = value
    nodes = []
    for s in up:
        labels, value = _labels(s), _value(s)
        key = (labels.get("job", ""), labels.get("instance", ""))
        if value is None or not key[1]:
            continue
        nodes.append(Node(instance=key[1], job=key[0], up=value == 1, last_scrape=stamps.get(key)))
    return tuple(sorted(nodes, key=lambda n: (n.instance, n.job)))


InstKey = tuple[str, str, str, str, str]  # job, instance, iname, intf, vrid


def _ikey(labels: Mapping[str, str]) -> InstKey:
    return (
        labels.get("job", ""),
        labels.get("instance", ""),
        labels.get("iname", ""),
        labels.get("intf", ""),
        labels.get("vrid", ""),
    )


def _instances(
    live: Result, last: Result, became: Result, up: Mapping[tuple[str, str], bool]
) -> tuple[Instance, ...]:
    states: dict[InstKey, int] = {}
    vips: dict[InstKey, set[str]] = {}
    prio: dict[InstKey, dict[str, float]] = {}
    transition: dict[InstKey, float] = {}
    down_known: set[InstKey] = set()
    for source, is_last in ((live, False), (last, True)):
        for s in source:
            labels, value = _labels(s), _value(s)
            name = labels.get("__name__", STATE_METRIC if is_last else "")
            key = _ikey(labels)
            if value is None or not key[1]:
                continue
            if name == STATE_METRIC:
                if is_last and key in states and key not in down_known:
                    continue  # the node is up again: its live series win
                if is_last:
                    down_known.add(key)
                states[key] = int(value)
                if ip := labels.get("ip_address"):
                    # keepalived exporters may keep the VIP's prefix length (`/32`)
                    vips.setdefault(key, set()).add(ip.partition("/")[0])
            elif name in PRIORITY_METRICS:
                prio.setdefault(key, {})[name] = value
            elif name == TRANSITION_METRIC:
                transition[key] = value
    elected = {}
    for s in became:
        value = _value(s)
        if value is not None:
            elected[_ikey(_labels(s))] = round(value)
    out = []
    for key, code in states.items():
        vrid = _vrid(key[4])
        if vrid is None:
            continue
        known = prio.get(key, {})
        p = next((known[n] for n in PRIORITY_METRICS if n in known), None)
        out.append(
            Instance(
                node=key[1],
                job=key[0],
                iname=key[2],
                interface=key[3],
                vrid=vrid,
                state=STATES.get(code, "INIT"),
                priority=None if p is None else int(p),
                vips=tuple(sorted(vips.get(key, ()))),
                live=up.get((key[0], key[1]), False) and key not in down_known,
                last_transition=transition.get(key),
                became_master=elected.get(key, 0),
            )
        )
    return tuple(sorted(out, key=lambda i: (i.vrid, i.vips, i.node, i.iname)))


RouterKey = tuple[str, str, str, str, str, str]  # job, instance, interface, protocol, family, vrid


def _rkey(labels: Mapping[str, str]) -> RouterKey:
    return (
        labels.get("job", ""),
        labels.get("instance", ""),
        labels.get("interface", ""),
        labels.get("protocol", ""),
        labels.get("family", ""),
        labels.get("vrid", ""),
    )


def _routers(series: Result, changes: Result) -> tuple[Router, ...]:
    fields: dict[RouterKey, dict[str, Any]] = {}
    for s in series:
        labels, value = _labels(s), _value(s)
        key = _rkey(labels)
        if value is None or _vrid(key[5]) is None:
            continue
        f = fields.setdefault(key, {})
        name = labels.get("__name__", "")
        if name == "hatui_router_master":
            f["master_ip"] = labels.get("master_ip", "")
            f["master_mac"] = labels.get("master_mac", "")
        elif name == "hatui_router_priority":
            f["priority"] = int(value)
        elif name == "hatui_router_senders":
            f["senders"] = int(value)
        elif name == "hatui_router_advert_age_seconds":
            f["advert_age_s"] = value
        for metric, status in ROUTER_STATUS:
            if name == metric and value >= 1:
                f["status"] = status
    counted = {_rkey(_labels(s)): round(v) for s in changes if (v := _value(s)) is not None}
    out = [
        Router(
            watcher=key[1],
            interface=key[2],
            protocol=key[3],
            family=key[4],
            vrid=int(key[5]),
            master_ip=f.get("master_ip", ""),
            master_mac=f.get("master_mac", ""),
            priority=f.get("priority"),
            status=f.get("status", "ok"),
            senders=f.get("senders"),
            advert_age_s=f.get("advert_age_s"),
            changes=counted.get(key, 0),
        )
        for key, f in fields.items()
        if "master_ip" in f
    ]
    return tuple(sorted(out, key=lambda r: (r.interface, r.vrid, r.protocol, r.family, r.watcher)))


def fleet_view(results: Mapping[str, Result], now: float) -> FleetView:
    """The fleet from one refresh's answers (keyed as queries.fleet_queries), at `now`."""
    nodes = _nodes(results.get("up", ()), results.get("scraped", ()))
    up = {(n.job, n.instance): n.up for n in nodes}
    instances = _instances(
        results.get("live", ()), results.get("last_state", ()), results.get("became_master", ()), up
    )
    routers = _routers(results.get("routers", ()), results.get("router_changes", ()))
    alerts = fleet_alerts(instances, routers)
    return FleetView(time=now, nodes=nodes, instances=instances, routers=routers, alerts=alerts)
