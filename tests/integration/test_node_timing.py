"""A master's advert period on the wire: 100 ms at 0.1 s, not 100 ms plus the loop's lateness."""

from __future__ import annotations

import itertools
import statistics
import subprocess
import time

from hatui.lab import Lab
from hatui.lab.nodes import flags, has_vip, start_hatui, wait_for
from tests.conftest import require, require_root


def test_advert_period_does_not_drift(lab: Lab) -> None:
    """The router re-arms its Adver_Timer from the time it fires (RFC 5798 6.4.3), so
    every wake-up's lateness adds to the period. asyncio's epoll loop rounds timeouts up
    to whole milliseconds: adverts came every ~101 ms. The serve loop must wake within
    a fraction of a millisecond, as keepalived's timerfd does (~100.15 ms here)."""
    require_root()
    require(subprocess.run(["which", "tcpdump"], capture_output=True).returncode == 0, "tcpdump")
    a = lab.add_host("a", 11)
    obs = lab.add_host("o", 9, silent=True)
    log = lab.workdir / "wire.txt"
    argv = ["tcpdump", "-i", "eth0", "-l", "-n", "-tt", "--immediate-mode", "vrrp"]
    lab.spawn(obs, argv, log=log.name)
    start_hatui(lab, a, flags(150))
    wait_for(lambda: has_vip(lab, a), 5, "a to become master")
    time.sleep(3.0)
    stamps = [
        float(line.split()[0])
        for line in log.read_text().splitlines()
        if " > 224.0.0.18: VRRPv3" in line and f" {a.ip} " in line
    ]
    periods = [(t2 - t1) * 1000 for t1, t2 in itertools.pairwise(stamps)][-25:]
    assert len(periods) >= 20, periods
    assert 99.7 <= statistics.median(periods) <= 100.5, periods
