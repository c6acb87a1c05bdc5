"""The console leaves within a bounded time once told to stop or once its terminal is gone.

Textual's shutdown writes to the terminal through a bounded queue and waits on it. Once the
terminal is hung up, its writer thread dies on the first failed write and the queue is never
drained again; while the terminal is not read, the writes block. Either way the normal
shutdown can wait forever, and a signal handler run by the event loop may never run at all
(the main thread waits in that queue). So the guard does not depend on the main thread:

- SIGHUP, SIGTERM and SIGINT set an event from a plain signal handler, which Python runs
  even while the main thread waits on a lock; a thread of the guard also notices a terminal
  that hung up without a signal (a process that does not own it as controlling terminal).
- The guard's thread then asks the app to quit as usual, runs the mode's mandatory cleanup
  (a serving console's node stops with priority 0) until its deadline, and leaves with
  `os._exit`: at once when the terminal is gone, else once the normal shutdown had its time
  (a live terminal gets its modes back that way) or the terminal stopped taking output,
  its termios settings restored first.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import termios
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from hatui.errors import EXIT_RUNTIME

EXIT_SIGNALS = (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)
POLL_S = 0.2  # how often the guard looks at the terminal
CLEANUP_S = 1.2  # the mode's cleanup (a node's clean stop) may take this long after the signal
EXIT_S = 1.6  # the process has left by then, whatever its normal shutdown waits on
STALL_S = 0.3  # a terminal that takes no output for this long is not waited for
_GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL

Handler = Callable[[int, FrameType | None], Any] | int | None


def terminal_gone(fds: tuple[int, ...]) -> bool:
    """True if any of `fds`, a terminal when the guard started, has hung up or closed."""
    if not fds:
        return False
    poller = select.poll()
    for fd in fds:
        poller.register(fd, 0)  # no events asked: only hangup, error, invalid are reported
    try:
        return any(ev & _GONE for _fd, ev in poller.poll(0))
    except OSError:
        return True


class ExitGuard:
    """Leaves the process within EXIT_S of a stop signal or a terminal hangup.

    `cleanup(deadline)` (any thread, blocking until at most `deadline`, a monotonic time)
    does what must not be skipped and returns False if it could not finish; `quit()` asks
    the app to stop as usual (from the guard's thread); `code()` is the exit code then.
    """

    def __init__(
        self,
        cleanup: Callable[[float], bool],
        quit: Callable[[], object],
        code: Callable[[], int],
        *,
        fds: tuple[int, ...] = (0, 1, 2),
        leave: Callable[[int], object] = os._exit,
    ) -> None:
        self.cleanup = cleanup
        self.quit = quit
        self.code = code
        self.leave = leave
        self.ttys = tuple(fd for fd in fds if _isatty(fd))
        self.reason: str | None = None  # what triggered the guard: a signal's name, "hangup"
        self._at = 0.0
        self._trigger = threading.Event()
        self._done = threading.Event()
        self._previous: dict[int, Handler] = {}
        self._termios: tuple[int, list[Any]] | None = None
        self._thread = threading.Thread(target=self._run, name="hatui-exit-guard", daemon=True)

    @property
    def triggered(self) -> bool:
        return self._trigger.is_set()

    def install(self) -> None:
        """From the main thread, before the app changes the terminal's settings."""
        for fd in self.ttys:
            with contextlib.suppress(termios.error):
                self._termios = (fd, termios.tcgetattr(fd))
                break
        for sig in EXIT_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._on_signal)
        self._thread.start()

    def uninstall(self) -> None:
        """The app ended by itself: put the signals back. A triggered guard stays armed."""
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        self._done.set()  # its thread returns at its next look, unless it fired already

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # Only what is safe wherever the main thread was: the guard's thread does the rest.
        if not self._trigger.is_set():
            self.reason = signal.Signals(signum).name
            self._at = time.monotonic()
            self._trigger.set()

    def _run(self) -> None:
        while not self._trigger.wait(POLL_S):
            if self._done.is_set():
                return
            if terminal_gone(self.ttys):
                self.reason = "hangup"
                self._at = time.monotonic()
                self._trigger.set()
        self._leave()

    def _leave(self) -> None:
        # Nothing here logs: a log line to a stalled terminal would block this thread too.
        with contextlib.suppress(Exception):
            self.quit()
        cleaned = False
        with contextlib.suppress(Exception):
            cleaned = self.cleanup(self._at + CLEANUP_S)
        if self._wait_for_shutdown() and self._termios is not None:
            fd, attrs = self._termios
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(fd, termios.TCSANOW, attrs)
        code = EXIT_RUNTIME
        with contextlib.suppress(Exception):
            code = self.code() if cleaned else max(EXIT_RUNTIME, self.code())
        self.leave(code)

    def _wait_for_shutdown(self) -> bool:
        """A terminal that takes output gets until EXIT_S for the normal shutdown to restore
        it (the process may leave by itself then). False when there is none or it is gone;
        True after the wait, or once it has taken no output for STALL_S (nothing can
        restore it then)."""
        if not self.ttys:
            return False
        stalled_since: float | None = None
        while (now := time.monotonic()) < self._at + EXIT_S:
            if terminal_gone(self.ttys):
                return False
            if writable(self.ttys):
                stalled_since = None
            elif stalled_since is None:
                stalled_since = now
            elif now - stalled_since >= STALL_S:
                break
            time.sleep(POLL_S / 4)
        return True


def writable(fds: tuple[int, ...]) -> bool:
    """True if every terminal of `fds` takes output now (its reader keeps up)."""
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLOUT)
    try:
        ready = dict(poller.poll(0))
    except OSError:
        return False
    return all(ready.get(fd, 0) & select.POLLOUT for fd in fds)


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False
