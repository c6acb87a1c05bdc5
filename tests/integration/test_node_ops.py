"""Operating a live node: nopreempt, track_script weights, and `hatui ctl` commands."""

from __future__ import annotations

import time

from hatui.lab import Lab, start_keepalived
from hatui.lab.nodes import (
    VIP,
    HatuiNode,
    Observer,
    flags,
    has_vip,
    start_hatui,
    start_observer,
    vrrp_conf,
    wait_for,
)
from tests.conftest import require_keepalived, require_root

MASTER_DOWN_100_MS = 360.9  # RFC 5798 6.1: 3 * 100 ms + (256 - 100) * 100 ms / 256
SKEW_100_MS = 60.9


def test_nopreempt_returning_higher_priority_stays_backup(lab: Lab) -> None:
    require_root()
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    obs = start_observer(lab)
    start_hatui(lab, b, flags(100))
    wait_for(lambda: has_vip(lab, b), 5, "b to become master")
    conf = vrrp_conf("a", 150, nopreempt=True)
    na = start_hatui(lab, a, conf=conf)
    assert na.status()["preempt"] is False
    time.sleep(1.0)  # well past a's Master_Down_Interval (341 ms), ten of b's adverts
    assert na.state() == "BACKUP" and has_vip(lab, b) and not has_vip(lab, a)
    assert not obs.events("master_change"), obs.events("master_change")
    # The same node without nopreempt takes over: the test above could have failed.
    na.lab.stop(na.proc)
    start_hatui(lab, a, flags(150), tag="hatui2")
    obs.wait("master_change", "a to preempt without nopreempt", to=a.ip, cause="preempt")


def test_track_script_weight_moves_mastership(lab: Lab) -> None:
    require_keepalived()
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    obs = start_observer(lab)
    flag = lab.workdir / "maintenance"
    scripts = (
        "vrrp_script chk_maint {\n"
        f'    script "/usr/bin/test ! -e {flag}"\n'
        "    interval 1\n"
        "    weight -60\n"
        "}\n"
    )
    na = start_hatui(lab, a, conf=vrrp_conf("a", 150, scripts=scripts, track_scripts=["chk_maint"]))
    start_keepalived(lab, b, vrrp_conf("b", 100))
    wait_for(lambda: has_vip(lab, a) and na.state() == "MASTER", 5, "a to become master")

    # The check fails: 150 - 60 = 90 < keepalived's 100, which preempts (RFC 5798 6.4.2).
    obs.mark()
    flag.touch()
    wait_for(lambda: na.status()["effective_priority"] == 90, 4, "the weight to apply")
    fo = obs.wait("master_change", "keepalived to preempt", timeout=4, to=b.ip)
    assert fo["cause"] == "preempt", fo
    wait_for(lambda: has_vip(lab, b) and not has_vip(lab, a), 2, "the VIP on b only")
    trackers = na.status()["trackers"]
    assert [(t["name"], t["ok"], t["contribution"]) for t in trackers] == [
        ("chk_maint", False, -60)
    ]

    # The check passes again: back to 150, a preempts keepalived.
    obs.mark()
    flag.unlink()
    fo = obs.wait("master_change", "a to preempt back", timeout=4, to=a.ip)
    assert fo["cause"] == "preempt", fo
    assert na.status()["effective_priority"] == 150


def _ctl(node: HatuiNode, *args: str) -> None:
    done = node.ctl(*args, check=False)
    assert done.returncode == 0, done.stderr


def _back_to_a(lab: Lab, obs: Observer, na: HatuiNode) -> None:
    obs.mark()
    _ctl(na, "resume", "VI_51")
    fo = obs.wait("master_change", "resume to preempt back", timeout=3, to=na.host.ip)
    assert fo["cause"] == "preempt", fo
    wait_for(lambda: has_vip(lab, na.host), 2, "the VIP back on a")
    st = na.status()
    assert (st["override"], st["hold"], st["paused"]) == (None, False, False), st


def test_ctl_priority_release_pause_resume(lab: Lab) -> None:
    require_keepalived()
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    obs = start_observer(lab)
    na = start_hatui(lab, a, flags(150))
    start_keepalived(lab, b, vrrp_conf("b", 100))
    wait_for(lambda: has_vip(lab, a) and na.state() == "MASTER", 5, "a to become master")

    # priority: the override is advertised; keepalived (100) preempts the lower 50.
    obs.mark()
    _ctl(na, "priority", "VI_51", "50")
    change = obs.wait("priority_change", "priority 50 on the wire", ip=a.ip)
    assert change["new"] == "50", change
    fo = obs.wait("master_change", "keepalived to preempt", to=b.ip)
    assert fo["cause"] == "preempt", fo
    st = na.status()
    assert (st["override"], st["effective_priority"], st["state"]) == (50, 50, "BACKUP"), st
    _back_to_a(lab, obs, na)

    # release: priority 0 at once, keepalived takes over after its Skew_Time, a holds back.
    obs.mark()
    _ctl(na, "release", "VI_51")
    rel = obs.wait("release", "a's priority 0", ip=a.ip)
    assert rel["priority"] == 0
    fo = obs.wait("master_change", "keepalived to take over", to=b.ip)
    assert fo["cause"] == "release", fo
    assert SKEW_100_MS - 10 <= fo["gap_ms"] <= SKEW_100_MS + 30, fo
    time.sleep(0.5)  # a (150) hears keepalived (100) and still does not preempt: held
    st = na.status()
    assert (st["state"], st["hold"], st["vips_held"]) == ("BACKUP", True, False), st
    assert not has_vip(lab, a) and has_vip(lab, b)
    _back_to_a(lab, obs, na)

    # pause: silence, no priority 0; keepalived takes over after Master_Down_Interval.
    obs.mark()
    _ctl(na, "pause", "VI_51")
    fo = obs.wait("master_change", "keepalived to take over", to=b.ip)
    assert fo["cause"] == "timeout", fo
    assert MASTER_DOWN_100_MS - 15 <= fo["gap_ms"] <= MASTER_DOWN_100_MS + 60, fo
    assert not obs.since("release"), "pause sent priority 0"
    st = na.status()
    assert (st["paused"], st["vips_held"]) == (True, False), st
    assert not has_vip(lab, a)
    obs.wait("arp_owner_change", "keepalived's gratuitous ARP", ip=VIP, mac=b.mac)
    _back_to_a(lab, obs, na)
