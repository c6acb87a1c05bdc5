"""Reload (SIGHUP, `hatui ctl reload`) with a keepalived peer on the wire: no flap."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from hatui.lab import Lab, start_keepalived
from hatui.lab.nodes import Wire, has_vip, start_hatui, vrrp_conf, wait_for
from tests.conftest import require_keepalived

pytestmark = pytest.mark.netns


def conf(*instances: tuple[int, int, tuple[str, ...]]) -> str:
    """A keepalived.conf of (vrid, priority, VIPs) instances, v3 at 0.1 s."""
    blocks = []
    for vrid, prio, vips in instances:
        addrs = "\n".join(f"        {v}/24" for v in vips)
        blocks.append(
            f"vrrp_instance VI_{vrid} {{\n    state BACKUP\n    interface eth0\n"
            f"    virtual_router_id {vrid}\n    priority {prio}\n    advert_int 0.1\n"
            f"    virtual_ipaddress {{\n{addrs}\n    }}\n}}\n"
        )
    return "global_defs {\n    vrrp_version 3\n}\n" + "\n".join(blocks)


class VipWatch:
    """Polls a host's VIP every 10 ms in a thread: was it ever missing?"""

    def __init__(self, lab: Lab, host: object, vip: str) -> None:
        self.lab, self.host, self.vip = lab, host, vip
        self.missing = 0
        self.polls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.polls += 1
            if not has_vip(self.lab, self.host, self.vip):  # type: ignore[arg-type]
                self.missing += 1
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def test_reload_changes_priority_and_vips_without_a_flap(lab: Lab) -> None:
    require_keepalived()
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    o = lab.add_host("o", 9, silent=True)
    wire = Wire(lab, o)
    node = start_hatui(lab, a, conf=conf((51, 150, ("192.0.2.100",))))
    path = lab.workdir / "a-hatui.conf"
    start_keepalived(lab, b, vrrp_conf("b", 100))
    wait_for(lambda: node.state() == "MASTER", 10, "hatui MASTER")
    time.sleep(0.5)

    def adverts(since: float, prio: int | None = None) -> list[float]:
        return [
            p.t
            for p in wire.packets(since)
            if p.kind == "advert" and p.ip == a.ip and (prio is None or p.prio == prio)
        ]

    # 1. A higher priority: the next adverts carry it; nothing else happens.
    watch = VipWatch(lab, a, "192.0.2.100")
    t0 = time.time()
    path.write_text(conf((51, 160, ("192.0.2.100",))))
    out = node.ctl("reload")
    assert out.stdout.strip() == "reloaded: VI_51: updated"
    wait_for(lambda: adverts(t0, 160), 2, "adverts at priority 160")
    time.sleep(0.5)
    watch.stop()
    assert watch.polls > 20 and watch.missing == 0, "the VIP left during the reload"
    assert not adverts(t0, 0), "a priority 0 advert during a reload"
    assert not [p for p in wire.packets(t0) if p.kind == "garp" and p.mac == a.mac]
    assert node.state() == "MASTER" and not has_vip(lab, b)

    # 2. A broken config: the error names the line, the running config stays.
    path.write_text(conf((51, 160, ("192.0.2.100",))) + "vrrp_instance {\n")
    bad = node.ctl("reload", check=False)
    assert bad.returncode == 1 and f"{path}:" in bad.stderr, bad.stderr
    t1 = time.time()
    time.sleep(0.5)
    assert len(adverts(t1, 160)) >= 3 and node.state() == "MASTER"

    # 3. SIGHUP adds a VIP: on a master it is added at once, with its gratuitous ARPs.
    t2 = time.time()
    path.write_text(conf((51, 160, ("192.0.2.100", "192.0.2.101"))))
    node.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: has_vip(lab, a, "192.0.2.101"), 2, "the added VIP")
    wait_for(
        lambda: [p for p in wire.packets(t2) if p.kind == "garp" and p.ip == "192.0.2.101"],
        2,
        "a gratuitous ARP for the added VIP",
    )
    assert not [p for p in wire.packets(t2) if p.kind == "garp" and p.ip == "192.0.2.100"]
    # ... and removes one.
    path.write_text(conf((51, 160, ("192.0.2.100",))))
    assert "VI_51: updated" in node.ctl("reload").stdout
    assert not has_vip(lab, a, "192.0.2.101") and has_vip(lab, a, "192.0.2.100")

    # 4. A lower priority than the peer's: keepalived preempts, as RFC 5798 6.4.2 says.
    path.write_text(conf((51, 50, ("192.0.2.100",))))
    node.ctl("reload")
    wait_for(lambda: has_vip(lab, b) and not has_vip(lab, a), 3, "keepalived to preempt")
    causes = [t["detail"] for t in node.transitions()]
    assert causes[-1] == "MASTER -> BACKUP (higher priority advert from 192.0.2.12)", causes


def test_reload_adds_and_removes_instances(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    o = lab.add_host("o", 9, silent=True)
    wire = Wire(lab, o)
    node = start_hatui(lab, a, conf=conf((51, 150, ("192.0.2.100",))))
    path = lab.workdir / "a-hatui.conf"
    wait_for(lambda: node.state("VI_51") == "MASTER", 10, "VI_51 MASTER")
    path.write_text(conf((51, 150, ("192.0.2.100",)), (52, 150, ("192.0.2.102",))))
    assert node.ctl("reload").stdout.strip() == "reloaded: VI_52: added"
    wait_for(lambda: node.state("VI_52") == "MASTER", 5, "the new instance to start")
    assert node.state("VI_51") == "MASTER"
    t0 = time.time()
    path.write_text(conf((52, 150, ("192.0.2.102",))))
    assert node.ctl("reload").stdout.strip() == "reloaded: VI_51: removed"
    wait_for(lambda: not has_vip(lab, a), 2, "the removed instance's VIP to go")
    zero = [p for p in wire.packets(t0) if p.kind == "advert" and p.prio == 0]
    assert zero, "a removed master sends priority 0"
    assert has_vip(lab, a, "192.0.2.102") and node.state("VI_52") == "MASTER"
    # A change of identity (here the VRID) restarts the instance: it begins as BACKUP.
    path.write_text(conf((53, 150, ("192.0.2.102",))).replace("VI_53", "VI_52"))
    assert node.ctl("reload").stdout.strip() == "reloaded: VI_52: restarted"
    wait_for(lambda: node.status("VI_52")["vrid"] == 53, 2, "the restarted instance")
    wait_for(lambda: node.state("VI_52") == "MASTER", 5, "it to become master again")


def test_reload_retunes_the_nodes_kernel_filter(lab: Lab) -> None:
    """The node's capture keeps only its VRIDs: an instance added by a reload must hear its
    peers at once. Without the retune it would never hear VRID 52's master and take over."""
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    node = start_hatui(lab, a, conf=conf((51, 150, ("192.0.2.100",))))
    peer = start_hatui(lab, b, conf=conf((52, 200, ("192.0.2.102",))), wait=False)
    wait_for(lambda: peer.state("VI_52") == "MASTER", 10, "the VRID 52 peer")
    wait_for(lambda: node.state("VI_51") == "MASTER", 10, "VI_51 MASTER")
    time.sleep(1.2)  # the counter is refreshed every second
    assert node.status("VI_51")["counters"].get("frames_read", 0) == 0  # 52 filtered out
    path = lab.workdir / "a-hatui.conf"
    path.write_text(conf((51, 150, ("192.0.2.100",)), (52, 150, ("192.0.2.102",))))
    assert node.ctl("reload").stdout.strip() == "reloaded: VI_52: added"
    wait_for(lambda: node.state("VI_52") == "BACKUP", 2, "the new instance in BACKUP")
    for _ in range(10):  # three Master_Down_Intervals (0.36 s): it hears the peer
        time.sleep(0.1)
        assert node.state("VI_52") == "BACKUP" and not has_vip(lab, a, "192.0.2.102")
    assert peer.state("VI_52") == "MASTER"
    wait_for(lambda: node.status("VI_51")["counters"].get("frames_read", 0) > 0, 3, "reads")
