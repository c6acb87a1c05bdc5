"""A node's LAN view answers its node over a Unix socket: documents, metrics, a stream.

Server and client run here in one process (no capture: frames go to the observer); the
process split itself is tested in tests/integration/test_node_lanview.py."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from hatui.clock import ManualClock
from hatui.observe.observer import Observer
from hatui.runtime.lanview import LanView, LanViewServer, splice_events
from hatui.runtime.metrics import Exporter
from hatui.runtime.watch import Watch
from tests.observe.factory import MS, A, B, advert, at


def _watch() -> Watch:
    clock = ManualClock(wall=at(1200 * MS))  # after every advert below
    return Watch(interfaces=["eth0"], observer=Observer(), clock=clock)


def _hear(watch: Watch, ms: int, src: str, vrid: int, priority: int = 100) -> None:
    events = watch.observer.feed_frame(
        at(ms * MS), "eth0", advert(src, vrid=vrid, priority=priority)
    )
    if events:
        for sink in watch.sinks:
            sink.events(events)


async def _served(tmp_path: Path) -> tuple[Watch, LanViewServer, LanView]:
    watch = _watch()
    path = str(tmp_path / "hatui.sock.lan")
    server = LanViewServer(watch, path)
    await server.start()
    return watch, server, LanView(path, [])


async def test_document_and_socket_mode(tmp_path: Path) -> None:
    watch, server, client = await _served(tmp_path)
    try:
        assert stat.S_IMODE(os.stat(server.path).st_mode) == 0o600
        _hear(watch, 0, A, 51)
        raw = await client.document()
        assert raw is not None
        doc = json.loads(raw)
        assert [(r["vrid"], r["master"]["ip"]) for r in doc["routers"]] == [(51, A)]
        assert doc["counters"]["kernel_drops"] == 0 and "observer_errors" in doc["counters"]
    finally:
        await server.close()
    assert await client.document() is None  # gone: None at once, never a wait or a raise
    assert client.metrics() is None


async def test_metrics_text_survives_the_nodes_reparse(tmp_path: Path) -> None:
    """The node re-exposes what the LAN view sends: parsing and printing it again must
    give the same series and values."""
    watch, server, client = await _served(tmp_path)
    try:
        _hear(watch, 0, A, 51)
        _hear(watch, 1000, A, 51)
        _hear(watch, 1100, B, 51, priority=200)  # preempt: a master change, counted
        text = await asyncio.to_thread(client.metrics)
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


async def test_a_nodes_exporter_adds_the_lan_views_series(tmp_path: Path) -> None:
    watch, server, client = await _served(tmp_path)
    exporter = Exporter("127.0.0.1:0")
    exporter.start()
    try:
        _hear(watch, 0, A, 51)
        exporter.attach(asyncio.get_running_loop(), watch=None, node=None, lan_view=client)

        url = f"http://127.0.0.1:{exporter.bound_port}/metrics"
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read())
        own = await asyncio.to_thread(client.metrics)
        await server.close()  # the LAN view goes: a scrape still answers, without its series
        after = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read())
    finally:
        exporter.stop()
        await server.close()
    lines = body.decode().splitlines()
    assert any(x.startswith("hatui_router_master{") and f'master_ip="{A}"' in x for x in lines)
    assert own is not None and set(own.decode().splitlines()) <= set(lines)  # word for word
    assert b"hatui_router_" not in after


async def test_the_stream_carries_new_events_and_the_document(tmp_path: Path) -> None:
    watch, server, client = await _served(tmp_path)
    stream = client.stream()
    try:
        first = asyncio.ensure_future(anext(stream))
        for _ in range(100):  # the subscription reaches the server
            if server._queues:
                break
            await asyncio.sleep(0.01)
        _hear(watch, 0, A, 51)
        watch.tick()
        events, doc = await asyncio.wait_for(first, 2)
        assert [e["kind"] for e in json.loads(events)] == ["new_router"]
        parsed = json.loads(doc)
        assert parsed["events"] == [] and parsed["routers"][0]["vrid"] == 51
        watch.tick()  # nothing new: the events line is empty, the document still comes
        events, _doc = await asyncio.wait_for(anext(stream), 2)
        assert json.loads(events) == []
    finally:
        await stream.aclose()
        await server.close()
    for _ in range(100):  # the server notices the node leaving
        if not server._queues:
            break
        await asyncio.sleep(0.01)
    assert not server._queues


def test_splice_events_both_sides() -> None:
    node = [{"kind": "node_transition"}]
    assert splice_events(b"[]", []) == b"[]"
    assert json.loads(splice_events(b"[]", node)) == node
    assert json.loads(splice_events(b"", node)) == node
    assert splice_events(b'[{"kind":"new_router"}]', []) == b'[{"kind":"new_router"}]'
    both = json.loads(splice_events(b'[{"kind":"new_router"}]', node))
    assert both == [{"kind": "new_router"}, *node]
