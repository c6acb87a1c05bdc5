"""Serve mode: the embedded VRRP node on asyncio, and its LAN view in another process.

Start-up order matters for safety: load and check the config, check permissions and
interfaces, open every socket, remove VIPs a crashed hatui left behind, then start. Stop
order is the reverse, and runs on SIGTERM, SIGINT, SIGHUP and on any exception: masters
send priority 0, VIPs go, notify_stop runs, sockets close.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import selectors
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hatui.adapters.lanclient import lan_path
from hatui.adapters.netlink import (
    LinkWatch,
)
from hatui.clock import SystemClock
from hatui.errors import RuntimeFault
from hatui.runtime.control import NodeControl
from hatui.runtime.daemon import Supervision
from hatui.runtime.lanproc import LanView
from hatui.runtime.node import Node, NodeEvent
from hatui.runtime.nodecap import NodeCapture
from hatui.runtime.nodeio import RealNodeIO
from hatui.runtime.nodespec import preflight
from hatui.runtime.pacing import Handle
from hatui.runtime.trackers import Notifier, Trackers
from hatui.types import MonoUs
from hatui.vrrp.spec import NodeSpec

if TYPE_CHECKING:
    from hatui.runtime.metrics import Exporter

log = logging.getLogger(__name__)

SWITCH_INTERVAL_S = 0.001
DROPS_EVERY_S = 1.0  # how often the node's capture asks the kernel for its drops
LAST_WORD_S = 0.15  # a LAN view hears the shutdown's adverts within a tick (0.1 s)


def precise_event_loop() -> asyncio.AbstractEventLoop:
    """An event loop whose timers wake within tens of microseconds.

    The default loop's epoll rounds every timeout up to a whole millisecond: each
    advert and Master_Down would fire up to a millisecond late, and the Adver_Timer,
    re-armed from when it fired, would drift by as much. select() takes a microsecond timeout;
    a node watches a handful of descriptors, far below its FD_SETSIZE limit.
    """
    return asyncio.SelectorEventLoop(selectors.SelectSelector())


class AsyncioScheduler:
    """`call_at` on the event loop; its clock is time.monotonic, as SystemClock.mono_us."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def call_at(self, at: MonoUs, fn: Callable[[], None]) -> Handle:
        # One microsecond late rather than early: the router fires timers due at `now`.
        return self.loop.call_at(at / 1e6 + 1e-6, fn)


def apply_scheduling(spec: NodeSpec) -> list[str]:
    """keepalived's vrrp_priority (nice) and vrrp_rt_priority (SCHED_RR): timers that hold
    on a busy machine. A refusal is a warning, not a reason to stay down."""
    notes = []
    if spec.nice is not None:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, spec.nice)
        except OSError as exc:
            notes.append(f"cannot set nice {spec.nice}: {exc.strerror}")
    if spec.rt_priority is not None:
        try:
            os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(spec.rt_priority))
        except OSError as exc:
            notes.append(f"cannot set SCHED_RR priority {spec.rt_priority}: {exc.strerror}")
    return notes


@dataclass
class Serve:
    """A running node: the Node, its I/O and capture, its LAN view, link watches, trackers.

    `lan_flags` (hatui's output flags, e.g. ["--json"]) starts the host's LAN view, a
    process that logs the LAN's events beside the node's, answers for its document and
    metrics, and streams the LAN to every console; None runs the node alone (tests)."""

    spec: NodeSpec
    control_path: str | None = None
    lan_flags: list[str] | None = None
    node_listeners: list[Callable[[NodeEvent], None]] = field(default_factory=list)
    clock: SystemClock = field(default_factory=SystemClock)
    node: Node | None = None
    capture: NodeCapture | None = None
    lan: LanView | None = None
    document_at_stop: bool = False  # --json: the LAN view's document, kept in `document`
    document: bytes | None = None
    io: RealNodeIO | None = None
    notifier: Notifier | None = None
    trackers: Trackers | None = None
    supervision: Supervision | None = None  # systemd notify / a console's child: headless
    loader: Callable[[], NodeSpec] | None = None  # re-reads the config: reload (SIGHUP, ctl)
    control: NodeControl | None = None
    metrics_listen: str | None = None  # --metrics [ADDR:]PORT
    metrics: Exporter | None = None
    _links: list[LinkWatch] = field(default_factory=list)
    _reloading: asyncio.Lock = field(default_factory=asyncio.Lock)

    def open(self, loop: asyncio.AbstractEventLoop) -> None:
        warnings = preflight(self.spec)
        interfaces = sorted({i.interface for i in self.spec.instances})
        if self.lan_flags is not None and self.control_path:
            path = lan_path(self.control_path)
            argv = ["--lan-view", path, "--headless", *self.lan_flags]
            self.lan = LanView(path, argv + [f"--watch={i}" for i in interfaces])
        for warning in warnings + apply_scheduling(self.spec):
            log.warning("%s", warning)
        if self.metrics_listen:  # bound before any VIP is touched
            from hatui.runtime.metrics import bind

            self.metrics = bind(self.metrics_listen)
        self.notifier = Notifier(self.spec)
        self.io = RealNodeIO(self.spec, notifier=self.notifier)
        for vip in self.io.remove_leftovers():
            log.warning("removed leftover VIP %s from an earlier hatui", vip)
        self.io.start_static()  # keepalived static_ipaddress/routes/rules
        primary = {i.name: self.io.primary_ip(i) for i in self.spec.instances}
        self.node = Node(self.spec, self.io, self.clock, AsyncioScheduler(loop), primary)
        self.node.listeners.extend(self.node_listeners)
        self.capture = NodeCapture(self.spec.instances, self.node.on_frame)
        self.capture.open()
        tracked = {t.name for i in self.spec.instances for t in i.track_interfaces}
        for name in sorted(set(interfaces) | tracked):
            self._links.append(LinkWatch(name))
        if self.metrics is not None:
            lan_text = self.lan.metrics if self.lan is not None else None
            self.metrics.attach(loop, watch=None, node=self.node, lan_text=lan_text)

    async def run(self, stop: asyncio.Event, duration_s: float | None = None) -> None:
        loop = asyncio.get_running_loop()
        if self.node is None:
            self.open(loop)
        assert self.node is not None and self.capture is not None
        node, capture = self.node, self.capture
        if self.lan is not None:
            # Its own process, started now (SCHED_IDLE: it runs on spare time only), while
            # the node is not yet advertising: the start's fork never sits between adverts.
            await self.lan.start()
        for lw in self._links:
            if not lw.up:
                node.link(lw.interface, False)
            loop.add_reader(lw.fileno(), self._on_link, lw)
        # Work in threads (a reload's parse, haproxy polls, metrics scrapes) holds the GIL
        # for up to the switch interval at a time, 5 ms by default: hand it back to the
        # loop's timers every millisecond.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        started = asyncio.Event()
        node.start(started.set)
        await started.wait()  # every instance started (within ~32 ms): then READY
        # Start-up's objects (config, routers, sockets) will live as long as the node: out
        # of the collector's sight, a full collection in the middle of 255 adverts is short.
        gc.freeze()
        self.trackers = Trackers(self.spec, node.track)
        self.trackers.start()
        server = None
        if self.control_path:
            server = NodeControl(node, self.lan, self.clock, self.control_path)
            server.on_reload = self.reload
            await server.start()
            self.control = server
        if self.supervision is not None:
            node.listeners.append(self.supervision.on_node_event)
            self.supervision.states = node.states()
            self.supervision.ready(loop)
        # An exception in a loop callback (timer, frame, link) is only logged by asyncio:
        # the node would go on holding its VIPs with its timer gone, silent, while a peer
        # takes over. Fail safe instead: stop cleanly (priority 0, VIPs removed), exit 1.
        failures: list[BaseException] = []
        previous_handler = loop.get_exception_handler()

        def on_loop_error(lp: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            lp.default_exception_handler(context)
            exc = context.get("exception")
            failures.append(exc if exc is not None else RuntimeFault(str(context.get("message"))))
            stop.set()

        loop.set_exception_handler(on_loop_error)
        capture.start(loop)
        try:
            await self._until(stop, duration_s)
        finally:
            capture.stop(loop)
            # Whatever ended the run (signal, duration, exception): leave nothing behind.
            if self.supervision is not None:
                self.supervision.stopping()
            await self.trackers.stop()
            try:
                node.shutdown()
            finally:
                # Last resort if shutdown itself failed part-way: no hatui-marked VIP stays.
                if self.io is not None:
                    with contextlib.suppress(Exception):
                        for vip in self.io.remove_leftovers():
                            log.error("removed VIP %s that shutdown left behind", vip)
            if self.notifier is not None:
                await self.notifier.drain()
            if server is not None:
                await server.stop()
            if self.lan is not None:
                if self.document_at_stop:
                    # After the shutdown's adverts (priority 0): the LAN view's last word.
                    await asyncio.sleep(LAST_WORD_S)
                    self.document = await self.lan.document()
                await self.lan.stop()
            self.close(loop)
            loop.set_exception_handler(previous_handler)
        if failures:
            raise RuntimeFault(f"stopped after an internal error: {failures[0]!r}") from failures[0]

    async def _until(self, stop: asyncio.Event, duration_s: float | None) -> None:
        """Until `stop` is set or `duration_s` passes; the kernel's drops meanwhile."""
        assert self.capture is not None and self.node is not None
        loop = asyncio.get_running_loop()
        end = None if duration_s is None else loop.time() + duration_s
        while not stop.is_set():
            wait = DROPS_EVERY_S if end is None else min(DROPS_EVERY_S, end - loop.time())
            if wait <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
            dropped = self.capture.check_drops()
            if dropped:
                self.node.counters["kernel_drops"] += dropped
            # What the kernel filter let through: the node's VRIDs, never the LAN's others.
            self.node.counters["frames_read"] = self.capture.read

    async def reload(self) -> list[str]:
        """Re-read the config and apply it without a flap (Node.reload). A config error
        (ConfigError, FILE:LINE) or a change that needs a restart raises, and the running
        config stays. The file is parsed in a thread: 255 instances take ~0.2 s of CPU that
        must not sit between two adverts."""
        if self.loader is None or self.node is None or self.capture is None:
            log.error("reload failed, the running config stays: no config file (-c) to re-read")
            raise RuntimeFault("this node runs from flags: there is no config file to reload")
        async with self._reloading:
            if self.supervision is not None:
                self.supervision.reloading()
            try:
                changes = await self._reload(self.loader)
            except Exception as exc:
                log.error("reload failed, the running config stays: %s", exc)
                if self.supervision is not None:
                    self.supervision.reloaded(None, str(exc))
                raise
            if self.supervision is not None:
                self.supervision.reloaded(self.node.states())
            for line in changes or ["no change"]:
                log.warning("reload: %s", line)
            return changes

    async def _reload(self, loader: Callable[[], NodeSpec]) -> list[str]:
        assert self.node is not None and self.capture is not None
        spec = await asyncio.to_thread(loader)
        missing = sorted({i.interface for i in spec.instances} - set(self.capture.interfaces))
        watched = {lw.interface for lw in self._links}
        missing += sorted(
            {t.name for i in spec.instances for t in i.track_interfaces} - watched - set(missing)
        )
        if missing:
            raise RuntimeFault(
                f"reload cannot add interface {', '.join(missing)}: restart hatui for that"
            )
        changes = self.node.reload(spec)
        self.capture.retune(spec.instances)  # the kernel filter follows the new VRIDs
        old, self.spec = self.spec, spec
        if self.trackers is not None and _tracking(old) != _tracking(spec):
            await self.trackers.stop()
            self.trackers = Trackers(spec, self.node.track)
            self.trackers.start()
            changes.append("trackers restarted: vrrp_script, track_file or track_process changed")
        if self.control is not None:
            self.control.specs = {i.name: i for i in spec.instances}
        return changes

    def _on_link(self, lw: LinkWatch) -> None:
        up = lw.read()
        if up is not None and self.node is not None:
            log.warning("link %s is %s", lw.interface, "up" if up else "down")
            self.node.link(lw.interface, up)

    def close(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        for lw in self._links:
            if loop is not None:
                with contextlib.suppress(Exception):
                    loop.remove_reader(lw.fileno())
            lw.close()
        self._links.clear()
        if self.capture is not None:
            self.capture.close()
        if self.io is not None:
            self.io.close()
        if self.metrics is not None:
            self.metrics.stop()
            self.metrics = None


def _tracking(spec: NodeSpec) -> tuple[object, ...]:
    """What the Trackers runtime is built from: scripts, files, processes and their users."""
    used = frozenset(
        (kind, t.name)
        for i in spec.instances
        for kind, refs in (("script", i.track_scripts), ("file", i.track_files),
                           ("process", i.track_processes))
        for t in refs
    )  # fmt: skip
    return (spec.scripts, spec.track_files, spec.track_processes, used)
