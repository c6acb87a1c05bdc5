"""A console on a pseudo-terminal that is its controlling terminal, as an SSH session's is.

Closing the master side hangs the terminal up: the kernel sends the console (the session
leader) SIGHUP, and its reads and writes fail from then on. The test can stop reading the
master first, so the console's writes block, as over a stalled SSH connection.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOAL_S = 2.0  # a console leaves this soon after a hangup or SIGTERM...
LIMIT_S = 5.0  # ...and tests fail beyond this, on a loaded 2-core machine (figures printed)


def _take_terminal() -> None:
    """In the child, after setsid: stdin's pty becomes the controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@dataclass
class TtyConsole:
    """`argv` (a whole command line) on a pty whose master this object holds."""

    argv: Sequence[str]
    cols: int = 100
    rows: int = 30
    proc: subprocess.Popen[bytes] | None = None
    master: int = -1
    received: bytearray = field(default_factory=bytearray)
    _reading: threading.Event = field(default_factory=threading.Event)
    _done: threading.Event = field(default_factory=threading.Event)
    _pump: threading.Thread | None = None

    def start(self) -> subprocess.Popen[bytes]:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color"}
        for var in ("COLUMNS", "LINES", "TMUX"):
            env.pop(var, None)
        self.proc = subprocess.Popen(
            list(self.argv), stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env,
            start_new_session=True, preexec_fn=_take_terminal,
        )  # fmt: skip
        os.close(slave)
        self.master = master
        self._reading.set()
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()
        return self.proc

    def _read(self) -> None:
        # Never blocks in read(): close() must be able to close the master at any time.
        while not self._done.is_set():
            if not self._reading.wait(0.05):
                continue
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.received += data

    def wait_output(self, needle: bytes, timeout: float) -> None:
        end = time.monotonic() + timeout
        while needle not in self.received:
            assert self.proc is not None
            if time.monotonic() > end or self.proc.poll() is not None:
                tail = bytes(self.received[-600:])
                raise AssertionError(f"no {needle!r} on the console within {timeout} s: {tail!r}")
            time.sleep(0.05)

    def stall(self) -> None:
        """Stop reading the terminal, as a stalled SSH connection does."""
        self._reading.clear()

    def unread(self) -> int:
        """Bytes the console wrote that nobody has read yet."""
        buf = fcntl.ioctl(self.master, termios.FIONREAD, b"\0\0\0\0")
        return int(struct.unpack("i", buf)[0])

    def wait_blocked(self, timeout: float = 15.0) -> int:
        """Wait until the console's writes block: nothing more arrives and one of its threads
        sleeps in the terminal's write. Returns the bytes left unread."""
        assert self.proc is not None
        end = time.monotonic() + timeout
        last = -1
        while time.monotonic() < end:
            time.sleep(0.5)
            now = self.unread()
            if now == last and now > 0 and writing(self.proc.pid):
                return now
            last = now
        raise AssertionError(f"the console's writes never blocked ({last} bytes unread)")

    def hang_up(self) -> float:
        """Close the master: the kernel hangs the terminal up. Returns the monotonic time."""
        self._done.set()
        self._reading.set()
        if self._pump is not None:
            self._pump.join(2)
        os.close(self.master)
        self.master = -1
        return time.monotonic()

    def close(self) -> None:
        if self.master >= 0:
            with contextlib.suppress(OSError):
                self.hang_up()
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, 9)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)


def exit_time(proc: subprocess.Popen[bytes], since: float, limit: float) -> float:
    """Seconds from `since` until `proc` exited; AssertionError if it runs past `limit`."""
    end = since + limit
    while proc.poll() is None:
        if time.monotonic() > end:
            raise AssertionError(f"the console still runs {limit} s after the hangup or signal")
        time.sleep(0.005)
    return time.monotonic() - since


def children(pid: int) -> list[int]:
    """The processes `pid` started that still run (or await reaping)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(p) for p in (task / "children").read_text().split()]
    return out


def writing(pid: int) -> bool:
    """True if a thread of `pid` or of a process it started sleeps in a terminal write
    (n_tty_write waits in wait_woken for room); the demo's console is its child."""
    todo = [pid]
    while todo:
        one = todo.pop()
        for task in Path(f"/proc/{one}/task").glob("*"):
            with contextlib.suppress(OSError):
                if (task / "wchan").read_text() in ("wait_woken", "n_tty_write"):
                    return True
        todo += children(one)
    return False
