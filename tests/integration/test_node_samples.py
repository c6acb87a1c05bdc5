"""keepalived's sample shapes run as a hatui node with keepalived as the peer.

The samples whose interfaces a lab host has (eth0 only): the textbook pair (v2, PASS
authentication, three VIPs) and the scripts sample (checks with weights). The same file
runs on both sides, the peer's priority lowered.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from hatui.lab import Lab, start_keepalived
from hatui.lab.nodes import start_hatui, start_observer, wait_for
from tests.conftest import require_keepalived

SAMPLES = Path(__file__).parents[1] / "config" / "samples"


@pytest.mark.parametrize("sample", ["sample.conf", "vrrp.scripts.conf"])
def test_sample_runs_against_keepalived_both_ways(lab: Lab, sample: str) -> None:
    require_keepalived()
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    obs = start_observer(lab)
    text = (SAMPLES / sample).read_text()
    node = start_hatui(lab, a, conf=text, wait=False)  # its instance is VI_1, not VI_51
    wait_for(lambda: node.state("VI_1") is not None, 10, "hatui to start")
    start_keepalived(lab, b, text.replace("priority 100", "priority 50"))
    obs.wait("new_router", "hatui to lead", timeout=10, ip=a.ip)
    wait_for(lambda: "192.0.2.16/" in lab.sh(a, "ip -o addr show dev eth0"), 5, "hatui's VIP")
    assert node.state("VI_1") == "MASTER"
    assert not obs.events("split_brain") and not obs.events("mismatch"), obs.events()
    obs.mark()
    node.proc.send_signal(signal.SIGTERM)
    assert node.proc.wait(10) == 0, node.output()
    fo = obs.wait("master_change", "keepalived to take over", timeout=10, to=b.ip)
    assert fo["cause"] == "release"
    wait_for(lambda: "192.0.2.16/" in lab.sh(b, "ip -o addr show dev eth0"), 5, "keepalived's VIP")
