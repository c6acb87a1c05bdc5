"""The node's control socket: `hatui ctl` commands and the node's status stream.

The stream carries the node alone: its status and its events. Consoles follow the LAN on
the LAN view's own socket (runtime/lanview.py), so the node relays no LAN document; only
`status` (and a full subscription's first line) asks the LAN view for one. The status is
built a few rows at a time between the node's own timers, so that a client of 255
instances never delays an advert by more than a slice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from hatui.adapters.control import ControlServer, operator_command
from hatui.clock import Clock
from hatui.errors import HatuiError
from hatui.runtime.lanproc import LanView
from hatui.runtime.node import Node, NodeEvent
from hatui.runtime.status import node_event_to_json, node_status_to_json, router_to_json
from hatui.vrrp.spec import InstanceSpec

log = logging.getLogger(__name__)

NODE_REFRESH_S = 0.5  # the node-only stream's steady pace: countdowns at 0.1 s resolution
NODE_NEWS_S = 0.05  # how soon a node event (transition, command) follows the last line
SLICE_US = 150  # building rows yields to the node's timers this often
EVENT_BACKLOG = 500


class NodeControl:
    """Answers control requests for a running node, and publishes to subscribers; it
    listens to the node's events. `lan` is the node's LAN view, when it runs one."""

    def __init__(self, node: Node, lan: LanView | None, clock: Clock, path: str) -> None:
        self.node = node
        self.lan = lan
        self.clock = clock
        self.specs: dict[str, InstanceSpec] = {i.name: i for i in node.spec.instances}
        self.server = ControlServer(path, self)
        self._node_pending: list[dict[str, object]] = []
        self._news = asyncio.Event()
        self._publishers: list[asyncio.Task[None]] = []
        self._closing = False
        self.on_reload: Callable[[], Awaitable[list[str]]] | None = None

    async def start(self) -> None:
        await self.server.start()
        self.node.listeners.append(self.on_node_event)
        self._publishers = [asyncio.ensure_future(self._publish_node_loop())]

    async def stop(self) -> None:
        if self._publishers:
            # A flag as well as cancel(): Python 3.11's wait_for can swallow a
            # cancellation that races with the event it waits on (a shutdown's transitions).
            self._closing = True
            for task in self._publishers:
                task.cancel()
            await asyncio.wait(set(self._publishers), timeout=1.0)
        await self.server.close()

    # -- ControlHandler -------------------------------------------------------------

    async def status(self) -> dict[str, Any]:
        """The node's status plus the LAN view's document (with its counters: frames
        rejected by reason), fresh for `hatui ctl status` and a new subscriber."""
        out: dict[str, Any] = node_status_to_json(self.node.status(), self.specs)
        doc = await self.lan.document() if self.lan is not None else None
        if doc is not None:
            out["observer"] = json.loads(doc)
        return out

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

    # -- node listener --------------------------------------------------------------

    def on_node_event(self, ev: NodeEvent) -> None:
        if self.server.node_subscribers or self.server.subscribers:
            self._node_pending.append(node_event_to_json(ev))
            del self._node_pending[:-EVENT_BACKLOG]
            self._news.set()

    # -- the streams ------------------------------------------------------------------

    async def _publish_node_loop(self) -> None:
        server = self.server
        loop = asyncio.get_running_loop()
        last = 0.0
        while not self._closing:
            if not (server.node_subscribers or server.subscribers):
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
        """The node's status with its new events, as JSON."""
        body = await self._node_body()
        events, self._node_pending = self._node_pending, []
        return b"{" + body + b',"events":' + json.dumps(events).encode() + b"}"

    async def _node_body(self) -> bytes:
        """`"instances":[...],"counters":{...}`, built in slices of SLICE_US: a timer due
        meanwhile waits for one slice at most, not for the whole status."""
        rows: list[str] = []
        clock = self.clock
        now = clock.mono_us()
        turn = now + SLICE_US
        for name in self.node.instance_names():
            status = self.node.router(name).status(now)
            history = self.node.history(name)
            rows.append(json.dumps(router_to_json(status, self.specs[name], now, history)))
            now = clock.mono_us()
            if now >= turn:
                await asyncio.sleep(0)  # the node's timers run between slices
                now = clock.mono_us()
                turn = now + SLICE_US
        counters = json.dumps(dict(sorted(self.node.counters.items())))
        return f'"instances":[{",".join(rows)}],"counters":{counters}'.encode()
