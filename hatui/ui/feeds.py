"""Feeds: where the console's documents come from, one per mode, all posting the same messages.

A feed runs as a worker on the app's event loop and posts `ObserverDoc`, `NodeDoc`,
`EventsArrived` and `FeedEnded`. Posting never waits, so the runtime never blocks on the
UI; snapshots are published at most 10 times a second and collapse in the app's queue.
Each feed opens what can fail (sockets, files, the control socket) in `open()`, before the
app starts, so a HatuiError reaches the CLI as one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual.message import Message

from hatui.errors import HatuiError, RuntimeFault
from hatui.observe.events import Event
from hatui.observe.model import RouterView
from hatui.observe.report import event_to_json, routers_to_json
from hatui.runtime.document import live_document
from hatui.types import WallUs
from hatui.ui.messages import EventsArrived, FeedEnded, NodeDoc, ObserverDoc
from hatui.ui.model import Mode
from hatui.vrrp.inputs import (
    AdjustPriority,
    OperatorCommand,
    Pause,
    Release,
    Resume,
    SendGarp,
    SetPriority,
)

if TYPE_CHECKING:
    from hatui.observe.observer import Observer
    from hatui.runtime.child import NodeChild
    from hatui.runtime.metrics import Exporter
    from hatui.runtime.watch import CaptureStats, SnapshotGetter, Watch

Json = dict[str, Any]
Post = Callable[[Message], object]
PUBLISH_S = 0.1  # snapshots at most 10 per second, as the watch runtime publishes them
CONSOLE_NICE = 10  # the serving console's niceness above its node's


class Feed(ABC):
    """One source of documents for the console, and (serve, attach) a way to steer it."""

    mode: Mode
    source: str  # what the header names: interfaces, a file, a socket

    def __init__(self) -> None:
        self.stop = asyncio.Event()

    def open(self) -> None:  # noqa: B027 - most feeds have nothing to open
        """Open what can fail, before the app starts; raises HatuiError."""

    @abstractmethod
    async def run(self, post: Post) -> None:
        """Post documents until `stop` is set or the source ends."""

    async def command(self, instance: str, command: OperatorCommand) -> str:
        """Submit an operator command; returns a short confirmation, raises HatuiError."""
        raise HatuiError(f"{self.mode} mode is read-only")

    def close(self) -> None:  # noqa: B027 - most feeds hold nothing once the app is gone
        """Release what `open()` took, after the app has exited (also after errors)."""

    def before_exit(self, deadline: float) -> bool:
        """The process is about to leave without its normal shutdown (hatui/ui/exitguard.py):
        do, from any thread and until `deadline` (monotonic), only what must not be skipped.
        True once done. What the kernel releases on exit (sockets, files) is left to it."""
        return True


class UiSink:
    """A watch-runtime Sink that turns snapshots and events into console messages.

    With `news` (`Watch.news_views`), events carry a builder of the partial document of
    the routers they are about: the console shows them without waiting for a snapshot."""

    def __init__(
        self,
        post: Post,
        on_snapshot: Callable[[], None] | None = None,
        *,
        news: Callable[[Sequence[Event]], tuple[WallUs, tuple[RouterView, ...]]] | None = None,
    ) -> None:
        self.post = post
        self.on_snapshot = on_snapshot
        self.news = news

    def events(self, events: Sequence[Event]) -> None:
        docs = [event_to_json(e) for e in events]
        news = self.news
        if news is None:
            self.post(EventsArrived(docs))
            return
        held = tuple(events)  # built when the console draws the news, from the model then
        self.post(EventsArrived(docs, lambda: routers_to_json(*news(held))))

    def snapshot(self, get: SnapshotGetter, stats: CaptureStats) -> None:
        frozen = replace(stats)  # the counters as they are now, for a document built later
        # Neither the snapshot nor its document is built unless the console draws it.
        self.post(ObserverDoc(lambda: live_document(get(), frozen, events=False)))
        if self.on_snapshot is not None:
            self.on_snapshot()


class LiveWatchFeed(Feed):
    """`--watch IFACE`: live capture, read-only."""

    mode = Mode.WATCH

    def __init__(
        self, watch: Watch, duration: float | None = None, *, metrics: str | None = None
    ) -> None:
        super().__init__()
        self.watch = watch
        self.duration = duration
        self.source = ", ".join(watch.interfaces)
        self.metrics_listen = metrics
        self.exporter: Exporter | None = None

    def open(self) -> None:
        if self.metrics_listen:
            from hatui.runtime.metrics import Exporter

            self.exporter = Exporter(self.metrics_listen)
            self.exporter.start()
        try:
            self.watch.open()
        except BaseException:
            self.close()
            raise

    async def run(self, post: Post) -> None:
        self.watch.sinks.append(UiSink(post, news=self.watch.news_views))
        if self.exporter is not None:
            self.exporter.attach(asyncio.get_running_loop(), watch=self.watch, node=None)
        try:
            await self.watch.run(self.stop, self.duration)
        finally:
            self.watch.close()

    def close(self) -> None:
        if self.exporter is not None:
            self.exporter.stop()


class ServeFeed(Feed):
    """`--serve`: the node runs as a child process and this console is its client.

    The console watches the LAN itself (read-only capture on the node's interfaces) and
    reads the node's status from its control socket, so nothing the console does (a
    stalled terminal, a slow redraw, a modal) can delay an advert. Stopping the feed stops
    the node: SIGTERM, masters send priority 0, VIPs go.
    """

    mode = Mode.SERVE

    def __init__(
        self, child: NodeChild, watch: Watch, control_path: str, duration: float | None = None
    ) -> None:
        super().__init__()
        self.child = child
        self.watch = watch
        self.node = NodeStream(control_path)
        self.duration = duration
        self.source = ", ".join(watch.interfaces)

    def open(self) -> None:
        self.watch.open()  # a missing interface fails before any node starts
        try:
            self.child.start()
        except BaseException:
            self.watch.close()
            raise
        # The console yields the CPU to its node whenever both want it (a busy console on
        # a 2-core machine beside a keepalived peer): the node's adverts come first.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, 0, os.getpriority(os.PRIO_PROCESS, 0) + CONSOLE_NICE)

    async def run(self, post: Post) -> None:
        self.watch.sinks.append(UiSink(post, news=self.watch.news_views))
        node = asyncio.ensure_future(self.node.run(post, self.stop))
        watch = asyncio.ensure_future(self.watch.run(self.stop, self.duration))
        try:
            done, _ = await asyncio.wait({node, watch}, return_when=asyncio.FIRST_COMPLETED)
            if node in done and node.exception() is not None and not self.stop.is_set():
                code = await self.child.stop_async()
                raise RuntimeFault(f"the node stopped (exit {code}): {self.child.failure()}")
        finally:
            self.stop.set()
            for task in (node, watch):
                if not task.done():
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await asyncio.wait_for(task, 2.0)
            self.watch.close()
            await self.child.stop_async()

    async def command(self, instance: str, command: OperatorCommand) -> str:
        return await self.node.command(instance, command)

    def close(self) -> None:
        self.child.stop()
        self.child.cleanup()

    def before_exit(self, deadline: float) -> bool:
        """The node stops as on `q`: masters send priority 0 and drop their VIPs."""
        stopped = self.child.stop_by(deadline)
        if stopped:
            self.child.cleanup()
        return stopped


class NodeStream:
    """A node's control socket as console messages: its status and events, and commands."""

    def __init__(self, path: str, *, observer: bool = False) -> None:
        self.path = path
        self.observer = observer
        self._stream: AsyncIterator[dict[str, Any]] | None = None
        self._first: Json | None = None

    async def connect(self) -> Json:
        """Subscribe and read the first status, so a missing node fails before the app."""
        from hatui.adapters.control import subscribe

        self._stream = subscribe(self.path, observer=self.observer)
        self._first = await anext(self._stream)
        return self._first

    async def run(self, post: Post, stop: asyncio.Event) -> None:
        """Post the stream's documents until `stop` is set; RuntimeFault if the node goes."""
        if self._stream is None:
            await self.connect()
        assert self._stream is not None
        stream = self._stream
        need_backlog = self.observer

        def deliver(status: Json) -> None:
            nonlocal need_backlog
            for msg in split_status(status, backlog=need_backlog):
                post(msg)
            need_backlog = need_backlog and not isinstance(status.get("observer"), dict)

        try:
            if self._first is not None:
                deliver(self._first)
            while not stop.is_set():
                nxt = asyncio.ensure_future(anext(stream))
                halt = asyncio.ensure_future(stop.wait())
                await asyncio.wait({nxt, halt}, return_when=asyncio.FIRST_COMPLETED)
                halt.cancel()
                if not nxt.done():
                    nxt.cancel()
                    break
                try:
                    status = nxt.result()
                except StopAsyncIteration:
                    raise RuntimeFault(f"{self.path}: the node closed the stream") from None
                deliver(status)
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()

    async def command(self, instance: str, command: OperatorCommand) -> str:
        from hatui.adapters.control import request

        reply = await request(self.path, command_request(instance, command))
        if not reply.get("ok"):
            raise HatuiError(str(reply.get("error", "refused")))
        return f"{instance}: {command_name(command)} sent"


def command_request(instance: str, command: OperatorCommand) -> Json:
    """The control-socket request for an operator command (hatui/adapters/control.py)."""
    match command:
        case SetPriority():
            return {"cmd": "priority", "instance": instance, "value": str(command.value)}
        case AdjustPriority():
            return {"cmd": "priority", "instance": instance, "value": f"{command.delta:+d}"}
        case Release():
            return {"cmd": "release", "instance": instance}
        case Pause():
            return {"cmd": "pause", "instance": instance}
        case Resume():
            return {"cmd": "resume", "instance": instance}
        case SendGarp():
            return {"cmd": "garp", "instance": instance}


def command_name(command: OperatorCommand) -> str:
    req = command_request("", command)
    return f"{req['cmd']} {req['value']}" if "value" in req else str(req["cmd"])


def split_status(status: Json, *, backlog: bool = False) -> list[Message]:
    """One control-stream status (hatui/runtime/control.py) as messages.

    The stream's objects are the node status (`{"instances": ...}`) with "observer" (the
    DESIGN.md document) and "events" (new since the last one) added. With `backlog`, the
    observer document's own event list becomes the log's history, and the observer events
    of this object, already in it, are skipped.
    """
    out: list[Message] = []
    observer = status.get("observer")
    events = [e for e in status.get("events") or [] if isinstance(e, dict)]
    if isinstance(observer, dict):
        if backlog:
            history = [e for e in observer.get("events") or [] if isinstance(e, dict)]
            events = history + [e for e in events if str(e.get("kind", "")).startswith("node_")]
        out.append(ObserverDoc(observer))
    node = status.get("node")
    if isinstance(node, dict):
        out.append(NodeDoc(node))
    elif "instances" in status:
        out.append(NodeDoc(status))
    if events:
        out.insert(0, EventsArrived(events))
    return out


class AttachFeed(Feed):
    """`--attach`: a headless node's control socket; the node outlives this console.

    The node's own stream carries its LAN document too (built in the node): the attach
    console needs no capture rights of its own.
    """

    mode = Mode.ATTACH

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.source = path
        self.node = NodeStream(path, observer=True)

    async def connect(self) -> None:
        await self.node.connect()

    async def run(self, post: Post) -> None:
        await self.node.run(post, self.stop)

    async def command(self, instance: str, command: OperatorCommand) -> str:
        return await self.node.command(instance, command)


class ReplayFeed(Feed):
    """`--read FILE`: the final state and full event log, or (`speed`) paced in capture time."""

    mode = Mode.READ

    def __init__(self, path: str, speed: float | None = None, vips: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.path = path
        self.vips = vips
        self.source = path
        self.speed = speed
        self._done: tuple[Json, list[Json]] | None = None

    def open(self) -> None:
        from hatui.adapters.pcap import PcapReader

        if self.speed is None:
            self._done = self._replay_all()
        else:
            PcapReader(self.path).close()  # an unreadable file fails now, as one line

    def _replay_all(self) -> tuple[Json, list[Json]]:
        from hatui.observe.observer import Observer
        from hatui.runtime.replay import replay

        events: list[Json] = []
        result = replay(
            self.path,
            observer=Observer(vips=self.vips),
            on_events=lambda evs: events.extend(map(event_to_json, evs)),
        )
        return live_document(result.snapshot, events=False), events

    async def run(self, post: Post) -> None:
        if self.speed is None:
            doc, events = self._done or self._replay_all()
            post(EventsArrived(events))
            post(ObserverDoc(doc))
            post(FeedEnded())
            return
        await self._paced(post, self.speed)

    async def _paced(self, post: Post, speed: float) -> None:
        """Feed records at their capture times (scaled by `speed`); between records the
        observer's clock runs on in capture time, so silences go stale as they did live."""
        from hatui.adapters.pcap import PcapReader, ethernet_frame
        from hatui.codec.decode import decode
        from hatui.codec.frames import Captured
        from hatui.observe.observer import Observer
        from hatui.runtime.replay import REPLAY_INTERFACE

        loop = asyncio.get_running_loop()
        obs = Observer(vips=self.vips)
        reader = PcapReader(self.path)
        start = loop.time()
        first: int | None = None
        last = 0
        pending: list[Json] = []

        def capture_now() -> int:
            assert first is not None
            return first + round((loop.time() - start) * speed * 1e6)

        try:
            for record in reader:
                if first is None:
                    first = record.time
                last = record.time
                due = start + (record.time - first) / 1e6 / speed
                while (wait := due - loop.time()) > 0:
                    self._publish(post, obs, min(capture_now(), record.time), pending)
                    await asyncio.sleep(min(PUBLISH_S, wait))
                    if self.stop.is_set():
                        return
                data = ethernet_frame(record)
                frame = decode(data) if data is not None else None
                if frame is not None:
                    item = Captured(time=record.time, interface=REPLAY_INTERFACE, frame=frame)
                    pending.extend(event_to_json(e) for e in obs.feed(item))
            # The end state is judged at the last record, as a plain replay judges it.
            self._publish(post, obs, last, pending)
        finally:
            reader.close()

    @staticmethod
    def _publish(post: Post, obs: Observer, now: int, pending: list[Json]) -> None:

        pending.extend(event_to_json(e) for e in obs.tick(WallUs(now)))
        if pending:
            post(EventsArrived(list(pending)))
            pending.clear()
        post(ObserverDoc(live_document(obs.snapshot(WallUs(now)), events=False)))


class FakeFeed(Feed):
    """Scripted documents for tests and screenshots; records the commands it is given."""

    def __init__(
        self,
        mode: Mode = Mode.WATCH,
        source: str = "eth0",
        *,
        observer: Json | None = None,
        node: Json | None = None,
        events: Sequence[Json] = (),
    ) -> None:
        super().__init__()
        self.mode = mode
        self.source = source
        self.initial: list[Message] = []
        if events:
            self.initial.append(EventsArrived(events))
        if observer is not None:
            self.initial.append(ObserverDoc(observer))
        if node is not None:
            self.initial.append(NodeDoc(node))
        self.commands: list[tuple[str, OperatorCommand]] = []
        self.post: Post | None = None

    async def run(self, post: Post) -> None:
        self.post = post
        for msg in self.initial:
            post(msg)
        await self.stop.wait()

    def push(self, msg: Message) -> None:
        assert self.post is not None, "the feed is not running yet"
        self.post(msg)

    async def command(self, instance: str, command: OperatorCommand) -> str:
        if self.mode not in (Mode.SERVE, Mode.ATTACH):
            raise HatuiError(f"{self.mode} mode is read-only")
        self.commands.append((instance, command))
        return f"{instance}: {command_name(command)} sent"
