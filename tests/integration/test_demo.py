"""`hatui --demo` starts its lab, elects masters, and removes everything when it ends."""

from __future__ import annotations

import re
import subprocess
import sys

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
