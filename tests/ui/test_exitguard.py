"""The exit guard in-process: what wakes it, the order of its steps, its exit code."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import queue
import select
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from hatui.errors import EXIT_RUNTIME
from hatui.ui.exitguard import CLEANUP_S, EXIT_S, ExitGuard, terminal_gone, writable


@pytest.fixture
def pair() -> Iterator[tuple[int, int]]:
    master, slave = pty.openpty()
    yield master, slave
    for fd in (master, slave):
        with contextlib.suppress(OSError):
            os.close(fd)


class Recorder:
    """The guard's callbacks, recording their order; `leave` ends the guard's thread."""

    def __init__(self, cleaned: bool = True, code: int = 0) -> None:
        self.steps: list[str] = []
        self.deadline = 0.0
        self.code_given: int | None = None
        self.left = threading.Event()
        self._cleaned = cleaned
        self._code = code

    def cleanup(self, deadline: float) -> bool:
        self.steps.append("cleanup")
        self.deadline = deadline
        return self._cleaned

    def quit(self) -> None:
        self.steps.append("quit")

    def code(self) -> int:
        return self._code

    def leave(self, code: int) -> None:
        self.steps.append("leave")
        self.code_given = code
        self.left.set()

    def guard(self, fds: tuple[int, ...] = ()) -> ExitGuard:
        return ExitGuard(self.cleanup, self.quit, self.code, fds=fds, leave=self.leave)


def test_a_pty_whose_master_closed_is_gone(pair: tuple[int, int]) -> None:
    master, slave = pair
    assert not terminal_gone((slave,))
    os.close(master)
    assert terminal_gone((slave,))


def test_a_pty_nobody_reads_stops_taking_output(pair: tuple[int, int]) -> None:
    master, slave = pair
    assert writable((slave,))
    fcntl.fcntl(slave, fcntl.F_SETFL, fcntl.fcntl(slave, fcntl.F_GETFL) | os.O_NONBLOCK)
    # Fill it until a write would block, and again once the kernel's pty worker has moved
    # what it could to the master's side: only then is it full for good.
    for _ in range(50):
        with pytest.raises(BlockingIOError):
            while True:
                os.write(slave, b"x" * 512)
        time.sleep(0.02)
        if not writable((slave,)):
            break
    assert not writable((slave,))
    assert not terminal_gone((slave,))  # full is not gone
    end = time.monotonic() + 2
    while not writable((slave,)) and time.monotonic() < end:
        if select.select([master], [], [], 0.05)[0]:  # what waits in between moves on
            os.read(master, 65536)
    assert writable((slave,))


def test_sigterm_while_the_main_thread_waits_on_a_full_queue() -> None:
    """The case that hung: the main thread blocked in Textual's writer queue. The signal
    handler still runs there, and the guard does the rest from its own thread."""
    rec = Recorder()
    stuck: queue.Queue[int] = queue.Queue(1)
    stuck.put(0)
    leave = rec.leave

    def leave_and_unblock(code: int) -> None:
        leave(code)
        stuck.get_nowait()  # the process would be gone: let the main thread go on

    guard = ExitGuard(rec.cleanup, rec.quit, rec.code, fds=(), leave=leave_and_unblock)
    before = signal.getsignal(signal.SIGTERM)
    guard.install()
    try:
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()
        start = time.monotonic()
        stuck.put(1, timeout=5)  # blocks as Queue.put under Textual's driver.write does
        assert rec.left.is_set(), "the main thread went on before the guard left"
        assert guard.reason == "SIGTERM"
        # No terminal to give back: it leaves right after the cleanup, long before EXIT_S.
        assert time.monotonic() - start < 0.2 + EXIT_S / 2
        assert rec.steps == ["quit", "cleanup", "leave"]
        assert rec.code_given == 0
    finally:
        guard.uninstall()
    assert signal.getsignal(signal.SIGTERM) is before


def test_cleanup_gets_a_deadline_and_a_failed_one_exits_non_zero() -> None:
    rec = Recorder(cleaned=False)
    guard = rec.guard()
    guard.install()
    try:
        sent = time.monotonic()
        os.kill(os.getpid(), signal.SIGHUP)
        assert rec.left.wait(3)
        assert sent <= rec.deadline - CLEANUP_S <= time.monotonic()
        assert rec.code_given == EXIT_RUNTIME
    finally:
        guard.uninstall()


def test_the_app_code_is_the_exit_code_after_a_feed_error() -> None:
    rec = Recorder(code=EXIT_RUNTIME)
    guard = rec.guard()
    guard.install()
    try:
        os.kill(os.getpid(), signal.SIGINT)
        assert rec.left.wait(3)
        assert guard.reason == "SIGINT" and rec.code_given == EXIT_RUNTIME
    finally:
        guard.uninstall()


def test_a_terminal_that_hangs_up_without_a_signal_triggers_it(pair: tuple[int, int]) -> None:
    """A console that does not own its terminal as controlling terminal gets no SIGHUP."""
    master, slave = pair
    rec = Recorder()
    guard = rec.guard(fds=(slave,))
    guard.install()
    try:
        time.sleep(0.3)
        assert not guard.triggered  # a live terminal
        os.close(master)
        assert rec.left.wait(3)
        assert guard.reason == "hangup"
        assert rec.steps == ["quit", "cleanup", "leave"]
    finally:
        guard.uninstall()


def test_a_live_terminal_gets_the_normal_shutdown_time(pair: tuple[int, int]) -> None:
    _master, slave = pair
    rec = Recorder()
    guard = rec.guard(fds=(slave,))
    guard.install()
    try:
        start = time.monotonic()
        os.kill(os.getpid(), signal.SIGTERM)
        assert rec.left.wait(EXIT_S + 2)
        assert time.monotonic() - start >= EXIT_S - 0.05
    finally:
        guard.uninstall()


def test_uninstalled_it_never_fires(pair: tuple[int, int]) -> None:
    master, slave = pair
    rec = Recorder()
    guard = rec.guard(fds=(slave,))
    guard.install()
    guard.uninstall()
    os.close(master)
    time.sleep(0.5)
    assert not rec.left.is_set() and rec.steps == []
