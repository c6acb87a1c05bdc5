"""`--rt-priority` (keepalived's vrrp_rt_priority) really schedules the node SCHED_RR."""

from __future__ import annotations

import shutil
import subprocess

from hatui.lab import Lab
from hatui.lab.nodes import flags, has_vip, start_hatui, wait_for
from tests.conftest import require, require_root


def test_rt_priority_runs_the_node_sched_rr(lab: Lab) -> None:
    require_root()
    require(shutil.which("chrt") is not None, "needs chrt (util-linux)")
    a = lab.add_host("a", 11)
    node = start_hatui(lab, a, [*flags(150), "--rt-priority", "10"])
    wait_for(lambda: has_vip(lab, a), 5, "the node to become master")
    out = subprocess.run(
        ["chrt", "-p", str(node.proc.pid)], capture_output=True, text=True, check=True
    ).stdout
    assert "SCHED_RR" in out and "priority: 10" in out, out
