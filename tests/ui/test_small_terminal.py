"""The console of a 255-instance node at 80x24 (a default SSH terminal): the node panel
counts the instances by state where their rows do not fit, and the log says what happened
in the columns it has; at 120x40 the panel's table is unchanged."""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

import pytest
from textual.pilot import Pilot

from hatui.adapters.haproxy import Poll
from hatui.haproxy.join import Unreached
from hatui.runtime.status import node_status_to_json
from hatui.ui import scenario
from hatui.ui.app import HatuiApp
from hatui.ui.feeds import FakeFeed
from hatui.ui.model import Mode
from hatui.ui.widgets.tables import NodePanel
from hatui.vrrp import inputs as inp
from tests.runtime.test_node import many

SOCK = "/run/haproxy/admin.sock"


@functools.cache
def node_doc() -> dict[str, Any]:
    """A real node of 255 instances (the runtime's own status document): all master, then
    100 released to backup, one paused and two given an operator priority."""
    node, _io, sched = many(255, alike=True)
    node.start()
    sched.run_until(3_000_000)
    for v in range(2, 202, 2):
        node.command(f"VI_{v}", inp.Release())
    node.command("VI_7", inp.Pause())
    node.command("VI_9", inp.SetPriority(value=200))
    node.command("VI_11", inp.SetPriority(value=50))
    sched.run_until(3_500_000)
    return node_status_to_json(node.status(), {s.name: s for s in node.spec.instances})


def expected_summary(doc: dict[str, Any]) -> str:
    """Counted here from the status document, not by the console's code."""
    insts = doc["instances"]
    states = Counter(i["state"] for i in insts)
    paused = sum(bool(i["paused"]) for i in insts)
    overridden = sum(i["override"] is not None for i in insts)
    return (
        f"{len(insts)} instances: {states['MASTER']} MASTER {states['BACKUP']} BACKUP "
        f"{states['FAULT']} FAULT · {paused} paused · {overridden} overridden"
    )


class Haproxy:
    """A stopped haproxy beside the node: every VIP the node holds is down."""

    def __init__(self, doc: dict[str, Any]) -> None:
        held = [i["vips"][0].split("/")[0] for i in doc["instances"] if i["vips_held"]]
        self.poll = Poll(
            time_us=1_700_000_046_000_000,
            socket=SOCK,
            outcome=Unreached(status=f"{SOCK}: connection refused", configured=True),
            local=frozenset(held),
        )

    async def run(self, on_poll: Any, stop: Any) -> None:
        on_poll(self.poll)
        await stop.wait()


def app_for(doc: dict[str, Any]) -> HatuiApp:
    observer, events = scenario.pair()
    feed = FakeFeed(Mode.SERVE, "eth0", observer=observer, events=events, node=doc)
    return HatuiApp(feed, render_s=0, haproxy=Haproxy(doc))


def screen(app: HatuiApp) -> list[str]:
    return ["".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()]


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.pause(0.2)
    await pilot.pause()


async def test_at_80x24_the_node_panel_sums_up_its_255_instances() -> None:
    doc = node_doc()
    summary = expected_summary(doc)
    assert "0 MASTER" not in summary and "1 paused · 2 overridden" in summary  # a mixed node
    app = app_for(doc)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        panel = app.query_one(NodePanel)
        assert panel.row_count == 255 and panel.size.height < 255  # the rows do not fit
        lines = screen(app)
        assert any(summary in line for line in lines), "\n".join(lines)


async def test_at_80x24_each_event_line_says_what_happened() -> None:
    app = app_for(node_doc())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        log = app.query_one("#log")
        left = log.content_region.x
        shown = [
            line[left : left + log.content_region.width].rstrip()
            for line in screen(app)[log.content_region.y : log.content_region.bottom]
        ]
        text = "\n".join(shown)
        # The last events of the scenario and the haproxy alert, as the operator sees them.
        for essential in ("failover 51", "VIP moved 51", "stale 60", "haproxy down: 154"):
            assert any(f" {essential}" in s for s in shown), text
        assert not any("eth0" in s for s in shown), text


@pytest.mark.parametrize("size", [(120, 40)])
async def test_at_120x40_the_full_table_is_unchanged(size: tuple[int, int]) -> None:
    doc = node_doc()
    app = app_for(doc)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        panel = app.query_one(NodePanel)
        shown = panel.size.height - 1
        lines = screen(app)
        top = panel.region.y
        # The columns 120 columns held before the summary: all but the peers.
        assert lines[top + 1].split() == [
            "instance", "VRID", "state", "priority", "VIPs", "in", "state", "next", "last",
            "transition",
        ]  # fmt: skip
        rows = [line.split()[:3] for line in lines[top + 2 : top + 2 + shown]]
        assert rows[:3] == [
            ["VI_1", "1", "MASTER"],
            ["VI_2", "2", "BACKUP"],
            ["VI_3", "3", "MASTER"],
        ]
        # A tall enough panel keeps its plain title; this one still scrolls, so it sums up.
        assert expected_summary(doc) in lines[top]
        assert lines[top].lstrip("─").startswith("This node: 255 instances")


async def test_at_80x24_the_haproxy_panel_counts_its_alerts_and_groups_them() -> None:
    doc = node_doc()
    held = sum(bool(i["vips_held"]) for i in doc["instances"])
    app = app_for(doc)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        panel = app.query_one("#haproxy")
        title = screen(app)[panel.region.y]
        assert f"haproxy: {held} alerts · {SOCK}" in title, title  # the count is not cut off
        panel.focus()
        await settle(pilot)
        text = " ".join(str(app.query_one("#detail").render()).split())
        head = f"{held} VIPs held here but haproxy does not answer ({SOCK}: connection refused): "
        assert text.startswith(head + "198.51.100.1, 198.51.100.3, "), text[:200]
        assert text.count("held here") == 1  # one paragraph, not one per VIP
