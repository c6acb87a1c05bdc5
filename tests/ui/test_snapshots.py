"""A few snapshots of the console on fixed scenarios (update: pytest --snapshot-update)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from hatui.ui import scenario
from hatui.ui.screenshots import (
    app_for,
    many_feed,
    serve_feed,
    split_feed,
    vendors_feed,
    watch_feed,
)

SIZE = (100, 30)


async def _settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.pause()


def test_watch_screen(snap_compare: Any) -> None:
    assert snap_compare(app_for(watch_feed()), terminal_size=SIZE, run_before=_settle)


def test_serve_screen(snap_compare: Any) -> None:
    assert snap_compare(app_for(serve_feed()), terminal_size=SIZE, run_before=_settle)


def test_release_confirmation(snap_compare: Any) -> None:
    async def release(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("r")
        await pilot.pause()

    assert snap_compare(app_for(serve_feed()), terminal_size=SIZE, run_before=release)


def test_split_brain(snap_compare: Any) -> None:
    assert snap_compare(app_for(split_feed()), terminal_size=SIZE, run_before=_settle)


def test_vendors_at_80x24(snap_compare: Any) -> None:
    """VRRP, Cisco VRRP with MD5, HSRP, CARP in one table with its protocol column, at
    80x24; the HSRP group's detail pane in HSRP's terms (active, standby, hold, coup)."""

    async def hsrp_row(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("down")
        await pilot.pause()

    assert snap_compare(app_for(vendors_feed()), terminal_size=(80, 24), run_before=hsrp_row)


async def _haproxy_backend(pilot: Pilot[Any]) -> None:
    await _settle(pilot)
    pilot.app.query_one("#haproxy").focus()
    await pilot.press("down", "down")
    await pilot.pause()


def test_haproxy_panel_80x24(snap_compare: Any) -> None:
    app = app_for(serve_feed(), scenario.haproxy_story())
    assert snap_compare(app, terminal_size=(80, 24), run_before=_haproxy_backend)


def test_haproxy_panel_120x40(snap_compare: Any) -> None:
    app = app_for(serve_feed(), scenario.haproxy_story())
    assert snap_compare(app, terminal_size=(120, 40), run_before=_haproxy_backend)


def test_a_255_instance_node_beside_a_stopped_haproxy_at_80x24(snap_compare: Any) -> None:
    """The node panel's summary title, the haproxy panel's alert count, one down event."""
    app = app_for(many_feed(), scenario.haproxy_stopped(scenario.many_node()))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_settle)
