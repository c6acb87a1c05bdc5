"""An SSH session closing (SIGHUP to the console, as when its tmux session is killed): a
serving node stops cleanly, an attached node runs on, and the console exits in every case."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from hatui.lab import Lab
from tests.conftest import require
from tests.integration.nodelab import flags, has_vip, start_hatui, wait_for
from tests.ui.ptyconsole import alive
from tests.ui.ttyconsole import GOAL_S, LIMIT_S, children

pytestmark = [pytest.mark.netns, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
HATUI = [sys.executable, "-m", "hatui"]


class Pane:
    """A tmux session running one command; `kill()` kills the session and times the exit."""

    def __init__(self, session: str, pid: int) -> None:
        self.session = session
        self.pid = pid
        self.tree: list[int] = []

    def processes(self) -> list[int]:
        """The pane's shell (unless it exec'd), the console, its children."""
        out: list[int] = []
        todo = [self.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo += children(pid)
        return out

    def kill(self, what: str) -> float:
        """Kill the session: the pane's terminal hangs up. Seconds until all have exited."""
        self.tree = self.processes()
        assert any(b"hatui" in Path(f"/proc/{p}/cmdline").read_bytes() for p in self.tree)
        start = time.monotonic()
        subprocess.run(["tmux", "kill-session", "-t", self.session], check=True)
        wait_for(lambda: not any(alive(p) for p in self.tree), LIMIT_S, f"the {what} to exit")
        took = time.monotonic() - start
        print(f"tmux {what}: exited {took:.3f} s after the session was killed (goal {GOAL_S} s)")
        return took


@contextmanager
def tmux(lab: Lab, argv: Sequence[str]) -> Iterator[Pane]:
    require(shutil.which("tmux") is not None, "needs tmux")
    session = f"hup-{lab.prefix}"
    pane_pid = subprocess.run(
        ["tmux", "new-session", "-d", "-P", "-F", "#{pane_pid}", "-s", session,
         "-x", "100", "-y", "30", f"cd {shlex.quote(str(ROOT))} && {shlex.join(argv)}"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    pane = Pane(session, int(pane_pid))
    try:
        yield pane
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        for pid in pane.tree:  # by PID, should the console not have left
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_hangup_of_the_console_sends_priority_zero_and_drops_the_vip(lab: Lab) -> None:
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    peer = start_hatui(lab, b, flags(100))
    console = a.argv([*HATUI, "--serve", *flags(150), "--control", str(lab.workdir / "a.sock")])
    with tmux(lab, console) as pane:
        wait_for(lambda: has_vip(lab, a), 10, "the console's node to become master")
        time.sleep(0.3)
        pane.kill("serving console and its node")
        wait_for(lambda: has_vip(lab, b), 3, "the peer to take over")
        wait_for(lambda: not has_vip(lab, a), 3, "the console's node to drop the VIP")
        released = [
            line
            for line in peer.output().splitlines()
            if '"kind": "node_transition"' in line
            and "master 192.0.2.11 released (priority 0)" in line
        ]
        assert released, "the peer took over on a timeout, not on the console's priority 0"


def test_hangup_of_a_watching_console(lab: Lab) -> None:
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    start_hatui(lab, a, flags(100))
    with tmux(lab, b.argv([*HATUI, "--watch", "eth0"])) as pane:
        time.sleep(2)  # the console is up and draws the adverts
        pane.kill("watching console")


def test_hangup_of_an_attached_console_leaves_its_node_running(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    node = start_hatui(lab, a, flags(150))
    wait_for(lambda: has_vip(lab, a), 10, "the node to become master")
    with tmux(lab, a.argv([*HATUI, "--attach", "--control", str(node.control)])) as pane:
        time.sleep(2)
        pane.kill("attached console")
        time.sleep(0.5)
        assert node.proc.poll() is None, "the console's hangup stopped the node"
        assert node.state() == "MASTER" and has_vip(lab, a)
