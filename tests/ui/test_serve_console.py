"""The serving console never holds up its node: the node is a child process that keeps its
timers whatever the terminal does, and stops cleanly (priority 0) when the console goes."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import shutil
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hatui.adapters.control import request
from hatui.lab import Lab, start_keepalived
from hatui.lab.nodes import (
    flags,
    has_vip,
    start_hatui,
    start_observer,
    vrrp_conf,
    wait_for,
)
from tests.conftest import require
from tests.ui.ptyconsole import PtyConsole, alive

pytestmark = [pytest.mark.netns, pytest.mark.slow]


def node_status(path: str) -> dict[str, Any]:
    reply = asyncio.run(request(path, {"cmd": "status"}, timeout=5))
    assert reply.get("ok"), reply
    status: dict[str, Any] = reply["status"]
    return status


def states(path: str) -> dict[str, str]:
    """Each instance's state. The full status costs the node tens of milliseconds at 255
    instances: ask twice a second, not at wait_for's 100 Hz."""
    time.sleep(0.5)
    try:
        return {i["name"]: i["state"] for i in node_status(path)["instances"]}
    except Exception:
        return {}


def test_a_stalled_terminal_never_stops_the_node(lab: Lab) -> None:
    require(shutil.which("keepalived") is not None, "needs keepalived")
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    obs = start_observer(lab)
    start_keepalived(lab, b, vrrp_conf("VI_51", 100))
    console = PtyConsole(lab, a, [*flags(150), "--control", str(lab.workdir / "a.sock")])
    console.start()
    try:
        wait_for(lambda: has_vip(lab, a) and not has_vip(lab, b), 15, "the console's node: MASTER")
        wait_for(lambda: console.received > 2000, 5, "the console to draw")
        (node,) = console.node_pids()
        obs.mark()
        console.stall()
        end = time.monotonic() + 15
        while time.monotonic() < end:
            assert has_vip(lab, a), "the node lost its VIP while the terminal was stalled"
            assert not has_vip(lab, b), "keepalived took over: the node stopped advertising"
            time.sleep(0.05)
        # The terminal really is stalled: the console's output sits unread in the pty.
        assert console.unread() > 1000
        assert not obs.since("stale") and not obs.since("master_change"), obs.since()
        assert alive(node)
        console.resume()
        console.signal(signal.SIGTERM)
        wait_for(lambda: not alive(node), 10, "the node child to stop with the console")
        wait_for(lambda: has_vip(lab, b), 5, "keepalived to take over after priority 0")
        assert not has_vip(lab, a)
        assert console.proc is not None and console.proc.wait(10) == 0
    finally:
        console.close()


def test_a_killed_console_still_stops_its_node_with_priority_zero(lab: Lab) -> None:
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    peer = start_hatui(lab, b, flags(100))
    console = PtyConsole(lab, a, [*flags(150), "--control", str(lab.workdir / "a.sock")])
    console.start()
    try:
        wait_for(lambda: has_vip(lab, a), 15, "the console's node to become master")
        (node,) = console.node_pids()
        console.signal(signal.SIGKILL)  # the OOM killer: no chance to clean up
        wait_for(lambda: not alive(node), 5, "the orphaned node to stop (PR_SET_PDEATHSIG)")
        assert not has_vip(lab, a)
        wait_for(lambda: has_vip(lab, b), 5, "the peer to take over")
        released = [
            t
            for t in peer.transitions()
            if "master 192.0.2.11 released (priority 0)" in t["detail"]
        ]
        assert released, peer.transitions()
    finally:
        console.close()


def policies(pid: int) -> set[int]:
    """The scheduling policies of every thread of `pid`."""
    return {os.sched_getscheduler(int(t.name)) for t in Path(f"/proc/{pid}/task").iterdir()}


def autogroup(pid: int) -> str:
    """`/autogroup-N`: the kernel's scheduling group of `pid`'s session."""
    return Path(f"/proc/{pid}/autogroup").read_text().split()[0]


def test_the_console_and_the_lan_view_run_behind_the_node_in_its_scheduling_group(
    lab: Lab,
) -> None:
    a = lab.add_host("a", 11)
    console = PtyConsole(lab, a, [*flags(150), "--control", str(lab.workdir / "a.sock")])
    console.start()
    try:
        wait_for(lambda: has_vip(lab, a), 15, "the console's node: MASTER")
        assert console.proc is not None
        (node,) = console.node_pids()
        views = []
        wait_for(lambda: views.extend(lan_view_pids(node)) or views, 5, "the LAN view")
        # SCHED_IDLE gives way to a waking normal task only within one scheduling group
        # (autogroup: one per session), so the node shares the console's session...
        assert autogroup(node) == autogroup(console.proc.pid) == autogroup(views[0])
        assert policies(node) == {os.SCHED_OTHER}
        assert policies(console.proc.pid) == {os.SCHED_IDLE}
        # (the LAN view is set so by its node right after exec: allow for that moment)
        wait_for(lambda: policies(views[0]) == {os.SCHED_IDLE}, 5, "the LAN view: SCHED_IDLE")
        # ...in a process group of its own: the terminal's signals (here a hang-up, sent
        # as the kernel sends it, to the foreground group) reach the console alone,
        # which stops the node cleanly.
        assert os.getpgid(node) == node != os.getpgid(console.proc.pid)
        os.killpg(os.getpgid(console.proc.pid), signal.SIGHUP)
        assert console.proc.wait(10) == 0
        assert not alive(node) and not has_vip(lab, a)
    finally:
        console.close()


def lan_view_pids(node: int) -> list[int]:
    out = []
    for kid in Path(f"/proc/{node}/task/{node}/children").read_text().split():
        with contextlib.suppress(FileNotFoundError):
            if b"--lan-view" in Path(f"/proc/{kid}/cmdline").read_bytes():
                out.append(int(kid))
    return out


def many_conf(count: int, priority: int, advert_int: str = "0.1") -> str:
    blocks = ["global_defs {\n    vrrp_version 3\n}\n"]
    for v in range(1, count + 1):
        blocks.append(
            f"vrrp_instance VI_{v} {{\n    state BACKUP\n    interface eth0\n"
            f"    virtual_router_id {v}\n    priority {priority}\n    advert_int {advert_int}\n"
            f"    virtual_ipaddress {{\n        198.51.100.{v}/24\n    }}\n}}\n"
        )
    return "\n".join(blocks)


def vips_on(lab: Lab, host: Any) -> int:
    return sum(1 for addr in lab.addresses(host) if addr.startswith("198.51.100."))


def test_255_instances_keep_time_while_the_console_is_busy(lab: Lab) -> None:
    require(shutil.which("tcpdump") is not None, "needs tcpdump")
    a = lab.add_host("a", 11)
    o = lab.add_host("o", 9, silent=True)
    conf = lab.workdir / "a.conf"
    conf.write_text(many_conf(255, 100))
    control = str(lab.workdir / "a.sock")
    console = PtyConsole(lab, a, ["-c", str(conf), "--control", control])
    console.start()
    try:
        wait_for(lambda: set(states(control).values()) == {"MASTER"}, 20, "255 MASTERs")
        assert len(states(control)) == 255 and vips_on(lab, a) == 255
        # The wire, from a silent host: VRID 128's adverts while the console works hard.
        dump = lab.spawn(
            o,
            ["tcpdump", "-i", "eth0", "-n", "-tt", "-l", "--immediate-mode",
             "ip proto 112 and ip[21] == 128"],
            log="vrid128.txt",
        )  # fmt: skip
        time.sleep(1.0)
        for keys in ["o", "\x1b[B" * 40, "o", "m", "m", "r", "\x1b", "?", "\x1b", "\x1b[A" * 40]:
            console.type(keys)
            time.sleep(0.4)
        time.sleep(1.0)
        lab.stop(dump, signal.SIGINT)
        stamps = [
            float(m[1])
            for line in (lab.workdir / "vrid128.txt").read_text().splitlines()
            if (m := re.match(r"^(\d+\.\d+) IP 192\.0\.2\.11 > 224\.0\.0\.18", line))
        ]
        gaps = [y - x for x, y in itertools.pairwise(stamps)]
        assert len(stamps) >= 50, stamps
        # Generous: a missed advert would be a 200 ms gap; Master_Down is 360 ms.
        assert max(gaps) < 0.18, max(gaps)
        (node,) = console.node_pids()
        console.type("q")
        wait_for(lambda: not alive(node), 15, "the node to stop when the console quits")
        assert console.proc is not None and console.proc.wait(10) == 0
        assert vips_on(lab, a) == 0  # priority 0 sent and every VIP removed
    finally:
        console.close()


def test_255_instances_all_hand_over_to_a_higher_priority_keepalived(lab: Lab) -> None:
    """At 1 s: keepalived 2.2.7 itself cannot take 255 VRIDs at 0.1 s over from a running
    master on a shared 2-core machine (its timers starve on 2,550 lower-priority adverts a
    second: "A thread timer expired"), whoever that master is, keepalived included."""
    require(shutil.which("keepalived") is not None, "needs keepalived")
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    node = start_hatui(lab, a, conf=many_conf(255, 100, "1"))
    control = str(node.control)
    wait_for(lambda: set(states(control).values()) == {"MASTER"}, 20, "255 MASTERs")
    assert len(states(control)) == 255 and vips_on(lab, a) == 255
    start_keepalived(lab, b, many_conf(255, 200, "1"), detail=False)
    seen: list[Counter[str]] = []

    def all_backup() -> bool:
        seen.append(Counter(states(control).values()))
        return seen[-1] == Counter({"BACKUP": 255})

    try:
        wait_for(all_backup, 30, "255 BACKUPs")
    except AssertionError:
        raise AssertionError(f"states: {seen[-3:]}") from None
    wait_for(lambda: vips_on(lab, a) == 0 and vips_on(lab, b) == 255, 10, "every VIP on b")
    causes = {t["detail"] for t in node.transitions() if t["detail"].startswith("MASTER -> ")}
    assert causes == {"MASTER -> BACKUP (higher priority advert from 192.0.2.12)"}, causes
