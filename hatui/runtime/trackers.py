"""Tracked scripts, files and processes, and notify scripts, wired to a node on the loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from hatui.adapters.fifo import NotifyFifo, fifo_line
from hatui.adapters.processes import count_processes
from hatui.adapters.scripts import (
    NotifyKind,
    NotifyState,
    ScriptChecker,
    command_argv,
    notify_runs,
    read_track_file,
    run_notify,
)
from hatui.vrrp.spec import InstanceSpec, NodeSpec, SyncGroupSpec, TrackProcessSpec

log = logging.getLogger(__name__)

Track = Callable[..., None]  # node.track(kind, name, ok, value=0)
TRACK_FILE_POLL_S = 1.0
# keepalived hears process events from the kernel's proc connector, which namespaces
# refuse; a /proc pass over a few hundred processes costs a few ms, twice a second.
PROCESS_POLL_S = 0.5


class ProcessQuorum:
    """One vrrp_track_process: its quorum, and keepalived's fork/terminate delays before
    a change is believed. Times are the loop's seconds."""

    def __init__(self, spec: TrackProcessSpec) -> None:
        self.spec = spec
        self.count = 0
        self.ok: bool | None = None
        self._pending: tuple[bool, float] | None = None

    def update(self, count: int, now: float) -> bool | None:
        """The new state when it changes (at once the first time), else None."""
        self.count = count
        hi = self.spec.quorum_max
        ok = self.spec.quorum <= count and (hi is None or count <= hi)
        if self.ok is None or ok == self.ok:
            self._pending = None
            if self.ok is None:
                self.ok = ok
                return ok
            return None
        if self._pending is None or self._pending[0] != ok:
            self._pending = (ok, now)
        delay_us = self.spec.fork_delay_us if ok else self.spec.terminate_delay_us
        if now - self._pending[1] < delay_us / 1e6:
            return None
        self._pending = None
        self.ok = ok
        return ok


class Trackers:
    """Runs every vrrp_script and polls every track file the node's instances use."""

    def __init__(self, spec: NodeSpec, track: Track) -> None:
        used_scripts = {t.name for i in spec.instances for t in i.track_scripts}
        used_files = {t.name for i in spec.instances for t in i.track_files}
        self.checkers = [
            ScriptChecker(s, self._script_changed) for s in spec.scripts if s.name in used_scripts
        ]
        self.files = {f.name: f.path for f in spec.track_files if f.name in used_files}
        used_procs = {t.name for i in spec.instances for t in i.track_processes}
        self.processes = [ProcessQuorum(p) for p in spec.track_processes if p.name in used_procs]
        self.track = track
        self._proc_task: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._last: dict[str, int | None] = {}

    def _script_changed(self, name: str, ok: bool) -> None:
        """A script's rise or fall, with its last run's evidence (exit status, timeout)."""
        detail = next((c.last_result for c in self.checkers if c.spec.name == name), "")
        self.track("script", name, ok, detail=detail)

    def start(self) -> None:
        for checker in self.checkers:
            checker.start()
        if self.files:
            self._poll()
            self._task = asyncio.get_running_loop().create_task(self._poll_forever())
        if self.processes:
            loop = asyncio.get_running_loop()
            self._poll_processes(loop.time())
            self._proc_task = loop.create_task(self._processes_forever())

    def _poll_processes(self, now: float) -> None:
        counts = count_processes([q.spec for q in self.processes])
        for q in self.processes:
            changed = q.update(counts[q.spec.name], now)
            if changed is not None:
                log.info(
                    "vrrp_track_process %s: %d running, now %s",
                    q.spec.name,
                    q.count,
                    "OK" if changed else "failing",
                )
                self.track("process", q.spec.name, changed, detail=f"{q.count} running")

    async def _processes_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(PROCESS_POLL_S)
            self._poll_processes(loop.time())

    def _poll(self) -> None:
        for name, path in self.files.items():
            value = read_track_file(path)
            if name in self._last and self._last[name] == value:
                continue
            self._last[name] = value
            detail = "" if value is not None else f"{path} unreadable"
            self.track("file", name, value is not None, value or 0, detail=detail)

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(TRACK_FILE_POLL_S)
            self._poll()

    async def stop(self) -> None:
        for checker in self.checkers:
            await checker.stop()
        for task in (self._task, self._proc_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


class Notifier:
    """Runs an instance's notify scripts with keepalived's arguments, and writes every
    state change and event to the notify FIFOs (opened at the first one)."""

    def __init__(self, spec: NodeSpec, timeout_s: float = 30.0) -> None:
        self.timeout_s = timeout_s
        self.tasks: list[asyncio.Task[int | None]] = []
        self.fifos = [NotifyFifo(f) for f in spec.notify_fifos]
        self._opened = False

    def __call__(self, ispec: InstanceSpec | SyncGroupSpec, state: str, priority: int) -> None:
        """An instance's scripts (TYPE INSTANCE), or a vrrp_sync_group's (TYPE GROUP)."""
        kind: NotifyKind = "GROUP" if isinstance(ispec, SyncGroupSpec) else "INSTANCE"
        self._fifo_line(kind, ispec.name, state, priority)
        states: dict[str, NotifyState] = {s: s for s in ("MASTER", "BACKUP", "FAULT", "STOP")}
        if state == "MASTER_RX_LOWER_PRI" and isinstance(ispec, InstanceSpec):
            # keepalived send_event_notify: the script as written, no arguments added.
            script = ispec.notify.master_rx_lower_pri
            if script:
                who = ispec.notify.user_of("master_rx_lower_pri")
                self.tasks.append(run_notify(command_argv(script), self.timeout_s, who))
            return
        if state not in states:
            return  # MASTER_PRIORITY / BACKUP_PRIORITY: FIFO lines only
        runs = notify_runs(
            ispec.notify, kind=kind, name=ispec.name, state=states[state], priority=priority
        )
        for argv, run_as in runs:
            log.info("%s: notify %s", ispec.name, argv[0])
            self.tasks.append(run_notify(argv, self.timeout_s, run_as))
        self.tasks = [t for t in self.tasks if not t.done()]

    def _fifo_line(self, kind: str, name: str, state: str, priority: int) -> None:
        if not self.fifos:
            return
        if not self._opened:
            self._opened = True
            for fifo in self.fifos:
                fifo.open()
        line = fifo_line(kind, name, state, priority)
        for fifo in self.fifos:
            fifo.write(line)

    async def drain(self, timeout_s: float = 5.0) -> None:
        """Let notify_stop scripts finish (bounded) before the process exits, then close
        the FIFOs (the STOP lines are written by then) and stop their readers."""
        pending = [t for t in self.tasks if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)
        for fifo in self.fifos:
            fifo.close()
