"""Two hatui nodes in a lab: crash, clean stop, SIGHUP (reload), leftover VIPs, preempt back."""

from __future__ import annotations

import signal
import time

from hatui.lab import Lab
from hatui.lab.nodes import (
    VIP,
    flags,
    has_vip,
    start_hatui,
    start_observer,
    wait_for,
)
from tests.conftest import require_root

# RFC 5798 6.1 at 0.1 s: Skew_Time = (256 - P) * 100 ms / 256, Master_Down = 3 * 100 ms + Skew.
SKEW_100_MS = 60.9
MASTER_DOWN_100_MS = 360.9
SKEW_50_MS = 80.5


def test_sigkill_failover_leftover_vip_and_sighup(lab: Lab) -> None:
    require_root()
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    obs = start_observer(lab)
    na = start_hatui(lab, a, flags(150))
    nb = start_hatui(lab, b, flags(100))
    wait_for(lambda: has_vip(lab, a), 5, "a to become master")
    assert nb.state() == "BACKUP" and not has_vip(lab, b)

    # A crash: nothing is sent; b takes over after its Master_Down_Interval.
    obs.mark()
    na.proc.send_signal(signal.SIGKILL)
    na.proc.wait(5)
    fo = obs.wait("master_change", "b to take over", to=b.ip)
    assert (fo["from"], fo["cause"]) == (a.ip, "timeout"), fo
    assert MASTER_DOWN_100_MS - 15 <= fo["gap_ms"] <= MASTER_DOWN_100_MS + 100, fo
    garp = obs.wait("arp_owner_change", "b's gratuitous ARP", ip=VIP, mac=b.mac)
    assert garp["gratuitous"] is True and garp["old_mac"] == a.mac
    assert not obs.since("release"), "a SIGKILLed node sent priority 0"
    wait_for(lambda: has_vip(lab, b), 2, "the VIP on b")
    assert has_vip(lab, a), "a crash leaves the VIP behind (it is what the next start cleans)"

    # The next start removes the leftover before anything else, and (priority 50) stays backup.
    na = start_hatui(lab, a, flags(50), tag="hatui2")
    assert not has_vip(lab, a)
    out = na.output()
    removed = out.find(f"removed leftover VIP {VIP}")
    first = out.find('"node_transition"')
    assert 0 <= removed < first, out
    assert na.state() == "BACKUP" and has_vip(lab, b)

    # SIGHUP to a headless node is keepalived's reload, never a stop: with no config
    # file to re-read it says so and goes on holding the VIP. SIGINT is the clean stop.
    obs.mark()
    nb.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert nb.proc.poll() is None and nb.state() == "MASTER" and not obs.since("release")
    assert "reload failed, the running config stays" in nb.output()
    nb.proc.send_signal(signal.SIGINT)
    assert nb.proc.wait(5) == 0, nb.output()
    rel = obs.wait("release", "b's priority 0 advert", ip=b.ip)
    assert rel["priority"] == 0
    assert not has_vip(lab, b)
    fo = obs.wait("master_change", "a to take over", to=a.ip)
    assert fo["cause"] == "release", fo
    # A backup hearing priority 0 takes over after Skew_Time (RFC 5798 6.4.2).
    assert SKEW_50_MS - 10 <= fo["gap_ms"] <= SKEW_50_MS + 40, fo
    wait_for(lambda: has_vip(lab, a), 2, "the VIP on a")


def test_sigterm_release_then_preempt_back(lab: Lab) -> None:
    require_root()
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    obs = start_observer(lab)
    na = start_hatui(lab, a, flags(150))
    nb = start_hatui(lab, b, flags(100))
    wait_for(lambda: has_vip(lab, a), 5, "a to become master")

    obs.mark()
    na.proc.send_signal(signal.SIGTERM)
    assert na.proc.wait(5) == 0, na.output()
    assert not has_vip(lab, a), "a clean stop left the VIP"
    rel = obs.wait("release", "a's priority 0 advert", ip=a.ip)
    assert rel["priority"] == 0
    fo = obs.wait("master_change", "b to take over", to=b.ip)
    assert (fo["from"], fo["cause"]) == (a.ip, "release"), fo
    assert SKEW_100_MS - 10 <= fo["gap_ms"] <= SKEW_100_MS + 40, fo
    wait_for(lambda: has_vip(lab, b), 2, "the VIP on b")
    stops = [t["detail"] for t in na.transitions()]
    assert stops and stops[-1].startswith("MASTER -> INIT"), stops

    # Back with a higher priority: it hears b's lower priority and preempts (RFC 5798 6.4.2).
    obs.mark()
    na = start_hatui(lab, a, flags(200), tag="hatui2")
    fo = obs.wait("master_change", "a to preempt back", to=a.ip)
    assert fo["cause"] == "preempt", fo
    wait_for(lambda: has_vip(lab, a) and not has_vip(lab, b), 2, "the VIP back on a only")
    assert nb.state() == "BACKUP"
    assert na.status()["effective_priority"] == 200
