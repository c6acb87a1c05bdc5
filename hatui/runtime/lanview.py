"""The host's LAN view, in a process of its own: the only unfiltered capture.

The node process captures only its own VRIDs' adverts (a kernel filter, as keepalived's
socket does) and runs nothing but its state machines, control socket and trackers. What
every router on the LAN is doing (the headless log's LAN events, `hatui_router_*`
metrics, the LAN document of `hatui ctl status` and of every console) is decoded here
instead, by a read-only watcher the node starts (runtime/lanproc.py), in the node's
session under SCHED_IDLE (adapters/sched.py):

- a flood of other routers' adverts costs this process, never the node's timers: the
  kernel schedules the node first, and drops what this process cannot read (counted as
  kernel drops, shown, never silent);
- this process dying, or being slow, never touches the node; the node starts it again.

It answers on a Unix socket (mode 0600) beside the control socket, in JSON lines
(adapters/lanclient.py has the protocol and the client). Its node asks it for documents
and metrics; consoles subscribe to it directly, so the node relays nothing. With no
subscriber it reads what queued every LAN_VIEW_READ_S (its node's own adverts would
otherwise wake it per frame); while consoles follow it, every LAN_VIEW_LIVE_READ_S, and it
sends events the moment it decodes them, with the rows they are about, and documents every
DOC_EVERY_S.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from hatui.adapters.control import allowed, offer, peer_uid, pump
from hatui.adapters.haproxy import Poll, poll_to_json
from hatui.adapters.lanclient import COMMANDS
from hatui.errors import RuntimeFault
from hatui.haproxy.join import HaproxyView
from hatui.observe.events import Event
from hatui.observe.model import ObserverSnapshot
from hatui.observe.report import event_to_json, routers_to_json
from hatui.runtime.document import live_document
from hatui.runtime.lanmetrics import LanCounters, lan_data, lan_exposition
from hatui.runtime.watch import (
    LAN_VIEW_LIVE_READ_S,
    LAN_VIEW_READ_S,
    TICK_S,
    CaptureStats,
    SnapshotGetter,
    Watch,
)

log = logging.getLogger(__name__)

_QUEUE = 32  # lines a slow subscriber may lag before it loses the oldest
SLICE = 32  # routers written per turn of the loop: frames are read between slices
# Documents to consoles this often: news (events with their rows) goes at once, and a
# console redraws a document of every router only every few ticks anyway (ui/app.py
# ROUTINE_SHARE); its snapshot holds this process from reading frames meanwhile.
DOC_EVERY_S = 0.5


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


_NO_ROUTERS = b'"routers":[]'


def document_line(
    snap: ObserverSnapshot, stats: CaptureStats, haproxy: HaproxyView | None, routers: bytes
) -> bytes:
    """The stream's document line of `snap`, its routers already written (`routers`: their
    JSON objects joined by commas): the line `live_document` gives, built in slices."""
    rest = _line({"ok": True, "document": live_document(replace(snap, routers=()), stats, haproxy)})
    # The document's second key (after a number): the first `"routers":[]` of the line.
    head, sep, tail = rest.partition(_NO_ROUTERS)
    assert sep, "a document without its routers key"
    return head + b'"routers":[' + routers + b"]" + tail


class LanViewServer:
    """Answers its node and the consoles: documents, metrics, a stream. It is also a
    watch Sink (the stream's events and documents come from the watch)."""

    def __init__(self, watch: Watch, path: str) -> None:
        self.watch = watch
        self.path = path
        self.counters = LanCounters()  # master changes by cause: metrics
        self._server: asyncio.Server | None = None
        self._queues: set[asyncio.Queue[bytes]] = set()
        self._writers: set[asyncio.StreamWriter] = set()  # the subscribers', hung up on close
        self._last_doc: int | None = None  # when the stream's last document went
        self._building: asyncio.Future[None] | None = None
        self.haproxy: Callable[[], HaproxyView | None] = lambda: None  # --lan-haproxy
        self.polls_haproxy = False  # --lan-haproxy: consoles show a haproxy panel
        self._last_poll: bytes | None = None  # the last haproxy poll, as a stream line

    async def start(self) -> None:
        # The control socket's folder (/run/hatui), which the node may not have made yet.
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), mode=0o755, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # ours, from a LAN view the node started before
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=self.path)
            os.chmod(self.path, 0o600)
        except OSError as exc:
            raise RuntimeFault(f"LAN view: cannot listen on {self.path}: {exc.strerror}") from None
        self.watch.sinks += [self, self.counters]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        for writer in list(self._writers):
            writer.close()
        if self._building is not None:
            self._building.cancel()

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def document(self, *, events: bool = True) -> dict[str, object]:
        watch = self.watch
        snap = watch.observer.snapshot(watch.clock.wall_us())
        return live_document(snap, watch.stats, self.haproxy(), events=events)

    def metrics(self) -> bytes:
        watch = self.watch
        snap = watch.observer.snapshot(watch.clock.wall_us())
        return lan_exposition(lan_data(snap, self.counters, watch.stats.kernel_drops))

    def on_haproxy_poll(self, poll: Poll) -> None:
        """A poll of the local haproxy (--lan-haproxy): to the consoles that follow."""
        self._last_poll = _line({"ok": True, "haproxy": poll_to_json(poll)})
        if self._queues:
            offer(self._queues, self._last_poll)

    # -- Sink ---------------------------------------------------------------------------

    def events(self, events: Sequence[Event]) -> None:
        if not self._queues:
            return
        out: dict[str, Any] = {"ok": True, "events": [event_to_json(e) for e in events]}
        now, views = self.watch.news_views(events)
        if views:
            out["news"] = routers_to_json(now, views)
        offer(self._queues, _line(out))

    def snapshot(self, get: SnapshotGetter, stats: CaptureStats) -> None:
        if not self._queues or (self._building is not None and not self._building.done()):
            return
        now = self.watch.clock.mono_us()
        if self._last_doc is not None and now - self._last_doc < DOC_EVERY_S * 1e6 - TICK_S * 1e5:
            return
        self._last_doc = now
        # The history went in each subscriber's first line; the stream carries what is new.
        # The snapshot is taken now; its JSON is written a slice of routers at a time, so
        # frames are read (and news sent) in between.
        snap = replace(get(), events=())
        self._building = asyncio.ensure_future(
            self._send_document(snap, replace(stats), self.haproxy())
        )

    async def _send_document(
        self, snap: ObserverSnapshot, stats: CaptureStats, haproxy: HaproxyView | None
    ) -> None:
        parts = []
        for start in range(0, len(snap.routers), SLICE):
            rows = routers_to_json(snap.time, snap.routers[start : start + SLICE])["routers"]
            parts.append(json.dumps(rows, separators=(",", ":"))[1:-1].encode())
            await asyncio.sleep(0)
        if self._queues:
            offer(self._queues, document_line(snap, stats, haproxy, b",".join(parts)))

    # -- the socket -----------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if not allowed(peer_uid(writer.get_extra_info("socket")), os.geteuid()):
                writer.write(_line({"ok": False, "error": "permission denied"}))
            else:
                await self._answer(await reader.readline(), reader, writer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(
        self, raw: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            request = json.loads(raw)
            cmd = request.get("cmd") if isinstance(request, dict) else None
        except ValueError:
            cmd = None
        if cmd == "document":
            writer.write(_line({"ok": True, "document": self.document()}))
        elif cmd == "metrics":
            writer.write(_line({"ok": True, "metrics": self.metrics().decode()}))
        elif cmd == "subscribe":
            await self._stream(reader, writer)
        else:
            writer.write(_line({"ok": False, "error": f"expected one of {', '.join(COMMANDS)}"}))

    async def _stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[bytes] = asyncio.Queue(_QUEUE)
        # The first line and joining the subscribers happen in one step of the loop: no
        # event falls between the history and the stream, none comes twice.
        queue.put_nowait(_line({"ok": True, "document": self.document()}))
        queue.put_nowait(_line({"ok": True, "polls_haproxy": self.polls_haproxy}))
        if self._last_poll is not None:
            queue.put_nowait(self._last_poll)
        self._queues.add(queue)
        self._writers.add(writer)
        self.watch.read_every_s = LAN_VIEW_LIVE_READ_S
        gone = asyncio.ensure_future(reader.read())  # EOF: the console went away
        try:
            await pump(queue, gone, writer)
        finally:
            gone.cancel()
            self._queues.discard(queue)
            self._writers.discard(writer)
            if not self._queues:
                self.watch.read_every_s = LAN_VIEW_READ_S
