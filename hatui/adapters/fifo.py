"""keepalived's notify FIFOs: one line per state change, written without ever blocking.

As keepalived 2.2.7 (lib/notify.c fifo_open, vrrp_notify.c notify_fifo): the FIFO is made
if missing (mode 0644, owned by its user) and removed at the end only if we made it;
it is opened read-write and non-blocking, so opening never waits for a reader and a
write never waits for one either. Lines are `INSTANCE "VI_1" MASTER 150`,
`GROUP "G" BACKUP 0`, `INSTANCE "VI_1" MASTER_RX_LOWER_PRI 150` and (with
notify_priority_changes) `INSTANCE "VI_1" MASTER_PRIORITY 140`. A line is shorter than
PIPE_BUF, so the kernel writes it whole or not at all: a full FIFO (no reader) drops the
line and counts it. The optional `_script` is started with the FIFO's name as its last
argument; when the node stops it gets end of file, then SIGTERM if it is still running.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import stat
import subprocess

from hatui.vrrp.spec import FifoSpec

log = logging.getLogger(__name__)

MAX_LINE = 512  # well below PIPE_BUF (4096): one write is atomic
DRAIN_WAIT_S = 0.5  # for the reader to read the STOP lines and exit on its own
STOP_WAIT_S = 1.0


def fifo_line(kind: str, name: str, state: str, priority: int) -> bytes:
    """keepalived's line: TYPE "NAME" STATE PRIORITY and a newline."""
    return f'{kind} "{name}" {state} {priority}\n'.encode()[:MAX_LINE]


class NotifyFifo:
    """One open FIFO and its reader script; `write` never blocks, `close` cleans up."""

    def __init__(self, spec: FifoSpec) -> None:
        self.spec = spec
        self.fd: int | None = None
        self.created = False
        self.written = 0
        self.dropped = 0
        self.script: subprocess.Popen[bytes] | None = None

    def open(self) -> None:
        """Make, start the script on, and open the FIFO; a failure is logged, and the
        node goes on without it (as keepalived does)."""
        path = self.spec.path
        try:
            os.mkfifo(path, 0o644)
            self.created = True
            owner = self.spec.owner
            if owner is not None and (owner.uid, owner.gid) != (os.geteuid(), os.getegid()):
                os.chown(path, owner.uid, owner.gid)
        except FileExistsError:
            if not stat.S_ISFIFO(os.lstat(path).st_mode):
                log.warning("notify fifo %s exists and is not a FIFO: not used", path)
                return
        except OSError as exc:
            log.warning("cannot create notify fifo %s: %s", path, exc.strerror or exc)
            return
        if self.spec.script is not None:
            self._start_script()
        try:
            flags = os.O_RDWR | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
            self.fd = os.open(path, flags)
        except OSError as exc:
            log.warning("cannot open notify fifo %s: %s", path, exc.strerror or exc)
            self._unlink()

    def _start_script(self) -> None:
        assert self.spec.script is not None
        argv = [*self.spec.script, self.spec.path]
        who = self.spec.script_run_as
        if who is not None and (who.uid, who.gid) == (os.geteuid(), os.getegid()):
            who = None  # changing ids needs root; keeping ours does not
        try:
            self.script = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                user=None if who is None else who.uid,
                group=None if who is None else who.gid,
                extra_groups=None if who is None else [who.gid],
            )
        except OSError as exc:
            log.warning("cannot run notify fifo script %s: %s", argv[0], exc.strerror or exc)

    def write(self, line: bytes) -> bool:
        """Write one line now, or drop it (counted) if the FIFO is full; never blocks."""
        if self.fd is None:
            return False
        try:
            os.write(self.fd, line)
        except BlockingIOError:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                path = self.spec.path
                log.warning("notify fifo %s is full: %d lines dropped", path, self.dropped)
            return False
        except OSError as exc:
            self.dropped += 1
            log.warning("notify fifo %s: %s", self.spec.path, exc.strerror or exc)
            return False
        self.written += 1
        return True

    def close(self) -> None:
        # keepalived unlinks first, so a reader looping on open() cannot reopen it.
        self._unlink()
        if self.fd is not None:
            os.close(self.fd)  # the reader sees end of file once it has read the rest
            self.fd = None
        if self.script is None:
            return
        try:
            self.script.wait(DRAIN_WAIT_S)  # a reader may finish the last lines itself
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.script.pid, signal.SIGTERM)
            try:
                self.script.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.script.pid, signal.SIGKILL)
                self.script.wait(STOP_WAIT_S)
        self.script = None

    def _unlink(self) -> None:
        if self.created:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.spec.path)
            self.created = False
