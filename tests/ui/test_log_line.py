"""The log pane's one-line events: the VRID as a tag, the interface and family dropped;
the detail pane keeps the full line."""

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
            "22:13:20 51 master 192.0.2.11 -> 192.0.2.12",
        ),
        (
            "arp_owner_change",
            "eth0",
            "eth0 VIP 192.0.2.100 now answered by 02:00:00:00:00:0c",
            "22:13:20 VIP 192.0.2.100 now answered by 02:00:00:00:00:0c",
        ),
        (
            "rejected",
            "eth0",
            "eth0: rejected (ttl) from 192.0.2.9: ttl 64 [1 so far]",
            "22:13:20 rejected (ttl) from 192.0.2.9: ttl 64 [1 so far]",
        ),
        ("node_transition", "VI_1", "BACKUP -> MASTER", "22:13:20 VI_1 BACKUP -> MASTER"),
        ("haproxy_server", "", "web/w2 UP -> DOWN", "22:13:20 web/w2 UP -> DOWN"),
    ],
)
def test_short_line(kind: str, where: str, detail: str, short: str) -> None:
    row = EventRow(time=T, kind=kind, where=where, detail=detail)
    assert log_line(row).plain == short
    assert event_line(row).plain.startswith("22:13:20.123 ")
    assert detail in event_line(row).plain


def test_every_scenario_event_is_shorter_in_the_log() -> None:
    _doc, events = scenario.pair()
    rows = [event_row(e) for e in events]
    assert all(len(log_line(r).plain) < len(event_line(r).plain) for r in rows)
    assert all("ipv4 vrid" not in log_line(r).plain for r in rows)
