"""vrrp_track_process in a namespace lab, where keepalived's proc connector is refused."""

from __future__ import annotations

import shutil
import signal
import uuid

from hatui.lab import Lab
from hatui.lab.nodes import has_vip, start_hatui, vrrp_conf, wait_for


def test_a_tracked_process_going_away_puts_the_node_in_fault_and_back(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    exe = lab.workdir / f"tp-{uuid.uuid4().hex[:8]}"  # a unique process name
    shutil.copy("/bin/sleep", exe)
    proc = lab.spawn(a, [str(exe), "600"], log="tracked.log")
    block = f"vrrp_track_process svc {{\n    process {exe.name}\n}}\n"
    conf = vrrp_conf("a", 150, scripts=block).replace(
        "    virtual_ipaddress", "    track_process {\n        svc\n    }\n    virtual_ipaddress"
    )
    node = start_hatui(lab, a, conf=conf)
    wait_for(lambda: node.state() == "MASTER", 5, "MASTER while the process runs")
    lab.stop(proc, signal.SIGKILL)
    wait_for(lambda: node.state() == "FAULT", 3, "FAULT once the process is gone")
    assert not has_vip(lab, a)
    (tracker,) = [t for t in node.status()["trackers"] if t["kind"] == "process"]
    assert tracker["name"] == "svc" and tracker["ok"] is False
    lab.spawn(a, [str(exe), "600"], log="tracked-again.log")
    wait_for(lambda: node.state() == "MASTER", 5, "MASTER when it runs again")
