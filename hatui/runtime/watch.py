"""The live watch runtime: capture sockets -> codec -> observer -> sinks, on asyncio.

Read-only by construction: this module reaches only the capture adapter (import-linter
forbids transmit and netlink here). A serving node runs one in its LAN-view process
(runtime/lanview.py); the node itself reads its own adverts through runtime/nodecap.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hatui.adapters.capture import CaptureSocket
from hatui.clock import Clock
from hatui.codec.decode import decode
from hatui.codec.frames import Protocol as Fhrp
from hatui.observe.events import Event
from hatui.observe.model import ObserverSnapshot, RouterView
from hatui.observe.observer import Observer
from hatui.types import WallUs

log = logging.getLogger(__name__)

TICK_S = 0.1  # stale / split-brain checks and snapshot publishing, at most 10 per second
READ_BATCH = 512  # frames per read for a watcher: fewer wake-ups under load
# A serving node's LAN view reads what queued this often instead of waking per frame: its
# node's own adverts then wake it 20 times a second, not once each. Frames keep their
# kernel stamps, so the model's times are the wire's.
LAN_VIEW_READ_S = 0.05
# ... and this often while consoles follow it: their news waits for no batch.
LAN_VIEW_LIVE_READ_S = 0.002
EARLY_US = 20_000  # a frame that made news publishes a snapshot before the tick, this often


class Sink(Protocol):
    """Where the runtime publishes: headless printers, JSON writers, the UI."""

    def events(self, events: Sequence[Event]) -> None: ...
    def snapshot(self, get: SnapshotGetter, stats: CaptureStats) -> None:
        """A tick passed. `get()` builds the snapshot (memoised): a sink that does not
        draw never pays for it, which matters with 255 routers at 10 ticks a second."""
        ...


@dataclass(slots=True)
class CaptureStats:
    """Capture-side counters the observer cannot know: kernel drops, frames read."""

    read: int = 0
    kernel_drops: int = 0
    outgoing: int = 0
    undecoded: int = 0
    observer_errors: int = 0
    interfaces: tuple[str, ...] = ()


SnapshotGetter = Callable[[], ObserverSnapshot]


@dataclass
class Watch:
    """Feeds one observer from live capture on one or more interfaces."""

    interfaces: Sequence[str]
    observer: Observer
    clock: Clock
    sinks: list[Sink] = field(default_factory=list)
    stats: CaptureStats = field(default_factory=CaptureStats)
    _captures: list[CaptureSocket] = field(default_factory=list)
    _last_snapshot: int = 0
    # None: as frames arrive; else what queued, this often (a LAN view changes it while it
    # runs: fast while consoles follow it)
    read_every_s: float | None = None

    def open(self) -> None:
        """Open every capture socket first, so a missing interface fails before anything runs."""
        try:
            for name in self.interfaces:
                self._captures.append(CaptureSocket(name))
        except Exception:
            self.close()
            raise
        self.stats.interfaces = tuple(self.interfaces)

    def close(self) -> None:
        for cap in self._captures:
            cap.close()
        self._captures.clear()

    def _on_readable(self, cap: CaptureSocket) -> int:
        """Read and feed one batch; returns how many frames it read."""
        count = 0
        events: list[Event] = []
        interface = cap.interface
        feed = self.observer.feed_frame
        stats = self.stats
        for at, data, outgoing in cap.read_batch(READ_BATCH):
            count += 1
            stats.read += 1
            frame = decode(data)
            if frame is None:
                stats.undecoded += 1
                continue
            if outgoing:
                stats.outgoing += 1
            try:
                events.extend(feed(at, interface, frame))
            except Exception:
                # A bug in the watcher must never take the node (or the capture) down.
                stats.observer_errors += 1
                if stats.observer_errors == 1:
                    log.exception(
                        "observer failed on a frame from %s; counting, going on", interface
                    )
        if events:
            self._publish_events(events)
            # News shows at once rather than at the next tick, at most every EARLY_US.
            if self.clock.mono_us() - self._last_snapshot >= EARLY_US:
                self._publish_snapshot()
        return count

    def _publish_events(self, events: Sequence[Event]) -> None:
        for sink in self.sinks:
            sink.events(events)

    def news_views(self, events: Sequence[Event]) -> tuple[WallUs, tuple[RouterView, ...]]:
        """The VRRP routers these events are about, as of now: a console shows news with
        them at once, for the cost of these routers alone, before a snapshot of all."""
        keys = [
            (e.interface, e.family, e.vrid)
            for e in events
            if e.protocol is Fhrp.VRRP
            and e.interface is not None
            and e.family is not None
            and e.vrid is not None
        ]
        now = self.clock.wall_us()
        return now, self.observer.router_views(now, keys) if keys else ()

    def tick(self) -> None:
        """Advance the observer's clock and publish a snapshot."""
        now = self.clock.wall_us()
        events = self.observer.tick(now)
        if events:
            self._publish_events(events)
        for cap in self._captures:
            _packets, drops = cap.statistics()
            self.stats.kernel_drops += drops
        self._publish_snapshot()

    def _publish_snapshot(self) -> None:
        """Offer sinks a lazily built snapshot (built once, only if one draws it)."""
        self._last_snapshot = self.clock.mono_us()
        built: list[ObserverSnapshot] = []

        def get() -> ObserverSnapshot:
            if not built:
                built.append(self.observer.snapshot(self.clock.wall_us()))
            return built[0]

        for sink in self.sinks:
            sink.snapshot(get, self.stats)

    async def run(self, stop: asyncio.Event, duration_s: float | None = None) -> None:
        """Capture until `stop` is set or `duration_s` passes."""
        if not self._captures:
            self.open()
        loop = asyncio.get_running_loop()
        every = self.read_every_s
        pump: asyncio.Handle | None = None
        if every is None:
            for cap in self._captures:
                loop.add_reader(cap.fileno(), self._on_readable, cap)
        else:

            def read_queued() -> None:
                nonlocal pump
                full = [self._on_readable(cap) == READ_BATCH for cap in self._captures]
                # A full batch: more is queued, read on at once (ticks and requests
                # still take their turns between batches).
                pump = (
                    loop.call_soon(read_queued)
                    if any(full)
                    else loop.call_later(self.read_every_s or every, read_queued)
                )

            pump = loop.call_later(every, read_queued)
        start = self.clock.mono_us()
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), TICK_S)
                self.tick()
                if duration_s is not None and self.clock.mono_us() - start >= duration_s * 1e6:
                    break
        finally:
            if pump is not None:
                pump.cancel()
            for cap in self._captures:
                if every is None:
                    loop.remove_reader(cap.fileno())
                self._on_readable(cap)  # what is already queued still counts
            self.tick()
