"""Feeds: where the console's documents come from, one per mode, all posting the same messages.

Serving and attached consoles follow two streams and capture nothing: the node's control
socket (its status, events and commands) and the host's LAN view's socket (the LAN). The
plain watch console's own capture is ui/watchfeed.py.

A feed runs as a worker on the app's event loop and posts `ObserverDoc`, `NodeDoc`,
`EventsArrived` and `FeedEnded`. Posting never waits, so the runtime never blocks on the
UI; snapshots are published at most 10 times a second and collapse in the app's queue.
Each feed opens what can fail (sockets, files, the control socket) in `open()`, before the
app starts, so a HatuiError reaches the CLI as one line.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

from textual.message import Message

from hatui.adapters.lanclient import lan_path
from hatui.adapters.sched import behind_the_node
from hatui.errors import HatuiError, RuntimeFault
from hatui.observe.report import event_to_json
from hatui.runtime.document import live_document
from hatui.types import WallUs
from hatui.ui.lanstream import LanStream
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

Json = dict[str, Any]
Post = Callable[[Message], object]
PUBLISH_S = 0.1  # snapshots at most 10 per second, as the watch runtime publishes them


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


class NodeStream:
    """A node's control socket as console messages: its status and events (the node's
    stream alone: the LAN comes from the LAN view), and commands."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._stream: AsyncIterator[dict[str, Any]] | None = None
        self._first: Json | None = None

    async def connect(self) -> Json:
        """Subscribe and read the first status, so a missing node fails before the app."""
        from hatui.adapters.control import subscribe

        self._stream = subscribe(self.path, observer=False)
        self._first = await anext(self._stream)
        return self._first

    async def run(self, post: Post, stop: asyncio.Event) -> None:
        """Post the stream's documents until `stop` is set; RuntimeFault if the node goes."""
        if self._stream is None:
            await self.connect()
        assert self._stream is not None
        stream = self._stream
        try:
            if self._first is not None:
                for msg in split_status(self._first):
                    post(msg)
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
                for msg in split_status(status):
                    post(msg)
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


def split_status(status: Json) -> list[Message]:
    """One node status of the control stream (hatui/runtime/control.py) as messages: the
    node's document and its new events. A LAN document in it ("observer": `hatui ctl
    status`, a full subscription's first line) is posted too."""
    out: list[Message] = []
    observer = status.get("observer")
    events = [e for e in status.get("events") or [] if isinstance(e, dict)]
    if isinstance(observer, dict):
        out.append(ObserverDoc(observer))
    node = status.get("node")
    if isinstance(node, dict):
        out.append(NodeDoc(node))
    elif "instances" in status:
        out.append(NodeDoc(status))
    if events:
        out.insert(0, EventsArrived(events))
    return out


async def follow(
    node: NodeStream, lan: LanStream, post: Post, stop: asyncio.Event, duration: float | None
) -> None:
    """A console's two streams: the node's (status, events; commands go there) and the
    LAN view's. Returns when `stop` is set or `duration` passes; RuntimeFault when the node
    goes (the LAN view going only says so and reconnects)."""
    node_task = asyncio.ensure_future(node.run(post, stop))
    lan_task = asyncio.ensure_future(lan.run(post, stop))
    loop = asyncio.get_running_loop()
    end = None if duration is None else loop.time() + duration
    pending = {node_task, lan_task}
    try:
        while node_task in pending and not stop.is_set():
            left = None if end is None else max(0.0, end - loop.time())
            done, pending = await asyncio.wait(
                pending, timeout=left, return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                return  # `duration` passed
            for task in done:
                if not stop.is_set():
                    task.result()  # the node's RuntimeFault when it went; a bug, as it is
    finally:
        stop.set()
        for task in (node_task, lan_task):
            if not task.done():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, 2.0)


class ServeFeed(Feed):
    """`--serve`: start the node (a child process, which starts the host's LAN view), then
    attach to it as any console does. This console captures nothing: the node panel and
    commands go over the control socket, the LAN comes from the LAN view's socket. Nothing
    the console does (a stalled terminal, a slow redraw, a modal) can delay an advert.
    Stopping the feed stops the node: SIGTERM, masters send priority 0, VIPs go.
    """

    mode = Mode.SERVE

    def __init__(
        self, child: NodeChild, control_path: str, source: str, duration: float | None = None
    ) -> None:
        super().__init__()
        self.child = child
        self.node = NodeStream(control_path)
        self.lan = LanStream(lan_path(control_path))
        self.duration = duration
        self.source = source

    def open(self) -> None:
        self.child.start()  # before the console steps back: the node keeps normal priority
        behind_the_node()

    async def run(self, post: Post) -> None:
        try:
            await follow(self.node, self.lan, post, self.stop, self.duration)
        except RuntimeFault:
            code = await self.child.stop_async()
            raise RuntimeFault(f"the node stopped (exit {code}): {self.child.failure()}") from None
        finally:
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


class AttachFeed(Feed):
    """`--attach`: a running node's console; the node outlives it. As a serving console:
    the node's stream from the control socket, the LAN from the LAN view's socket, no
    capture rights of its own. Any number may attach to one node at once."""

    mode = Mode.ATTACH

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.source = path
        self.node = NodeStream(path)
        self.lan = LanStream(lan_path(path))

    def open(self) -> None:
        behind_the_node()

    async def connect(self) -> None:
        await self.node.connect()

    async def run(self, post: Post) -> None:
        await follow(self.node, self.lan, post, self.stop, None)

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
