"""A headless node under a supervisor: systemd's notify protocol and watchdog (the console
that starts a node as its child speaks the same protocol).

READY=1 goes out once every socket is bound, leftover VIPs are gone and every instance has
started; STATUS= follows state changes (coalesced); WATCHDOG=1 is sent from the same event
loop that runs the node's timers, so a wedged loop stops the pings and systemd restarts
the node; STOPPING=1 when the node begins to shut down.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from collections.abc import Iterable

from hatui.adapters.sdnotify import SdNotify, watchdog_interval_s
from hatui.runtime.node import NodeEvent
from hatui.runtime.parent import PARENT_ENV

log = logging.getLogger(__name__)

STATUS_EVERY_S = 0.1


def status_line(states: dict[str, tuple[str, int]], limit: int = 8) -> str:
    """ "VI_1 MASTER 150, VI_2 BACKUP 100"; with many instances, counts by state first."""
    parts = [f"{name} {state} {prio}" for name, (state, prio) in states.items()]
    if len(parts) <= limit:
        return ", ".join(parts)
    counts = Counter(state for state, _ in states.values())
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    return f"{len(parts)} instances: {summary}; {', '.join(parts[:3])}, ..."


class Supervision:
    """The node's side of sd_notify: readiness, status, watchdog, stopping."""

    def __init__(self, instances: Iterable[str], notify: SdNotify | None = None) -> None:
        self.notify = notify or SdNotify()
        self.states: dict[str, tuple[str, int]] = {name: ("INIT", 0) for name in instances}
        self.watchdog_s = watchdog_interval_s() if self.notify.enabled else None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._status_due = False
        self._watchdog: asyncio.TimerHandle | None = None

    def ready(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.notify.send(READY="1", STATUS=status_line(self.states), MAINPID=str(os.getpid()))
        if os.environ.get(PARENT_ENV):
            self.notify.close()  # a console's child: the console only waits for READY
            return
        if self.watchdog_s is not None:
            self._ping()

    def on_node_event(self, ev: NodeEvent) -> None:
        """A node listener: keeps each instance's state, and refreshes STATUS= soon."""
        if ev.instance in self.states:
            self.states[ev.instance] = (ev.state, ev.priority)
        if self.notify.enabled and self._loop is not None and not self._status_due:
            self._status_due = True  # a mass failover sends one STATUS, not 255
            self._loop.call_later(STATUS_EVERY_S, self._send_status)

    def reloading(self) -> None:
        """systemd's reload handshake (Type=notify-reload): RELOADING=1 ... READY=1."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.notify.send(RELOADING="1", MONOTONIC_USEC=str(usec), STATUS="reloading")

    def reloaded(self, states: dict[str, tuple[str, int]] | None, error: str = "") -> None:
        """The instances after a reload (None: unchanged, the reload failed)."""
        if states is not None:
            self.states = dict(states)
        status = status_line(self.states)
        self.notify.send(READY="1", STATUS=f"reload failed: {error}; {status}" if error else status)

    def _send_status(self) -> None:
        self._status_due = False
        self.notify.send(STATUS=status_line(self.states))

    def _ping(self) -> None:
        assert self._loop is not None and self.watchdog_s is not None
        self.notify.send(WATCHDOG="1")
        self._watchdog = self._loop.call_later(self.watchdog_s, self._ping)

    def stopping(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        self.notify.send(STOPPING="1", STATUS="stopping: releasing masters")

    def close(self) -> None:
        self.notify.close()
