"""Feeds: replay (whole and paced), the attach stream over a real control socket, sinks."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import RichLog

from hatui.adapters.control import ControlServer
from hatui.clock import ManualClock
from hatui.errors import UsageError
from hatui.observe.observer import Observer
from hatui.runtime.watch import CaptureStats
from hatui.ui import scenario
from hatui.ui.app import HatuiApp, run_read_ui
from hatui.ui.feeds import AttachFeed, ReplayFeed, UiSink, split_status
from hatui.ui.messages import EventsArrived, NodeDoc, ObserverDoc
from hatui.ui.widgets.tables import NodePanel, RoutersTable

SIZE = (100, 30)


@pytest.fixture
def pair_pcap(tmp_path: Path) -> str:
    path = str(tmp_path / "pair.pcap")
    scenario.write_pcap(path, scenario.PAIR_STREAMS)
    return path


def log_text(app: HatuiApp) -> str:
    return " ".join(" ".join(line.text for line in app.query_one(RichLog).lines).split())


async def test_read_shows_final_state_and_full_log(pair_pcap: str) -> None:
    feed = ReplayFeed(pair_pcap)
    feed.open()
    app = HatuiApp(feed, render_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.pause()
        row = [str(c) for c in app.query_one(RoutersTable).get_row("pcap/ipv4/51")]
        assert row[2] == "192.0.2.11" and row[3] == "150"
        text = log_text(app)
        assert (
            "(release, gap 609.0 ms; took over 0.4 ms before" in text
            and "(preempt, gap 390.0 ms)" in text
        )
        assert "end of capture" in str(app.query_one("#header").render())


async def test_paced_replay_reaches_the_same_end(pair_pcap: str) -> None:
    feed = ReplayFeed(pair_pcap, speed=200.0)  # 45 s of capture in ~0.25 s
    feed.open()
    app = HatuiApp(feed, render_s=0)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(40):
            await pilot.pause(0.05)
            if "end of capture" in str(app.query_one("#header").render()):
                break
        assert "end of capture" in str(app.query_one("#header").render())
        r = app.observer.router("pcap/ipv4/51")
        assert r is not None and r.master_ip == "192.0.2.11"
        assert "(release, gap 609.0 ms; took over 0.4 ms before" in log_text(app)


def test_unreadable_capture_fails_before_the_app() -> None:
    with pytest.raises(UsageError):
        run_read_ui("/nonexistent/x.pcap", speed=None)


def test_ui_sink_sends_events_apart_and_adds_kernel_drops() -> None:
    posted: list[Any] = []
    sink = UiSink(posted.append)
    obs = Observer()
    built: list[int] = []

    def get() -> Any:
        built.append(1)
        return obs.snapshot(ManualClock().wall_us())

    sink.snapshot(get, CaptureStats(kernel_drops=4))
    assert built == []  # nothing is built until the console draws it
    sink.events([])
    assert isinstance(posted[0], ObserverDoc)
    assert posted[0].doc["events"] == [] and posted[0].doc["counters"]["kernel_drops"] == 4
    assert isinstance(posted[1], EventsArrived)


def test_attach_backlog_comes_from_the_first_observer_document() -> None:
    doc, events = scenario.pair()
    doc["events"] = events
    node = scenario.node()
    node_event = {"time": 1.0, "kind": "node_transition", "instance": "VI_1", "detail": "x"}
    first = split_status(dict(node, observer=doc, events=[events[-1], node_event]), backlog=True)
    assert isinstance(first[0], EventsArrived)
    assert first[0].events == [*events, node_event]  # no duplicate of events[-1]
    assert any(isinstance(m, NodeDoc) for m in first)
    later = split_status(dict(node, observer=doc, events=[events[-1]]))
    assert isinstance(later[0], EventsArrived) and later[0].events == [events[-1]]


class FakeNode:
    """A ControlHandler standing in for NodeControl: scripted status, recorded commands."""

    def __init__(self) -> None:
        doc, events = scenario.pair()
        doc["events"] = events
        self.doc = dict(scenario.node(), observer=doc, events=[])
        self.commands: list[tuple[str, str, str | None]] = []

    async def status(self) -> dict[str, Any]:
        return self.doc

    def command(self, cmd: str, instance: str, value: str | None) -> dict[str, Any]:
        self.commands.append((cmd, instance, value))
        return {}


@pytest.fixture
def socket_path() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="hatui-ui-") as d:
        yield os.path.join(d, "hatui.sock")


async def test_attach_renders_the_stream_and_steers_the_node(socket_path: str) -> None:
    node = FakeNode()
    server = ControlServer(socket_path, node)
    await server.start()
    try:
        feed = AttachFeed(socket_path)
        await feed.connect()
        app = HatuiApp(feed, render_s=0)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.1)
            assert app.query_one(NodePanel).row_count == 1
            assert app.query_one(RoutersTable).row_count == 3
            assert "(release, gap 609.0 ms; took over 0.4 ms before" in log_text(app)  # the backlog
            await pilot.press("r")
            await pilot.pause()
            await pilot.press("y")
            for _ in range(20):
                await pilot.pause(0.05)
                if node.commands:
                    break
            assert node.commands == [("release", "VI_1", None)]
            await pilot.press("plus", "y")
            for _ in range(20):
                await pilot.pause(0.05)
                if len(node.commands) > 1:
                    break
            assert node.commands[1] == ("priority", "VI_1", "+10")
            server.publish(dict(scenario.node("BACKUP"), events=[]))
            await pilot.pause(0.2)
            assert str(app.query_one(NodePanel).get_row("VI_1")[2]) == "BACKUP"
            await pilot.press("q")
            await pilot.pause(0.2)
    finally:
        await server.close()


async def test_attach_without_a_node_fails_before_the_app(socket_path: str) -> None:
    from hatui.errors import RuntimeFault

    with pytest.raises(RuntimeFault, match="no hatui node"):
        await AttachFeed(socket_path).connect()
    await asyncio.sleep(0)
