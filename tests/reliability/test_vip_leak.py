"""Promise 2: no VIP leaked, none lost, on every way a node can stop.

SIGTERM, SIGHUP and SIGKILL (plus the next start's cleanup) are proven in
tests/integration/test_node_pair.py; this adds SIGINT and exceptions inside the runtime
(injected by tests/reliability/inject.py, with no hook in production code).
"""

from __future__ import annotations

import signal
import sys
import time

import pytest

from hatui.lab import Lab
from hatui.lab.faults import figure, master_down_s, start_node
from hatui.lab.nodes import VIP, flags, has_vip, start_observer, wait_for
from tests.conftest import require_root

# RFC 5798 6.4.2: a backup hearing priority 0 takes over after Skew_Time (60.9 ms at P=100).
SKEW_100_MS = 60.9


def test_sigint_is_a_clean_stop(lab: Lab) -> None:
    require_root()
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    obs = start_observer(lab)
    na = start_node(lab, a, flags(150))
    start_node(lab, b, flags(100))
    wait_for(lambda: has_vip(lab, a), 5, "a to become master")
    obs.mark()
    na.proc.send_signal(signal.SIGINT)
    assert na.proc.wait(5) == 0, na.output()
    assert not has_vip(lab, a), "SIGINT left the VIP"
    assert obs.wait("release", "a's priority 0 advert", ip=a.ip)["priority"] == 0
    fo = obs.wait("master_change", "b to take over", to=b.ip)
    assert fo["cause"] == "release" and fo["gap_ms"] <= SKEW_100_MS + 60, fo
    figure("sigint_release_takeover_ms", fo["gap_ms"], "ms")
    wait_for(lambda: has_vip(lab, b), 2, "the VIP on b")


# A frame for the node's VRID 51 that fails the RFC's TTL check, every 0.1 s for 10 s: the
# node's kernel filter lets it through (its VRID), and no router takes it for an advert.
OTHER_ROUTER = """
import socket, sys, time
from hatui.codec.build import build_vrrp_frame
frame = build_vrrp_frame(src_mac=sys.argv[1], src_ip="192.0.2.13", vrid=51, interval_cs=10,
                         addresses=["192.0.2.100"], ttl=64)
with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
    s.bind(("eth0", 0))
    for _ in range(100):
        s.send(frame)
        time.sleep(0.1)
"""


@pytest.mark.parametrize("where", ["timer", "frame"])
def test_exception_in_the_runtime_stops_cleanly(lab: Lab, where: str) -> None:
    """A bug that raises inside a loop callback must not leave a silent node holding the VIP.

    asyncio only logs callback exceptions: before the fix in hatui/runtime/serve.py the
    master kept the VIP with its timer gone, the backup took over, and both held it."""
    require_root()
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    obs = start_observer(lab)
    obs.mark()
    na = start_node(lab, a, flags(150), inject=where)
    start_node(lab, b, flags(100))
    if where == "frame":
        # A node's capture leaves out its own adverts and other VRIDs: this one reaches it.
        c = lab.add_host("c", 13)
        lab.spawn(c, [sys.executable, "-c", OTHER_ROUTER, c.mac])
    t0 = time.monotonic()
    assert na.proc.wait(10) == 1, na.output()
    out = na.output()
    assert "InjectedFault" in out and "stopped after an internal error" in out, out
    assert not has_vip(lab, a), "the failed node left its VIP"
    fo = obs.wait("master_change", "b to take over", to=b.ip, timeout=master_down_s(100) + 2)
    wait_for(lambda: has_vip(lab, b), 2, "the VIP on b")
    figure(f"exception_{where}_exit_s", round(time.monotonic() - t0, 2), "s")
    figure(f"exception_{where}_takeover_gap_ms", fo["gap_ms"], "ms")
    # It said goodbye (priority 0) rather than going silent.
    assert obs.since("release"), obs.since()
    assert fo["cause"] == "release", fo
    assert not has_vip(lab, a) and has_vip(lab, b, VIP)
