"""A serving node's LAN view runs in its own process: the node hears only its own VRIDs,
the LAN view hears everything, and neither one's death or load stops the other's work."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from hatui.adapters.control import request
from hatui.lab import Lab
from hatui.lab.nodes import HatuiNode, flags, start_hatui, wait_for
from hatui.runtime.lanproc import NICE, RESTART_S
from tests.ui.ptyconsole import alive


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(x) for x in text.split()]


def lan_views(node: HatuiNode) -> list[int]:
    out = []
    for child in children(node.proc.pid):
        try:
            argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        if b"--lan-view" in argv:
            out.append(child)
    return out


def nice_of(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])  # field 19 of stat; fields[0] is field 3


def test_the_node_reads_only_its_vrids_and_the_lan_view_everything(lab: Lab) -> None:
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    node = start_hatui(lab, a, flags(150))  # VRID 51
    other = start_hatui(lab, b, flags(150, vrid=52), wait=False)  # another router, same LAN
    both = lambda: node.state() == "MASTER" and other.state("VI_52") == "MASTER"  # noqa: E731
    wait_for(both, 10, "both masters")
    (view,) = lan_views(node)
    assert os.sched_getscheduler(view) == os.SCHED_IDLE and nice_of(view) == NICE
    assert os.sched_getscheduler(node.proc.pid) == os.SCHED_OTHER and nice_of(node.proc.pid) == 0
    time.sleep(1.5)  # 15 of VRID 52's adverts, and a drop/read count in between
    status = node.status()
    # Its kernel filter let none of VRID 52's adverts through (nor its own)...
    assert status["counters"].get("frames_read", 0) == 0, status["counters"]
    # ...while its LAN view (`ctl status`'s observer) heard both routers.
    reply = asyncio.run(request(str(node.control), {"cmd": "status"}, timeout=3))
    routers = {r["vrid"]: r["master"]["ip"] for r in reply["status"]["observer"]["routers"]}
    assert routers == {51: "192.0.2.11", 52: "192.0.2.12"}
    # The other side of the filter: a peer on VRID 51 is heard, and wins.
    peer = start_hatui(lab, b, flags(200), tag="peer")
    wait_for(lambda: node.state() == "BACKUP", 5, "the node to hear the VRID 51 peer")
    wait_for(lambda: node.status()["counters"].get("frames_read", 0) > 0, 3, "frames read")
    assert peer.state() == "MASTER"


def test_a_lan_view_that_dies_comes_back_and_the_node_never_notices(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    node = start_hatui(lab, a, flags(150))
    wait_for(lambda: node.state() == "MASTER", 5, "MASTER")
    (view,) = lan_views(node)
    sent = node.status()["counters"]["adverts_out"]
    os.kill(view, signal.SIGKILL)
    wait_for(lambda: lan_views(node) not in ([], [view]), RESTART_S + 10, "a new LAN view")
    status = node.status()
    assert status["state"] == "MASTER"
    # Adverts kept their pace meanwhile (0.1 s: 10/s; generous bound).
    assert status["counters"]["adverts_out"] - sent >= 10 * RESTART_S * 0.8
    assert "LAN view" in node.output() and "restarting" in node.output()


def test_a_killed_node_takes_its_lan_view_along(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    node = start_hatui(lab, a, flags(150))
    (view,) = lan_views(node)
    node.proc.kill()
    node.proc.wait(5)
    wait_for(lambda: not alive(view), 5, "the LAN view to stop with its node")
