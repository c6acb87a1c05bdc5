"""The node's control socket: `hatui ctl` commands and the streams consoles render.

Two streams. The full one ({"observer", "node", "events"}) is what `hatui ctl status` and
older clients read: the LAN document rebuilt ten times a second. The node-only one is what
the consoles read (they watch the LAN themselves, read-only): the node's status, built a
few rows at a time between the node's own timers, so that a console attached to 255
instances never delays an advert by more than a slice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from hatui.adapters.control import ControlServer, operator_command
from hatui.clock import Clock
from hatui.errors import HatuiError
from hatui.observe.events import Event
from hatui.observe.model import ObserverSnapshot
from hatui.observe.report import event_to_json, snapshot_to_json
from hatui.runtime.node import Node, NodeEvent
from hatui.runtime.status import node_event_to_json, node_status_to_json, router_to_json
from hatui.runtime.watch import CaptureStats, SnapshotGetter, Watch
from hatui.vrrp.spec import InstanceSpec

log = logging.getLogger(__name__)

NODE_REFRESH_S = 0.5  # the node-only stream's steady pace: countdowns at 0.1 s resolution
NODE_NEWS_S = 0.05  # how soon a node event (transition, command) follows the last line
SLICE = 16  # rows built per turn of the event loop: about 0.7 ms, under the advert jitter
EVENT_BACKLOG = 500


class NodeControl:
    """Answers control requests for a running node, and publishes to subscribers.

    It is also a watch Sink (observer snapshots, events) and a node listener.
    """

    def __init__(self, node: Node, watch: Watch, clock: Clock, path: str) -> None:
        self.node = node
        self.watch = watch
        self.clock = clock
        self.specs: dict[str, InstanceSpec] = {i.name: i for i in node.spec.instances}
        self.server = ControlServer(path, self)
        self._pending: list[dict[str, object]] = []
        self._node_pending: list[dict[str, object]] = []
        self._observer: dict[str, object] | None = None
        self._news = asyncio.Event()
        self._publisher: asyncio.Task[None] | None = None
        self._closing = False
        self.on_reload: Callable[[], Awaitable[list[str]]] | None = None

    async def start(self) -> None:
        await self.server.start()
        self.watch.sinks.append(self)
        self.node.listeners.append(self.on_node_event)
        self._publisher = asyncio.ensure_future(self._publish_node_loop())

    async def stop(self) -> None:
        if self._publisher is not None:
            # A flag as well as cancel(): Python 3.11's wait_for can swallow a
            # cancellation that races with the event it waits on (a shutdown's transitions).
            self._closing = True
            self._publisher.cancel()
            await asyncio.wait({self._publisher}, timeout=1.0)
        await self.server.close()

    # -- ControlHandler -------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The node's status plus the watcher's document (with its counters: frames
        rejected by reason), fresh for `hatui ctl status` and a new subscriber."""
        snap = self.watch.observer.snapshot(self.watch.clock.wall_us())
        self._observer = self._document(snap, self.watch.stats)
        return self._status()

    def _status(self) -> dict[str, Any]:
        out: dict[str, Any] = node_status_to_json(self.node.status(), self.specs)
        if self._observer is not None:
            out["observer"] = self._observer
        return out

    @staticmethod
    def _document(snap: ObserverSnapshot, stats: CaptureStats) -> dict[str, object]:
        doc = snapshot_to_json(snap)
        counters = doc.get("counters")
        if isinstance(counters, dict):
            counters["kernel_drops"] = stats.kernel_drops
            counters["observer_errors"] = stats.observer_errors
        return doc

    async def reload(self) -> dict[str, Any]:
        """`hatui ctl reload`: the changes applied; a config error raises ValueError."""
        if self.on_reload is None:
            raise ValueError("this node cannot reload")
        try:
            return {"changes": await self.on_reload()}
        except HatuiError as exc:
            raise ValueError(str(exc)) from None

    def command(self, cmd: str, instance: str, value: str | None) -> dict[str, Any]:
        names = self.node.instance_names()
        if instance not in names:
            raise ValueError(f"no instance named {instance!r} (have: {', '.join(names)})")
        self.node.command(instance, operator_command(cmd, value))
        return {}

    # -- Sink and node listener -----------------------------------------------------

    def events(self, events: Sequence[Event]) -> None:
        if self.server.subscribers:
            self._pending += [event_to_json(e) for e in events]

    def on_node_event(self, ev: NodeEvent) -> None:
        if self.server.subscribers:
            self._pending.append(node_event_to_json(ev))
        if self.server.node_subscribers:
            self._node_pending.append(node_event_to_json(ev))
            del self._node_pending[:-EVENT_BACKLOG]
            self._news.set()

    def snapshot(self, get: SnapshotGetter, stats: CaptureStats) -> None:
        if not self.server.subscribers:
            return
        doc = self._document(get(), stats)
        # A new subscriber's first message (status()) carries the full event history;
        # the stream then carries only what is new, not 2000 events ten times a second.
        self._observer = doc
        status = self._status()
        status["observer"] = {**doc, "events": []}
        status["events"], self._pending = self._pending[-EVENT_BACKLOG:], []
        self.server.publish(status)

    # -- the node-only stream ---------------------------------------------------------

    async def _publish_node_loop(self) -> None:
        server = self.server
        loop = asyncio.get_running_loop()
        last = 0.0
        while not self._closing:
            if not server.node_subscribers:
                server.node_joined.clear()
                await server.node_joined.wait()  # a new subscriber's first line: now
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._news.wait(), NODE_REFRESH_S)
                await asyncio.sleep(max(0.0, last + NODE_NEWS_S - loop.time()))
            self._news.clear()
            try:
                line = await self.node_status_json()
            except Exception:  # a status bug must not end the stream, nor the node
                log.exception("building the node status failed")
                await asyncio.sleep(NODE_REFRESH_S)
                continue
            server.publish_node(line)
            last = loop.time()

    async def node_status_json(self) -> bytes:
        """The node's status as JSON, built SLICE rows per turn of the event loop."""
        rows: list[str] = []
        names = self.node.instance_names()
        for start in range(0, len(names), SLICE):
            now = self.clock.mono_us()
            for name in names[start : start + SLICE]:
                status = self.node.router(name).status(now)
                rows.append(json.dumps(router_to_json(status, self.specs[name], now)))
            await asyncio.sleep(0)  # the node's timers run between slices
        events, self._node_pending = self._node_pending, []
        counters = json.dumps(dict(sorted(self.node.counters.items())))
        body = (
            f'{{"instances":[{",".join(rows)}],"counters":{counters},'
            f'"events":{json.dumps(events)}}}'
        )
        return body.encode()
