"""The host's LAN view answers on its socket in JSON lines: documents, metrics, a stream
that consoles follow; and a node's /metrics serves its text as it came.

Server and clients run here in one process (no capture: frames go to the observer); the
process split itself is tested in tests/integration/test_node_lanview.py."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import stat
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hatui.adapters import lanclient
from hatui.clock import ManualClock
from hatui.observe.observer import Observer
from hatui.observe.report import routers_to_json
from hatui.runtime import lanproc
from hatui.runtime.document import live_document
from hatui.runtime.lanproc import LanView
from hatui.runtime.lanview import DOC_EVERY_S, SLICE, LanViewServer, document_line
from hatui.runtime.metrics import Exporter
from hatui.runtime.watch import LAN_VIEW_LIVE_READ_S, LAN_VIEW_READ_S, CaptureStats, Watch
from tests.observe.factory import MS, A, B, advert, at
from tests.runtime.test_node import many


def _watch() -> Watch:
    clock = ManualClock(wall=at(1200 * MS))  # after every advert below
    return Watch(
        interfaces=["eth0"], observer=Observer(), clock=clock, read_every_s=LAN_VIEW_READ_S
    )


def _hear(watch: Watch, ms: int, src: str, vrid: int, priority: int = 100) -> None:
    """As the watch's read does: feed the frame, hand the events to the sinks."""
    events = watch.observer.feed_frame(
        at(ms * MS), "eth0", advert(src, vrid=vrid, priority=priority)
    )
    if events:
        for sink in watch.sinks:
            sink.events(events)


async def _served(tmp_path: Path) -> tuple[Watch, LanViewServer, str]:
    watch = _watch()
    path = lanclient.lan_path(str(tmp_path / "hatui.sock"))
    server = LanViewServer(watch, path)
    await server.start()
    return watch, server, path


async def _until(predicate: Any, what: str) -> None:
    for _ in range(200):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def test_document_and_socket_mode(tmp_path: Path) -> None:
    watch, server, path = await _served(tmp_path)
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        _hear(watch, 0, A, 51)
        doc = await lanclient.document(path)
        assert [(r["vrid"], r["master"]["ip"]) for r in doc["routers"]] == [(51, A)]
        assert doc["counters"]["kernel_drops"] == 0 and "observer_errors" in doc["counters"]
        assert [e["kind"] for e in doc["events"]] == ["new_router"]  # the history
        raw = await LanView(path, []).document()  # the node's handle: bytes as they came
        assert raw is not None and json.loads(raw)["routers"] == doc["routers"]
    finally:
        await server.close()
    with pytest.raises(lanclient.LanViewGone):
        await lanclient.document(path)
    assert await LanView(path, []).document() is None  # gone: None at once, never a raise
    assert lanclient.metrics_text(path) is None


async def test_bad_requests_get_one_error_line(tmp_path: Path) -> None:
    _, server, path = await _served(tmp_path)
    try:
        for raw in (b"document\n", b'{"cmd": "reboot"}\n', b"[1]\n"):
            reader, writer = await asyncio.open_unix_connection(path)
            writer.write(raw)
            answer = json.loads(await reader.readline())
            writer.close()
            assert answer["ok"] is False and "document, metrics, subscribe" in answer["error"]
    finally:
        await server.close()


async def test_metrics_text(tmp_path: Path) -> None:
    watch, server, path = await _served(tmp_path)
    try:
        _hear(watch, 0, A, 51)
        _hear(watch, 1000, A, 51)
        _hear(watch, 1100, B, 51, priority=200)  # preempt: a master change, counted
        text = await asyncio.to_thread(lanclient.metrics_text, path)
    finally:
        await server.close()
    assert text is not None
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text.decode())
        for s in family.samples
    }
    labels = (("family", "ipv4"), ("interface", "eth0"), ("protocol", "vrrp"), ("vrid", "51"))
    assert samples[("hatui_router_adverts_total", labels)] == 3
    assert samples[("hatui_router_priority", labels)] == 200
    change = [k for k in samples if k[0] == "hatui_router_master_change_total"]
    assert len(change) == 1 and samples[change[0]] == 1


async def test_a_nodes_metrics_are_its_own_then_the_lan_views_text_verbatim(
    tmp_path: Path,
) -> None:
    watch, server, path = await _served(tmp_path)
    node, _io, sched = many(2)
    node.start()
    sched.run_until(3_000_000)
    exporter = Exporter("127.0.0.1:0")
    exporter.start()
    url = f"http://127.0.0.1:{exporter.bound_port}/metrics"
    try:
        _hear(watch, 0, A, 51)
        handle = LanView(path, [])
        exporter.attach(asyncio.get_running_loop(), watch=None, node=node, lan_text=handle.metrics)
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read())
        lan = await asyncio.to_thread(lanclient.metrics_text, path)
        await server.close()  # the LAN view goes: a scrape still answers, without its series
        after = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read())
    finally:
        exporter.stop()
        await server.close()
    assert lan is not None and body.endswith(lan)  # byte for byte, after the node's own
    own = body[: -len(lan)]
    assert own == after and b"keepalived_vrrp_state{" in own
    names = lambda text: {f.name for f in text_string_to_metric_families(text.decode())}  # noqa: E731
    assert names(own) and names(lan) and not names(own) & names(lan)  # disjoint families
    assert any(
        x.startswith("hatui_router_master{") and f'master_ip="{A}"' in x
        for x in body.decode().splitlines()
    )


async def test_the_stream_starts_with_the_history_then_events_at_once(tmp_path: Path) -> None:
    watch, server, path = await _served(tmp_path)
    _hear(watch, 0, A, 51)  # before anyone subscribes: history
    one, two = lanclient.subscribe(path), lanclient.subscribe(path)
    try:
        first = await asyncio.wait_for(anext(one), 2)
        assert isinstance(first, lanclient.LanDocument)
        history = first.parse()["events"]
        assert [e["kind"] for e in history] == ["new_router"] and history[0]["vrid"] == 51
        # Then whether it follows haproxy (this one was not asked to: no panel).
        followed = await asyncio.wait_for(anext(one), 2)
        assert followed == lanclient.LanHaproxyFollowed(polls=False)
        await asyncio.wait_for(anext(two), 2)
        await asyncio.wait_for(anext(two), 2)
        assert server.subscribers == 2 and watch.read_every_s == LAN_VIEW_LIVE_READ_S
        _hear(watch, 100, B, 52)  # no tick: the event comes as soon as it is decoded
        for stream in (one, two):  # every console gets the same line
            news = await asyncio.wait_for(anext(stream), 2)
            assert isinstance(news, lanclient.LanEvents) and news.news is not None
            assert [e["kind"] for e in news.events] == ["new_router"]
            assert [r["vrid"] for r in news.news["routers"]] == [52]
        watch.tick()  # the document, at the tick, without the events already sent
        later = await asyncio.wait_for(anext(one), 2)
        assert isinstance(later, lanclient.LanDocument)
        doc = later.parse()
        assert doc["events"] == [] and [r["vrid"] for r in doc["routers"]] == [51, 52]
        assert json.loads(later.raw)["document"] == doc  # the fast path reads what a parse does
        built = server._building
        watch.tick()  # within DOC_EVERY_S of the last: no document
        assert server._building is built
        watch.clock.advance(round(DOC_EVERY_S * 1e6))  # type: ignore[attr-defined]
        watch.tick()
        assert server._building is not built
        assert isinstance(await asyncio.wait_for(anext(one), 2), lanclient.LanDocument)
    finally:
        await one.aclose()
        await two.aclose()
    await _until(lambda: server.subscribers == 0, "the server to notice the consoles leave")
    assert watch.read_every_s == LAN_VIEW_READ_S  # nobody follows: reads what queued, rarely
    await server.close()


def test_a_document_written_in_slices_is_the_documents_json() -> None:
    """The stream's documents are written a slice of routers at a time: the line must be
    the document the one-shot builder gives (the first answer's path)."""
    watch = _watch()
    for vrid in range(1, SLICE + 9):
        _hear(watch, 0, A, vrid)
    _hear(watch, 100, B, 7, priority=200)
    snap = dataclasses.replace(watch.observer.snapshot(watch.clock.wall_us()), events=())
    assert len(snap.routers) > SLICE
    rows = [
        json.dumps(routers_to_json(snap.time, snap.routers[i : i + SLICE])["routers"])[1:-1]
        for i in range(0, len(snap.routers), SLICE)
    ]
    stats = CaptureStats(kernel_drops=3)
    line = document_line(snap, stats, None, ",".join(rows).encode())
    assert line.startswith(lanclient.DOCUMENT_PREFIX) and line.endswith(b"}\n")
    assert json.loads(line) == {"ok": True, "document": live_document(snap, stats)}
    empty = dataclasses.replace(snap, routers=())
    assert json.loads(document_line(empty, stats, None, b""))["document"]["routers"] == []


async def test_a_stream_ends_with_lan_view_gone_when_it_closes(tmp_path: Path) -> None:
    _, server, path = await _served(tmp_path)
    stream = lanclient.subscribe(path)
    await asyncio.wait_for(anext(stream), 2)  # the document
    await asyncio.wait_for(anext(stream), 2)  # whether it follows haproxy
    await server.close()
    with pytest.raises(lanclient.LanViewGone):
        await asyncio.wait_for(anext(stream), 2)
    await stream.aclose()


async def test_the_lan_view_is_behind_the_node_from_its_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in that never sets its own policy: what it runs with is what the spawn gave it.
    child = tmp_path / "child"
    child.write_text("#!/bin/sh\nexec sleep 30\n")
    child.chmod(0o755)
    monkeypatch.setattr(lanproc.sys, "executable", str(child))
    view = LanView(str(tmp_path / "x.lan"), [])
    proc = await view._spawn()
    try:
        assert os.sched_getscheduler(proc.pid) == os.SCHED_IDLE
        assert os.getpriority(os.PRIO_PROCESS, proc.pid) == lanproc.NICE
    finally:
        proc.kill()
        await proc.wait()


def test_an_answer_line_is_read_whole_or_refused_in_one_line() -> None:
    doc = {"time": 1.5, "routers": [{"vrid": 51, "adverts_per_s": 9.75}]}
    line = json.dumps({"ok": True, "document": doc}).encode() + b"\n"
    assert lanclient.LanDocument(line).parse() == doc
    # json writes NaN, which JSON (and orjson) does not have: it still reads
    nan = lanclient.parse_answer(b'{"ok": true, "document": {"skew_ms": NaN}}\n')
    assert nan["document"]["skew_ms"] != nan["document"]["skew_ms"]
    for bad, said in [
        (b'{"ok": true, "document": {\n', "a malformed line from the LAN view"),
        (b"[1, 2]\n", "a malformed line from the LAN view"),
        (b'{"ok": false, "error": "unknown command"}\n', "unknown command"),
        (b'{"ok": true}', "the LAN view closed the connection"),  # no end of line
    ]:
        with pytest.raises(lanclient.LanViewGone, match=said):
            lanclient.parse_answer(bad)
