"""The node's handle on the host's LAN view (runtime/lanview.py): a process it starts,
starts again if it dies, asks for documents and metrics, and stops.

Every question has a deadline and an answer of None when the LAN view is not there: the
node never waits on it. This module imports no capture: the node's own capture is
runtime/nodecap.py, the LAN view's is in its own process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence

from hatui.adapters import lanclient
from hatui.adapters.sched import behind_the_node
from hatui.runtime.parent import PARENT_ENV

log = logging.getLogger(__name__)

NICE = 19  # the LAN view's, where SCHED_IDLE is refused (and ignored under it)
RESTART_S = 5.0  # a LAN view that died starts again after this
STOP_TIMEOUT_S = 2.0
# systemd speaks to the node alone: READY, WATCHDOG and STATUS are the node's word.
_SUPERVISOR_ENV = frozenset({"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"})


class LanView:
    """Starts `hatui` + `argv` (a `--lan-view PATH` process), again when it dies."""

    def __init__(self, path: str, argv: Sequence[str]) -> None:
        self.path = path
        self.argv = list(argv)  # hatui's arguments for the child, after `-m hatui`
        self.proc: asyncio.subprocess.Process | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        self._keeper = asyncio.ensure_future(self._keep())

    async def _spawn(self) -> asyncio.subprocess.Process:
        env = {k: v for k, v in os.environ.items() if k not in _SUPERVISOR_ENV}
        env[PARENT_ENV] = str(os.getpid())  # it stops when we die
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hatui", *self.argv, env=env, stdin=asyncio.subprocess.DEVNULL
        )
        # Behind the node from its start: its imports and capture set-up are the LAN
        # view's busiest second, and come before it can set this itself (modes.py).
        behind_the_node(NICE, proc.pid)
        return proc

    async def _keep(self) -> None:
        while not self._stopping:
            try:
                self.proc = await self._spawn()
            except OSError as exc:
                log.error("cannot start the LAN view: %s; the node goes on", exc)
                await asyncio.sleep(RESTART_S)
                continue
            code = await self.proc.wait()
            if self._stopping:
                return
            log.error(
                "the LAN view (pid %d) exited with %s; the node goes on, restarting it in %g s",
                self.proc.pid, code, RESTART_S,
            )  # fmt: skip
            await asyncio.sleep(RESTART_S)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.returncode is None else None

    async def document(self) -> bytes | None:
        """The LAN document as JSON bytes, or None (not running yet, or not answering)."""
        try:
            doc = await lanclient.document(self.path)
        except lanclient.LanViewGone as exc:
            log.debug("LAN view: no document: %s", exc)
            return None
        return json.dumps(doc).encode()

    def metrics(self) -> bytes | None:
        """The LAN families as Prometheus text, for a scrape: blocking, from the HTTP
        thread, never from the event loop."""
        return lanclient.metrics_text(self.path)

    async def stop(self) -> None:
        self._stopping = True
        proc = self.proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.wait({self._keeper}, timeout=1.0)
