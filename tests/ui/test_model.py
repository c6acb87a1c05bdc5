"""The view model and its rendering read the contract documents faithfully."""

from __future__ import annotations

import pytest

from hatui.ui import scenario
from hatui.ui.model import event_row, node_view, observer_view
from hatui.ui.render import age_cell, detail, node_cells, router_cells, sparkline


def test_router_rows_follow_the_document() -> None:
    doc, _ = scenario.pair()
    view = observer_view(doc)
    by_vrid = {r.vrid: r for r in view.routers}
    assert sorted(by_vrid) == [51, 52, 60]
    r51 = by_vrid[51]
    assert (r51.master_ip, r51.priority, r51.version, r51.status) == ("192.0.2.11", 150, 2, "ok")
    assert r51.vips == ("192.0.2.100",)
    # Ages are relative to the document's time (45.3 s), never the wall clock.
    assert abs(r51.age_s - 0.3) < 1e-6
    assert by_vrid[60].status == "stale"
    assert [t.cause for t in r51.history] == ["first", "release", "preempt"]
    assert r51.history[1].held_s == pytest.approx(40.0 - 20.61)
    assert r51.history[-1].current


def test_sender_skew_and_master_down_are_rfc_values() -> None:
    doc, _ = scenario.pair()
    r51 = next(r for r in observer_view(doc).routers if r.vrid == 51)
    backup = next(s for s in r51.senders if s.ip == "192.0.2.12")
    # RFC 3768 6.1: Skew_Time = (256 - 100) / 256 s; Master_Down = 3 s + skew.
    assert backup.skew_ms == 609.375
    assert backup.master_down_ms == 3609.375


def test_detail_pane_says_what_the_document_says() -> None:
    doc, _ = scenario.pair()
    view = observer_view(doc)
    text = detail(view, view.router("eth0/ipv4/51")).plain
    assert "backups are shown only when heard" in text
    assert "192.0.2.12 100 609.4 3609.4" in " ".join(text.split())
    flat = " ".join(text.split())
    assert "192.0.2.11 -> 192.0.2.12 gap 609.0 ms (release)" in flat
    assert "192.0.2.12 -> 192.0.2.11 gap 390.0 ms (preempt)" in flat
    assert "192.0.2.100 02:00:00:00:00:0b master" in flat


def test_detail_flags_a_vip_answered_by_another_mac() -> None:
    doc, _ = scenario.pair()
    for a in doc["arp"]:
        if a["ip"] == "192.0.2.100":
            a["mac"] = "02:00:00:00:00:99"
    view = observer_view(doc)
    assert "NOT the master" in detail(view, view.router("eth0/ipv4/51")).plain


def test_split_brain_is_named_in_the_row_and_the_detail() -> None:
    doc, _ = scenario.split_brain()
    view = observer_view(doc)
    r = view.router("eth0/ipv4/51")
    assert r is not None and r.status == "split_brain"
    assert str(router_cells(r)["status"]) == "SPLIT BRAIN"
    assert "split brain: 192.0.2.11 and 192.0.2.12" in detail(view, r).plain


def test_age_colour_against_master_down() -> None:
    doc, _ = scenario.pair()
    view = observer_view(doc)
    assert age_cell(view.router("eth0/ipv4/51")).style == "green"  # type: ignore[arg-type]
    assert age_cell(view.router("eth0/ipv4/60")).style == "bold red"  # type: ignore[arg-type]


def test_node_row_explains_the_priority() -> None:
    inst = node_view(scenario.node()).instances[0]
    assert inst.vips == ("192.0.2.100",)  # "/24" stripped: compared with advertised VIPs
    cells = node_cells(inst)
    assert str(cells["prio"]) == "140 (base 150, chk_haproxy -10)"
    assert str(cells["next"]) == "advert 0.4s"


def test_event_rows_name_where() -> None:
    node = event_row({"time": 1.0, "kind": "node_transition", "instance": "VI_1", "detail": "x"})
    assert node.where == "VI_1"
    obs = event_row({"time": 1.0, "kind": "stale", "interface": "eth0", "vrid": 7, "detail": "y"})
    assert obs.where == "eth0 vrid 7"


def test_sparkline_scales_between_min_and_max() -> None:
    assert sparkline((100.0, 104.0, 108.0)) == "▁▄█"
    assert sparkline((100.0, 100.0)) == "▄▄"
    assert sparkline(()) == ""
