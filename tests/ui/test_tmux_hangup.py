"""An SSH session closing (SIGHUP to the console) stops a serving node cleanly, and the
console with it."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hatui.lab import Lab
from tests.conftest import require
from tests.integration.nodelab import flags, has_vip, start_hatui, wait_for
from tests.ui.ptyconsole import alive
from tests.ui.ttyconsole import GOAL_S, LIMIT_S, children

pytestmark = [pytest.mark.netns, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_hangup_of_the_console_sends_priority_zero_and_drops_the_vip(lab: Lab) -> None:
    require(shutil.which("tmux") is not None, "needs tmux")
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    peer = start_hatui(lab, b, flags(100))
    console = a.argv(
        [
            sys.executable,
            "-m",
            "hatui",
            "--serve",
            *flags(150),
            "--control",
            str(lab.workdir / "a.sock"),
        ]
    )
    session = f"hup-{lab.prefix}"
    pane = subprocess.run(
        [
            "tmux",
            "new-session",
            "-d",
            "-P",
            "-F",
            "#{pane_pid}",
            "-s",
            session,
            "-x",
            "100",
            "-y",
            "30",
            f"cd {shlex.quote(str(ROOT))} && {shlex.join(console)}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    tree: list[int] = []
    try:
        wait_for(lambda: has_vip(lab, a), 10, "the console's node to become master")
        time.sleep(0.3)
        # The pane's shell (unless it exec'd), the console, its node.
        todo = [int(pane)]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo += children(pid)
        assert len(tree) >= 2, tree
        # Killing the session hangs up the pane's terminal: the console gets SIGHUP.
        start = time.monotonic()
        subprocess.run(["tmux", "kill-session", "-t", session], check=True)
        wait_for(lambda: not any(alive(p) for p in tree), LIMIT_S, "the console to exit")
        took = time.monotonic() - start
        print(f"tmux serve: the console and its node exited {took:.3f} s after (goal {GOAL_S} s)")
        wait_for(lambda: has_vip(lab, b), 3, "the peer to take over")
        wait_for(lambda: not has_vip(lab, a), 3, "the console's node to drop the VIP")
        released = [
            line
            for line in peer.output().splitlines()
            if '"kind": "node_transition"' in line
            and "master 192.0.2.11 released (priority 0)" in line
        ]
        assert released, "the peer took over on a timeout, not on the console's priority 0"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        for pid in tree:  # by PID, should the console not have left
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
