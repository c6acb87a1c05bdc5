"""The node's control socket: `hatui ctl` commands and the stream `hatui --attach` renders."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hatui.adapters.control import ControlServer, operator_command
from hatui.observe.events import Event
from hatui.observe.model import ObserverSnapshot
from hatui.observe.report import event_to_json, snapshot_to_json
from hatui.runtime.node import NodeEvent
from hatui.runtime.status import node_event_to_json, node_status_to_json
from hatui.runtime.watch import CaptureStats, SnapshotGetter

if TYPE_CHECKING:
    from hatui.runtime.serve import Serve

log = logging.getLogger(__name__)


class NodeControl:
    """Answers control requests from a running Serve, and publishes to subscribers.

    It is also a watch Sink (observer snapshots, events) and a node listener, so one
    stream carries what a local console shows: {"observer", "node", "events"}.
    """

    def __init__(self, serve: Serve, path: str) -> None:
        self.serve = serve
        self.server = ControlServer(path, self)
        self._pending: list[dict[str, object]] = []
        self._observer: dict[str, object] | None = None

    async def start(self) -> None:
        await self.server.start()
        assert self.serve.watch is not None and self.serve.node is not None
        self.serve.watch.sinks.append(self)
        self.serve.node.listeners.append(self.on_node_event)

    async def stop(self) -> None:
        await self.server.close()

    # -- ControlHandler -------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The node's status plus the watcher's document (with its counters: frames
        rejected by reason), fresh for `hatui ctl status` and a new subscriber."""
        watch = self.serve.watch
        if watch is not None:
            snap = watch.observer.snapshot(watch.clock.wall_us())
            self._observer = self._document(snap, watch.stats)
        return self._status()

    def _status(self) -> dict[str, Any]:
        node = self.serve.node
        assert node is not None
        specs = {i.name: i for i in self.serve.spec.instances}
        out: dict[str, Any] = node_status_to_json(node.status(), specs)
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

    def command(self, cmd: str, instance: str, value: str | None) -> dict[str, Any]:
        node = self.serve.node
        assert node is not None
        if instance not in node.instance_names():
            raise ValueError(
                f"no instance named {instance!r} (have: {', '.join(node.instance_names())})"
            )
        node.command(instance, operator_command(cmd, value))
        return {}

    # -- Sink and node listener -----------------------------------------------------

    def events(self, events: Sequence[Event]) -> None:
        if self.server.subscribers:
            self._pending += [event_to_json(e) for e in events]

    def on_node_event(self, ev: NodeEvent) -> None:
        if self.server.subscribers:
            self._pending.append(node_event_to_json(ev))

    def snapshot(self, get: SnapshotGetter, stats: CaptureStats) -> None:
        if not self.server.subscribers:
            return
        doc = self._document(get(), stats)
        # A new subscriber's first message (status()) carries the full event history;
        # the stream then carries only what is new, not 2000 events ten times a second.
        self._observer = doc
        status = self._status()
        status["observer"] = {**doc, "events": []}
        status["events"], self._pending = self._pending[-500:], []
        self.server.publish(status)
