"""End to end: `hatui --serve` in a tmux pane (its LAN from the node's LAN view), `r` +
confirm moves the VIP to the peer."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from hatui.lab import Lab
from tests.conftest import require

pytestmark = [pytest.mark.netns, pytest.mark.slow]
VIP = "192.0.2.100"


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_release_key_moves_the_vip(lab: Lab) -> None:
    require(shutil.which("tmux") is not None, "needs tmux")
    a = lab.add_host("a", 11)
    b = lab.add_host("b", 12)
    flags = ["--interface", "eth0", "--vrid", "51", "--vip", f"{VIP}/24", "--vrrp-version", "3"]
    flags += ["--advert-int", "0.1"]
    peer = lab.spawn(
        b,
        [
            sys.executable,
            "-m",
            "hatui",
            "--serve",
            "--headless",
            *flags,
            "--priority",
            "100",
            "--control",
            str(lab.workdir / "b.sock"),
        ],
    )
    session = f"hatui-e2e-{os.getpid()}"
    cmd = " ".join(
        a.argv(
            [
                sys.executable,
                "-m",
                "hatui",
                "--serve",
                *flags,
                "--priority",
                "150",
                "--control",
                str(lab.workdir / "a.sock"),
            ]
        )
    )
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30", cmd], check=True
    )

    def screen() -> str:
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
        ).stdout

    def has_vip(host_ns: str) -> bool:
        out = subprocess.run(
            ["ip", "-n", host_ns, "-o", "addr", "show", "dev", "eth0"],
            capture_output=True,
            text=True,
        ).stdout
        return f" {VIP}/" in out

    try:
        # The node panel's row, not the event log's "BACKUP -> MASTER" line, which arrives
        # before the panel's next status update: `r` is judged on the panel's state.
        panel_master = re.compile(r"VI_51\s+51\s+MASTER")
        wait_for(
            lambda: has_vip(a.ns) and panel_master.search(screen()) is not None,
            10,
            "a to become master",
        )
        # The LAN comes from the node's LAN view, which starts beside the node: the
        # prediction of `r` reads the routers it shows.
        lan_master = re.compile(r"\b51\s+ok\s+192\.0\.2\.11\b")
        wait_for(lambda: lan_master.search(screen()) is not None, 10, "the LAN view's routers")
        assert peer.poll() is None
        subprocess.run(["tmux", "send-keys", "-t", session, "r"], check=True)
        wait_for(lambda: "will send priority 0" in screen(), 5, "the confirmation")
        # The peer is heard only if the LAN view was up before the node preempted it. The
        # dialog's text is what lies between its borders, its lines joined.
        lines = [ln for ln in screen().splitlines() if ln.count("█") >= 2]
        inside = [ln[ln.index("█") + 1 : ln.rindex("█")] for ln in lines]
        said = re.sub(r"\s+", " ", " ".join(x for x in inside if x.strip()))
        assert "192.0.2.12 should take over" in said or "no other router" in said, screen()
        subprocess.run(["tmux", "send-keys", "-t", session, "y"], check=True)
        wait_for(lambda: has_vip(b.ns) and not has_vip(a.ns), 5, "the VIP to move to b")
        try:
            wait_for(lambda: "BACKUP hold" in screen(), 5, "the screen to show BACKUP hold")
        except AssertionError:
            raise AssertionError(f"the screen does not show BACKUP hold:\n{screen()}") from None
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        wait_for(
            lambda: (
                subprocess.run(
                    ["tmux", "has-session", "-t", session], capture_output=True
                ).returncode
                != 0
            ),
            10,
            "the console to exit",
        )
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        lab.stop(peer)
