"""`hatui --demo` starts its lab, elects masters, and removes everything when it ends."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time

from hatui.lab import remove_leftovers
from tests.conftest import require_root


def namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def test_demo_runs_headless_and_leaves_nothing_behind() -> None:
    require_root()
    proc = subprocess.run(
        [sys.executable, "-m", "hatui", "--demo", "--headless", "--duration", "5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    prefix = re.search(r"namespaces (hdemo\d+-)\*", proc.stdout)
    assert prefix, proc.stdout
    # Node a has the top priority for VRID 51: within 5 s it must have become master.
    assert "VI_51: BACKUP -> MASTER" in proc.stdout, proc.stdout
    assert "VI_51: MASTER -> INIT (shutdown)" in proc.stdout
    assert not {ns for ns in namespaces() if ns.startswith(prefix.group(1))}
    leftover = subprocess.run(["pgrep", "-f", prefix.group(1)], capture_output=True, text=True)
    assert leftover.stdout == ""


def _pids(prefix: str) -> set[int]:
    out: set[int] = set()
    for ns in namespaces():
        if ns.startswith(prefix):
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
            out |= {int(p) for p in pids.stdout.split()}
    return out


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_demo_killed_outright_takes_its_nodes_and_the_next_one_cleans_up() -> None:
    require_root()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hatui", "--demo", "--headless", "--duration", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        prefix = re.search(r"namespaces (hdemo\d+-)\*", first)
        assert prefix, first
        ns_prefix = prefix.group(1)
        # Nodes a, b, c (hatui, and haproxy when installed), keepalived k, web w1 and w2.
        want = 4 + (4 + 2 if shutil.which("haproxy") else 0)
        deadline = time.monotonic() + 20
        while len(_pids(ns_prefix)) < want and time.monotonic() < deadline:
            time.sleep(0.1)
        pids = _pids(ns_prefix)
        assert len(pids) >= want, pids
    finally:
        proc.kill()  # kill -9: no cleanup code runs in the demo
        proc.wait(10)
    try:
        deadline = time.monotonic() + 15
        while any(_running(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in pids if _running(p)], "children outlived the demo"
        left = {ns for ns in namespaces() if ns.startswith(ns_prefix)}
        assert left, "namespaces are only removed by the next demo"
        nxt = subprocess.run(
            [sys.executable, "-m", "hatui", "--demo", "--headless", "--duration", "1"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert nxt.returncode == 0, nxt.stderr
        assert f"removed {len(left)} namespaces a killed demo left" in nxt.stdout
        assert not {ns for ns in namespaces() if ns.startswith(ns_prefix)}
    finally:
        remove_leftovers("hdemo")  # on failure too: only a dead demo's namespaces
