"""Consoles follow the host's LAN view: two attached at once see the same LAN, a LAN view
that dies is said and followed by a reconnect once the node restarts it, and a serving
console holds no capture socket of its own."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hatui.lab import Lab
from hatui.lab.nodes import flags, has_vip, start_hatui, wait_for
from hatui.runtime.lanproc import NICE, RESTART_S
from tests.conftest import require
from tests.integration.test_node_lanview import lan_views, nice_of
from tests.ui.ptyconsole import PtyConsole

pytestmark = [pytest.mark.netns, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def screen(session: str) -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
    ).stdout


def lower(session: str) -> str:
    return screen(session).lower()


def routers_shown(session: str) -> set[str]:
    """The masters the routers table shows (`51 ... 192.0.2.11`), by VRID."""
    found = re.findall(r"\b(5[12])\b\s+\S*\s*(192\.0\.2\.1[12])\b", screen(session))
    return {f"{vrid}/{ip}" for vrid, ip in found}


def test_two_consoles_see_the_same_lan_and_live_through_the_lan_views_restart(
    lab: Lab,
) -> None:
    require(shutil.which("tmux") is not None, "needs tmux")
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    node = start_hatui(lab, a, flags(150))  # VRID 51
    start_hatui(lab, b, flags(150, vrid=52), wait=False)  # another router on the LAN
    attach = a.argv([sys.executable, "-m", "hatui", "--attach", "--control", str(node.control)])
    sessions = [f"lan{n}-{lab.prefix}" for n in (1, 2)]
    for session in sessions:
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
             f"cd {shlex.quote(str(ROOT))} && {shlex.join(attach)}"],
            check=True,
        )  # fmt: skip
    try:
        both = {"51/192.0.2.11", "52/192.0.2.12"}
        for session in sessions:
            wait_for(lambda s=session: both <= routers_shown(s), 15, f"{session}: both routers")
        (view,) = lan_views(node)
        # Followed, it still runs behind its node (adapters/sched.py), in the node's session.
        assert os.sched_getscheduler(view) == os.SCHED_IDLE and nice_of(view) == NICE
        assert os.getsid(view) == os.getsid(node.proc.pid)
        os.kill(view, signal.SIGKILL)
        for session in sessions:
            try:
                wait_for(
                    lambda s=session: "lan view lost" in screen(s).lower(), 5, f"{session}: lost"
                )
            except AssertionError:
                raise AssertionError(screen(session)) from None
        for session in sessions:
            wait_for(
                lambda s=session: "lan view back" in screen(s).lower(),
                RESTART_S + 15,
                f"{session}: back",
            )
        assert lan_views(node) not in ([], [view])
        for session in sessions:
            wait_for(lambda s=session: both <= routers_shown(s), 10, f"{session}: routers again")
            text = screen(session)
            # The new LAN view's history holds new_router lines already shown: not again.
            assert len(re.findall(r"new 52", text)) == 1, text
            assert "lan view lost" in text.lower() and node.state() == "MASTER"
        for session in sessions:
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    finally:
        for session in sessions:
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def socket_inodes(pid: int) -> set[int]:
    out = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(int(target[8:-1]))
    return out


def packet_inodes(pid: int) -> set[int]:
    """AF_PACKET sockets of the process's network namespace (/proc/PID/net/packet)."""
    lines = Path(f"/proc/{pid}/net/packet").read_text().splitlines()[1:]
    return {int(line.split()[-1]) for line in lines if line.split()}


def test_a_serving_console_opens_no_capture_socket(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    console = PtyConsole(lab, a, [*flags(150), "--control", str(lab.workdir / "a.sock")])
    console.start()
    try:
        wait_for(lambda: has_vip(lab, a), 15, "the console's node: MASTER")
        (node,) = console.node_pids()
        wait_for(lambda: len(children(node)) == 1, 10, "the node's LAN view")
        (view,) = children(node)
        wait_for(lambda: console.received > 2000, 5, "the console to draw")
        assert console.proc is not None
        pid = console.proc.pid
        # The check can fail: the node and its LAN view do hold capture sockets...
        wait_for(lambda: socket_inodes(view) & packet_inodes(pid), 10, "the LAN view's capture")
        packets = packet_inodes(pid)
        assert socket_inodes(node) & packets
        # ...and the console holds none.
        assert not socket_inodes(console.proc.pid) & packets
    finally:
        console.close()


def children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def test_an_attached_console_shows_a_haproxy_panel_only_if_the_node_polls_haproxy(
    lab: Lab,
) -> None:
    require(shutil.which("tmux") is not None, "needs tmux")
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    missing = str(lab.workdir / "no-haproxy.sock")  # named, and nothing listens there
    polled = start_hatui(lab, a, [*flags(150), "--haproxy", missing], tag="polled")
    unpolled = start_hatui(
        lab, b, [*flags(150, vrid=52), "--haproxy", "none"], tag="none", wait=False
    )
    wait_for(lambda: unpolled.state("VI_52") == "MASTER", 10, "the other node: MASTER")
    tmux = ["tmux", "-L", f"hap-{lab.prefix}"]  # a server of its own: no other test's sizes

    def pane(session: str) -> str:
        out = subprocess.run([*tmux, "capture-pane", "-p", "-t", session], capture_output=True)
        return out.stdout.decode(errors="replace")

    try:
        for session, node, host in (("polled", polled, a), ("none", unpolled, b)):
            # The attached console's own --haproxy is left at its default: the node decides.
            attach = host.argv(
                [sys.executable, "-m", "hatui", "--attach", "--control", str(node.control)]
            )
            subprocess.run(
                [*tmux, "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                 f"cd {shlex.quote(str(ROOT))} && {shlex.join(attach)}"],
                check=True,
            )  # fmt: skip
        # The polled node's console: the panel, titled with the socket it cannot read,
        # beside both routers of the LAN.
        wait_for(
            lambda: all(x in pane("polled") for x in ("haproxy:", "no-haproxy.sock", "192.0.2.12")),
            20,
            "the polled node's console: its haproxy panel and both routers",
        )
        # The other's: both routers, so the LAN view's first lines have come, and no panel.
        wait_for(lambda: "192.0.2.11" in pane("none"), 20, "the other console: the LAN")
        for _ in range(10):  # a poll would have come by now, and drawn the panel
            text = pane("none")
            assert "haproxy" not in text.lower(), text
            time.sleep(0.15)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
