"""A serving console on a pseudo-terminal the test controls: read it, stop reading it, type."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hatui.lab import Host, Lab

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class PtyConsole:
    """`hatui --serve ...` in `host`, its terminal a pty whose master this object holds."""

    lab: Lab
    host: Host
    args: Sequence[str]
    cols: int = 120
    rows: int = 40
    proc: subprocess.Popen[bytes] | None = None
    master: int = -1
    received: int = 0
    _reading: threading.Event = field(default_factory=threading.Event)
    _done: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))
        argv = self.host.argv([sys.executable, "-m", "hatui", "--serve", *self.args])
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "", "LINES": ""}
        env = {k: v for k, v in env.items() if v}
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env,
            start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        self.master = master
        self.lab.procs.append(self.proc)  # the lab kills it (and its namespace) at the end
        self._reading.set()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        while not self._done.is_set():
            self._reading.wait()
            if self._done.is_set():
                return
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.received += len(data)

    def stall(self) -> None:
        """Stop reading the terminal, as a hung SSH path or Ctrl-S does."""
        self._reading.clear()

    def resume(self) -> None:
        self._reading.set()

    def unread(self) -> int:
        """Bytes the console wrote that nobody has read (the pty's buffer)."""
        buf = fcntl.ioctl(self.master, termios.FIONREAD, b"\0\0\0\0")
        return int(struct.unpack("i", buf)[0])

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def node_pids(self) -> list[int]:
        """The console's children: its node process."""
        assert self.proc is not None
        pids = []
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*"):
            with contextlib.suppress(OSError):
                pids += [int(p) for p in (task / "children").read_text().split()]
        # `ip netns exec` execs the console in place, so these are the node children.
        return pids

    def signal(self, sig: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, sig)

    def close(self) -> None:
        self._done.set()
        self._reading.set()
        with contextlib.suppress(OSError):
            os.close(self.master)


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
