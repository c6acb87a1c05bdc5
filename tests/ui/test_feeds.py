"""Feeds: replay (whole and paced), attach over a real control socket and a real LAN
view's socket (two consoles at once, the LAN view going and coming back), sinks."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import RichLog

from hatui.adapters.control import ControlServer
from hatui.adapters.lanclient import lan_path
from hatui.clock import ManualClock
from hatui.errors import UsageError
from hatui.modes import run_read_ui
from hatui.observe.observer import Observer
from hatui.runtime.lanview import LanViewServer
from hatui.runtime.watch import CaptureStats, Watch
from hatui.ui import scenario
from hatui.ui.app import HatuiApp
from hatui.ui.feeds import AttachFeed, ReplayFeed, split_status
from hatui.ui.lanstream import LanStream
from hatui.ui.messages import EventsArrived, NodeDoc, ObserverDoc
from hatui.ui.watchfeed import UiSink
from hatui.ui.widgets.tables import NodePanel, RoutersTable
from tests.observe.factory import MS, A, B, advert, at

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


def test_a_node_status_becomes_its_document_and_events() -> None:
    node = scenario.node()
    node_event = {"time": 1.0, "kind": "node_transition", "instance": "VI_1", "detail": "x"}
    msgs = split_status(dict(node, events=[node_event]))
    assert isinstance(msgs[0], EventsArrived) and msgs[0].events == [node_event]
    assert [type(m) for m in msgs[1:]] == [NodeDoc]


class FakeNode:
    """A ControlHandler standing in for NodeControl: scripted status, recorded commands."""

    def __init__(self) -> None:
        self.doc = dict(scenario.node(), events=[])
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


def _lan_watch() -> Watch:
    return Watch(interfaces=["eth0"], observer=Observer(), clock=ManualClock(wall=at(2000 * MS)))


def _hear(watch: Watch, ms: int, src: str, vrid: int, priority: int = 100) -> None:
    events = watch.observer.feed_frame(
        at(ms * MS), "eth0", advert(src, vrid=vrid, priority=priority)
    )
    for sink in watch.sinks:
        sink.events(events)


async def _publish_node_on_join(server: ControlServer, doc: dict[str, Any]) -> None:
    """As NodeControl does: a node-only subscriber's first line, at once."""
    while True:
        await server.node_joined.wait()
        server.node_joined.clear()
        server.publish_node(json.dumps(doc).encode())


async def test_two_consoles_attach_at_once_and_see_the_same_lan(socket_path: str) -> None:
    node = FakeNode()
    server = ControlServer(socket_path, node)
    await server.start()
    joiner = asyncio.ensure_future(_publish_node_on_join(server, node.doc))
    watch = _lan_watch()
    lan = LanViewServer(watch, lan_path(socket_path))
    await lan.start()
    _hear(watch, 0, A, 51)
    _hear(watch, 10, B, 52)
    try:
        feeds = [AttachFeed(socket_path), AttachFeed(socket_path)]
        for feed in feeds:
            await feed.connect()
        apps = [HatuiApp(feed, render_s=0) for feed in feeds]
        async with apps[0].run_test(size=SIZE) as one, apps[1].run_test(size=SIZE) as two:
            for pilot in (one, two):
                await pilot.pause(0.2)
            for app in apps:
                assert app.query_one(NodePanel).row_count == 1
                assert app.query_one(RoutersTable).row_count == 2
                assert "new 52: master 192.0.2.12" in log_text(app)  # the history
            # News reaches both at once: a preemption on VRID 51, no tick needed.
            _hear(watch, 1000, B, 51, priority=200)
            for _ in range(40):
                await one.pause(0.05)
                await two.pause(0.05)
                masters = [app.observer.routers for app in apps]
                if all(any(r.vrid == 51 and r.master_ip == B for r in rs) for rs in masters):
                    break
            for app in apps:
                (r51,) = [r for r in app.observer.routers if r.vrid == 51]
                assert r51.master_ip == B
            assert lan.subscribers == 2
            # Commands still go to the node's control socket.
            await one.press("r")
            await one.pause()
            await one.press("y")
            for _ in range(20):
                await one.pause(0.05)
                if node.commands:
                    break
            assert node.commands == [("release", "VI_1", None)]
            server.publish_node(json.dumps(dict(scenario.node("BACKUP"), events=[])).encode())
            await two.pause(0.2)
            assert str(apps[1].query_one(NodePanel).get_row("VI_1")[2]) == "BACKUP"
            for pilot in (one, two):
                await pilot.press("q")
                await pilot.pause(0.2)
    finally:
        joiner.cancel()
        await lan.close()
        await server.close()


async def test_the_lan_view_going_is_said_and_followed_by_a_reconnect(socket_path: str) -> None:
    path = lan_path(socket_path)
    watch = _lan_watch()
    lan = LanViewServer(watch, path)
    await lan.start()
    _hear(watch, 0, A, 51)
    posted: list[Any] = []
    stop = asyncio.Event()
    stream = LanStream(path)
    task = asyncio.ensure_future(stream.run(posted.append, stop))

    def kinds() -> list[str]:
        return [e["kind"] for m in posted if isinstance(m, EventsArrived) for e in m.events]

    async def until(predicate: Any, what: str) -> None:
        for _ in range(300):
            if predicate():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"timed out waiting for {what}: {kinds()}")

    try:
        await until(lambda: stream.connected, "the first document")
        assert kinds() == ["new_router"]  # the history
        await lan.close()  # the LAN view dies
        await until(lambda: "lan_view_lost" in kinds(), "lan_view_lost")
        assert not stream.connected
        # Its node starts it again: a new process, whose history has its own new_router
        # line for VRID 51 and, newer than anything shown, VRID 52.
        again = _lan_watch()
        _hear(again, 0, A, 51)
        _hear(again, 500, B, 52)
        lan = LanViewServer(again, path)
        await lan.start()
        await until(lambda: "lan_view_back" in kinds(), "lan_view_back")
        await until(lambda: stream.connected and len(kinds()) >= 4, "the new history")
        await asyncio.sleep(0.1)
        # No history twice: VRID 51's new_router is not shown again; VRID 52's is new.
        assert kinds() == ["new_router", "lan_view_lost", "lan_view_back", "new_router"]
        vrids = [e.get("vrid") for m in posted if isinstance(m, EventsArrived) for e in m.events]
        assert vrids[0] == 51 and vrids[-1] == 52
        docs = [m for m in posted if isinstance(m, ObserverDoc)]
        assert [r["vrid"] for r in docs[-1].doc["routers"]] == [51, 52]
    finally:
        stop.set()
        await asyncio.wait_for(task, 3)
        await lan.close()


async def test_a_console_without_a_lan_view_says_so_after_a_while(socket_path: str) -> None:
    posted: list[Any] = []
    stop = asyncio.Event()
    task = asyncio.ensure_future(LanStream(lan_path(socket_path)).run(posted.append, stop))
    try:
        await asyncio.sleep(1.0)  # a LAN view starting beside its node: quiet meanwhile
        assert posted == []
        for _ in range(60):
            await asyncio.sleep(0.1)
            if posted:
                break
        assert [e["kind"] for e in posted[0].events] == ["lan_view_lost"]
        assert "no LAN view yet, waiting" in posted[0].events[0]["detail"]
    finally:
        stop.set()
        await asyncio.wait_for(task, 3)


async def test_attach_without_a_node_fails_before_the_app(socket_path: str) -> None:
    from hatui.errors import RuntimeFault

    with pytest.raises(RuntimeFault, match="no hatui node"):
        await AttachFeed(socket_path).connect()
    await asyncio.sleep(0)
