"""The serving console's node: a headless `hatui --serve` child process it starts and stops.

The node never shares an interpreter with the console, so a stalled terminal, a redraw or
a modal never delays an advert. The child runs in its own session (terminal signals do not
reach it), writes to a log file rather than the terminal (a full pty cannot block it),
reports readiness over the sd_notify protocol, and gets SIGTERM from the kernel if the
console dies (PR_SET_PDEATHSIG): a clean stop, priority 0 from every master.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from hatui.errors import EXIT_RUNTIME, HatuiError, RuntimeFault
from hatui.runtime.parent import PARENT_ENV

READY_TIMEOUT_S = 30.0  # 255 instances start in well under a second; a slow disk is not
STOP_TIMEOUT_S = 15.0  # shutdown sends priority 0 and removes VIPs; then SIGKILL


class ChildFailed(HatuiError):
    """The node child stopped before it was ready: its own one-line error and exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class NodeChild:
    """Start `hatui --serve --headless ...` (argv after the interpreter) and supervise it."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = [sys.executable, "-m", "hatui", *argv]
        self.dir = Path(tempfile.mkdtemp(prefix="hatui-serve-"))
        self.log_path = self.dir / "node.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Spawn the node and wait for READY=1; ChildFailed with its error if it exits."""
        notify_path = str(self.dir / "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        try:
            sock.bind(notify_path)
            env = {**os.environ, "NOTIFY_SOCKET": notify_path, PARENT_ENV: str(os.getpid())}
            for var in ("WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID"):
                env.pop(var, None)  # meant for the console's own supervisor, if any
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen(
                    self.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    # A process group of its own, so a terminal's Ctrl-C and hang-up reach
                    # the console alone, which stops the node cleanly; the console's session,
                    # so its scheduling group (adapters/sched.py): the console runs behind it.
                    process_group=0,
                )
            self._wait_ready(sock, timeout)
        except BaseException:
            self.stop()
            raise
        finally:
            sock.close()

    def _wait_ready(self, sock: socket.socket, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            readable, _, _ = select.select([sock], [], [], 0.05)
            if readable:
                fields = sock.recv(4096).decode(errors="replace").splitlines()
                if "READY=1" in fields:
                    return
            code = self.proc.poll()
            if code is not None:
                raise ChildFailed(self.failure(), code or EXIT_RUNTIME)
        raise RuntimeFault(f"the node did not start within {timeout:.0f} s (log: {self.log_path})")

    def failure(self) -> str:
        """The child's own error line ("hatui: ..."), or the end of its log."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            lines = []
        for line in reversed(lines):
            if line.startswith("hatui: "):
                return line.removeprefix("hatui: ")
        tail = lines[-1] if lines else "no output"
        return f"the node exited: {tail}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _terminate(self) -> None:
        if self.running:
            assert self.proc is not None
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGTERM)

    def stop_by(self, deadline: float) -> bool:
        """SIGTERM and wait until `deadline` (monotonic), from any thread; True once stopped."""
        self._terminate()
        while self.running and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self.running

    async def stop_async(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM (masters send priority 0, VIPs go) and wait without blocking the loop."""
        self._terminate()
        deadline = time.monotonic() + timeout
        while self.running and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.stop()

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM and wait; SIGKILL if it hangs. Returns the exit code (None: never ran)."""
        if self.proc is None:
            return None
        self._terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        return self.proc.returncode

    def cleanup(self) -> None:
        """Remove the working directory (the log, unless the node failed)."""
        if self.proc is not None and self.proc.returncode not in (0, None):
            return  # keep the log of a failed node for the operator
        shutil.rmtree(self.dir, ignore_errors=True)
