"""The JSON document follows docs/json.md's schema key by key and survives json.dumps."""

from __future__ import annotations

import json
from typing import Any

from hatui.codec.frames import RejectReason
from hatui.observe.observer import Observer
from hatui.observe.report import event_to_json, snapshot_to_json

from .factory import MS, T0, VIP, A, B, S, advert, arp, at, cap, carp, merge, rejected, run, series

ROUTER_KEYS = {
    "interface", "family", "vrid", "version", "master", "priority", "advert_interval_ms",
    "vips", "auth", "adverts", "first_seen", "last_seen", "status", "senders",
}  # fmt: skip
SENDER_KEYS = {"ip", "mac", "priority", "adverts", "first_seen", "last_seen"}
FAILOVER_KEYS = {
    "interface", "family", "vrid", "from", "to", "old_last_advert", "new_first_advert",
    "gap_ms", "cause",
}  # fmt: skip
EVENT_KEYS = {"time", "kind", "vrid", "detail"}
ARP_KEYS = {"ip", "mac", "last_seen", "gratuitous"}
COUNTER_KEYS = {"frames", "vrrp", "arp", "rejected"}
REJECT_KEYS = {"ttl", "checksum", "version", "length", "auth"}


def _document() -> Any:
    obs = Observer()
    takeover = 10 * S + 3_609_575
    run(
        obs,
        merge(
            series(0, 11, S, advert(A)),
            series(takeover, 5, S, advert(B, priority=100)),
            [cap(takeover + 10, arp(VIP, "02:00:00:00:00:12", gratuitous=True))],
            [cap(S + 500 * MS, carp()), cap(2 * S + 500 * MS, rejected(RejectReason.TTL))],
        ),
    )
    return snapshot_to_json(obs.snapshot(at(takeover + 4 * S)))


def test_document_has_every_design_key_with_the_right_types() -> None:
    doc = _document()
    assert {"routers", "failovers", "events", "arp", "counters"} <= set(doc)
    (router,) = [r for r in doc["routers"] if r["protocol"] == "vrrp"]
    assert set(router) >= ROUTER_KEYS
    assert set(router["master"]) >= {"ip", "mac"}
    assert router["family"] == "ipv4" and router["vrid"] == 51 and router["version"] == 2
    assert router["master"]["ip"] == B and router["master"]["mac"] == "02:00:00:00:00:12"
    assert router["priority"] == 100 and router["advert_interval_ms"] == 1000
    assert router["vips"] == [VIP] and router["auth"] == "none" and router["adverts"] == 16
    assert router["first_seen"] == T0 / 1e6
    assert router["status"] in {"ok", "stale", "split_brain", "mismatch"}
    for sender in router["senders"]:
        assert set(sender) >= SENDER_KEYS
    assert [s["ip"] for s in router["senders"]] == [A, B]
    assert router["skew_ms"] == 609.375 and router["master_down_ms"] == 3609.375
    (failover,) = doc["failovers"]
    assert set(failover) >= FAILOVER_KEYS
    assert failover["from"] == A and failover["to"] == B
    assert failover["gap_ms"] == 3609.575 and failover["cause"] == "timeout"
    assert failover["old_last_advert"] == (T0 + 10 * S) / 1e6
    for event in doc["events"]:
        assert set(event) >= EVENT_KEYS
        assert isinstance(event["time"], float)
    (arp_row,) = doc["arp"]
    assert set(arp_row) >= ARP_KEYS and arp_row["gratuitous"] is True
    counters = doc["counters"]
    assert set(counters) >= COUNTER_KEYS
    assert set(counters["rejected"]) >= REJECT_KEYS
    assert counters["frames"] == 19 and counters["rejected"]["ttl"] == 1
    assert json.loads(json.dumps(doc)) == doc


def test_event_lines_in_order() -> None:
    doc = _document()
    assert [e["kind"] for e in doc["events"]] == [
        "new_router",
        "carp_seen",
        "new_router",
        "rejected",
        "stale",  # the CARP group: one advert, then silence
        "master_change",
    ]


def test_event_to_json_master_change_fields() -> None:
    obs = Observer()
    takeover = 10 * S + 3_609_575
    events = run(
        obs, merge(series(0, 11, S, advert(A)), series(takeover, 1, S, advert(B, priority=100)))
    )
    line = event_to_json(events[-1])
    assert line["kind"] == "master_change" and line["vrid"] == 51
    assert line["from"] == A and line["to"] == B and line["cause"] == "timeout"
    assert line["gap_ms"] == 3609.575 and line["interface"] == "eth0"
    assert json.dumps(line)


def test_protocol_is_on_every_router_failover_and_event() -> None:
    doc = _document()
    assert [(r["protocol"], r["vrid"]) for r in doc["routers"]] == [("carp", 7), ("vrrp", 51)]
    assert [f["protocol"] for f in doc["failovers"]] == ["vrrp"]
    assert [(e["kind"], e["protocol"]) for e in doc["events"]] == [
        ("new_router", "vrrp"),
        ("carp_seen", "carp"),
        ("new_router", "carp"),
        ("rejected", "vrrp"),
        ("stale", "carp"),
        ("master_change", "vrrp"),
    ]


def test_every_key_the_document_has_is_in_docs_json_md() -> None:
    """docs/json.md documents the whole schema: every key of a document with VRRP, HSRP,
    CARP and GLBP in it (and of every event) appears there in backticks."""
    from pathlib import Path

    from hatui.ui import scenario

    text = (Path(__file__).parents[2] / "docs" / "json.md").read_text()
    doc, events = scenario.vendors()
    doc["events"] = events
    keys: set[str] = set()

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                keys.add(k)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(doc)
    walk(_document())
    missing = sorted(k for k in keys if f"`{k}`" not in text and k not in REJECT_REASONS)
    assert missing == []


REJECT_REASONS = {"type", "address_count", "vrid", "malformed"}  # listed as reasons
