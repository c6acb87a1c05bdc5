"""The log pane's one-line events: what happened first, then the VRID (or instance) as a
tag, the interface and family dropped; the detail pane keeps the full line."""

from __future__ import annotations

import pytest

from hatui.ui import scenario
from hatui.ui.model import EventRow, event_row
from hatui.ui.render import event_line, log_line

T = 1_700_000_000.123


@pytest.mark.parametrize(
    ("kind", "where", "detail", "short"),
    [
        (
            "master_change",
            "eth0 vrid 51",
            "eth0 ipv4 vrid 51: master 192.0.2.11 -> 192.0.2.12",
            "22:13:20 failover 51: 192.0.2.11 -> 192.0.2.12",
        ),
        (
            "arp_owner_change",
            "eth0",
            "eth0 VIP 192.0.2.100 now answered by 02:00:00:00:00:0c",
            "22:13:20 VIP moved: 192.0.2.100 now answered by 02:00:00:00:00:0c",
        ),
        (
            "rejected",
            "eth0",
            "eth0: rejected (ttl) from 192.0.2.9: ttl 64 [1 so far]",
            "22:13:20 rejected (ttl) from 192.0.2.9: ttl 64 [1 so far]",
        ),
        ("node_transition", "VI_1", "BACKUP -> MASTER", "22:13:20 MASTER VI_1 from BACKUP"),
        ("node_command", "VI_1", "release", "22:13:20 release VI_1"),
        ("node_error", "VI_1", "add VIP failed: boom", "22:13:20 error VI_1: add VIP failed: boom"),
        ("node_log", "VI_1", "lower priority advert", "22:13:20 VI_1: lower priority advert"),
        (
            "node_near_failover",
            "VI_2",
            "near failover: no advert from 192.0.2.12 for 304 ms",
            "22:13:20 near failover VI_2: no advert from 192.0.2.12 for 304 ms",
        ),
        ("haproxy_server", "", "web/w2 UP -> DOWN", "22:13:20 server: web/w2 UP -> DOWN"),
        (
            "master_change",
            "eth0 group 10",
            "eth0 ipv4 hsrp group 10: active 192.0.2.21 -> 192.0.2.22 (coup, gap 1050.0 ms)",
            "22:13:20 failover group 10: 192.0.2.21 -> 192.0.2.22 (coup, gap 1050.0 ms)",
        ),
        (
            "release",
            "eth0 vrid 51",
            "eth0 ipv4 vrid 51: release (priority 0) by 192.0.2.11",
            "22:13:20 release 51 (priority 0) by 192.0.2.11",
        ),
        (
            "haproxy_down",
            "",
            "255 VIPs held here but haproxy does not answer (s: refused): 198.51.100.1",
            "22:13:20 haproxy down: 255 VIPs held here but haproxy does not answer (s: refused)"
            ": 198.51.100.1",
        ),
    ],
)
def test_short_line(kind: str, where: str, detail: str, short: str) -> None:
    row = EventRow(time=T, kind=kind, where=where, detail=detail)
    assert log_line(row).plain == short
    assert event_line(row).plain.startswith("22:13:20.123 ")
    assert detail in event_line(row).plain


def test_no_scenario_event_spends_the_log_on_interface_and_family() -> None:
    _doc, events = scenario.pair()
    rows = [event_row(e) for e in events]
    assert all("ipv4 vrid" not in log_line(r).plain for r in rows)
    assert all("eth0" not in log_line(r).plain for r in rows)


# What a 33-column log pane (80x24) shows of each text: the time and 24 characters.
SHOWN = 33


@pytest.mark.parametrize("scene", [scenario.pair, scenario.split_brain, scenario.vendors])
def test_what_happened_is_in_the_columns_an_80x24_log_shows(scene) -> None:  # type: ignore[no-untyped-def]
    _doc, events = scene()
    for e in events:
        shown = log_line(event_row(e)).plain[:SHOWN]
        kind = e["kind"]
        word = {
            "master_change": "failover",
            "new_router": "new",
            "arp_owner_change": "VIP moved",
            "vip_foreign_mac": "foreign MAC",
            "carp_seen": "CARP",
            "glbp_seen": "GLBP",
        }.get(kind, kind.replace("_", " "))
        assert shown[9:].startswith(word), shown
        if e.get("vrid") is not None and kind not in ("carp_seen", "glbp_seen"):
            assert str(e["vrid"]) in shown, shown  # and which router
