"""A console leaves soon after its SSH session drops (SIGHUP) or SIGTERM, in every mode.

Each console runs on a pty that is its controlling terminal. The test hangs the terminal up
(closes the master: the kernel sends SIGHUP) or sends SIGTERM, and asserts that the process
has exited; "stalled" stops reading the terminal until the console's writes block, then
hangs up. The goal is 2 s; the assertion allows LIMIT_S for a loaded 2-core machine, and
each figure is printed (`pytest -s`). Every mode also keeps its own promise: a serving
console's node stops with priority 0 before the console leaves, an attached console leaves
its node running, the demo removes its namespaces and processes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from hatui.lab import Lab, remove_leftovers
from tests.conftest import require_root
from tests.integration.nodelab import HatuiNode, flags, has_vip, start_hatui, wait_for
from tests.ui.ptyconsole import alive
from tests.ui.ttyconsole import GOAL_S, LIMIT_S, ROOT, TtyConsole, children, exit_time

pytestmark = [pytest.mark.slow]
HATUI = [sys.executable, "-m", "hatui"]
CAPTURE = ROOT / "tests" / "corpus" / "cisco_md5_vrrpv2.pcap"  # 18 s, paced at real speed
ENDS = ("hangup", "stalled", "sigterm")
SIGNALS = {"sigterm": signal.SIGTERM, "sigint": signal.SIGINT}


@dataclass
class Setup:
    """A console to start, when it is up, and what must hold once it has left."""

    argv: list[str]
    ready: Callable[[TtyConsole], None]
    after: Callable[[TtyConsole], None]


def _shows(needle: bytes, timeout: float = 20) -> Callable[[TtyConsole], None]:
    return lambda con: con.wait_output(needle, timeout)


def _nothing(_con: TtyConsole) -> None:
    return None


def setup_read() -> Setup:
    argv = [*HATUI, "--read", str(CAPTURE), "--speed", "1"]
    return Setup(argv, _shows(b"READ"), _nothing)


def setup_watch(lab: Lab) -> Setup:
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    start_hatui(lab, a, flags(100))  # adverts every 0.1 s: the console draws all the time
    return Setup(b.argv([*HATUI, "--watch", "eth0"]), _shows(b"192.0.2.11"), _nothing)


def setup_serve(lab: Lab) -> Setup:
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    peer = start_hatui(lab, b, flags(100))
    argv = a.argv([*HATUI, "--serve", *flags(150), "--control", str(lab.workdir / "a.sock")])
    nodes: list[int] = []

    def ready(con: TtyConsole) -> None:
        wait_for(lambda: has_vip(lab, a), 15, "the console's node to become master")
        assert con.proc is not None
        nodes.extend(children(con.proc.pid))
        assert nodes, "the serving console has no node child"
        con.wait_output(b"SERVE", 10)

    def after(_con: TtyConsole) -> None:
        # The console waited for its node: the node had stopped before the console left.
        assert not [pid for pid in nodes if alive(pid)], "the node outlived its console"
        wait_for(lambda: has_vip(lab, b), 3, "the peer to take over")
        assert not has_vip(lab, a)
        released = [
            line
            for line in peer.output().splitlines()
            if '"kind": "node_transition"' in line
            and "master 192.0.2.11 released (priority 0)" in line
        ]
        assert released, "the peer took over on a timeout, not on the node's priority 0"

    return Setup(argv, ready, after)


def setup_attach(lab: Lab) -> Setup:
    a = lab.add_host("a", 11)
    node: HatuiNode = start_hatui(lab, a, flags(150))
    wait_for(lambda: has_vip(lab, a), 10, "the node to become master")
    argv = a.argv([*HATUI, "--attach", "--control", str(node.control)])

    def after(_con: TtyConsole) -> None:
        time.sleep(0.5)  # a node told to stop would be gone by now
        assert node.proc.poll() is None, "the attached console's hangup stopped the node"
        assert node.state() == "MASTER"
        assert has_vip(lab, a)
        assert "shutdown" not in node.output()

    return Setup(argv, _shows(b"VI_51"), after)


def namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def setup_demo() -> Setup:
    state: dict[str, object] = {}

    def ready(con: TtyConsole) -> None:
        con.wait_output(b"VIPs 192.0.2.100", 30)
        found = re.search(rb"namespaces (hdemo\d+-)\*", bytes(con.received))
        assert found, bytes(con.received[-400:])
        prefix = found.group(1).decode()
        con.wait_output(b"VI_52", 30)  # the console is up and drawing
        pids: set[int] = set()
        for ns in namespaces():
            if ns.startswith(prefix):
                out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
                pids |= {int(p) for p in out.stdout.split()}
        assert len(pids) >= 4, pids  # nodes a (console and its node), b, c at least
        state.update(prefix=prefix, pids=pids)

    def after(_con: TtyConsole) -> None:
        prefix = str(state["prefix"])
        assert not {ns for ns in namespaces() if ns.startswith(prefix)}
        pids = state["pids"]
        assert isinstance(pids, set)
        assert not [pid for pid in pids if alive(pid)], "the demo's processes outlived it"

    return Setup([*HATUI, "--demo"], ready, after)


def run_console(mode: str, setup: Setup, end: str) -> float:
    """Start the console, end its session as `end` says, and return how long it took to go."""
    con = TtyConsole(setup.argv)
    proc = con.start()
    try:
        setup.ready(con)
        time.sleep(0.5)
        if end == "stalled":
            con.stall()
            unread = con.wait_blocked()
            assert proc.poll() is None
            time.sleep(2)  # its writes wait on the full terminal for a while
            print(f"{mode}: terminal full ({unread} bytes unread)")
        if end in SIGNALS:
            seen = len(con.received)
            start = time.monotonic()
            os.kill(proc.pid, SIGNALS[end])
        else:
            start = con.hang_up()
        took = exit_time(proc, start, LIMIT_S)
        print(f"{mode} {end}: exited {took:.3f} s after (goal {GOAL_S} s), exit {proc.returncode}")
        assert proc.returncode == 0
        if end in SIGNALS:
            # A live terminal: the console left through its normal shutdown and gave it back
            # (the alternate screen left, the cursor shown).
            wait_for(lambda: b"\x1b[?1049l" in con.received[seen:], 2, "the terminal restored")
        setup.after(con)
        return took
    finally:
        con.close()


@pytest.fixture
def demo_cleanup() -> Iterator[None]:
    require_root()
    try:
        yield
    finally:
        remove_leftovers("hdemo")  # only a dead demo's: a failed test killed its demo by PID


@pytest.mark.parametrize("end", [*ENDS, "sigint"])
def test_read_console_leaves(end: str) -> None:
    run_console("read", setup_read(), end)


@pytest.mark.netns
@pytest.mark.parametrize("end", ENDS)
def test_watch_console_leaves(lab: Lab, end: str) -> None:
    run_console("watch", setup_watch(lab), end)


@pytest.mark.netns
@pytest.mark.parametrize("end", ENDS)
def test_serve_console_leaves_after_its_node_sent_priority_zero(lab: Lab, end: str) -> None:
    run_console("serve", setup_serve(lab), end)


@pytest.mark.netns
@pytest.mark.parametrize("end", ENDS)
def test_attach_console_leaves_and_its_node_runs_on(lab: Lab, end: str) -> None:
    run_console("attach", setup_attach(lab), end)


@pytest.mark.netns
@pytest.mark.parametrize("end", ENDS)
def test_demo_leaves_and_removes_its_lab(demo_cleanup: None, end: str) -> None:
    run_console("demo", setup_demo(), end)


@pytest.mark.netns
def test_serve_console_leaves_on_sigterm_while_its_terminal_is_stalled(lab: Lab) -> None:
    """Nobody reads the terminal and nobody closes it: the console still leaves."""
    setup = setup_serve(lab)
    con = TtyConsole(setup.argv)
    proc = con.start()
    try:
        setup.ready(con)
        con.stall()
        con.wait_blocked()
        start = time.monotonic()
        os.kill(proc.pid, signal.SIGTERM)
        took = exit_time(proc, start, LIMIT_S)
        print(f"serve stalled sigterm: exited {took:.3f} s after, exit {proc.returncode}")
        assert proc.returncode == 0
        setup.after(con)
    finally:
        con.close()
