"""Live watch on a LAN of other vendors: HSRP and CARP frames sent in a namespace lab reach
`hatui --watch` through its kernel filter, an HSRP active change is a failover with its
gap, and the watcher's interface transmits nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from hatui.codec.build import build_carp_frame, build_hsrp_frame
from hatui.codec.frames import HsrpState
from hatui.lab import Host, Lab
from tests.conftest import require_root

HELLO_S = 0.1
SENDER = """
import socket, sys, time
plan = [(float(t), bytes.fromhex(h)) for t, h in (x.split(':') for x in sys.argv[2:])]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
start = float(sys.argv[1])
for t, frame in plan:
    time.sleep(max(0.0, start + t - time.time()))
    s.send(frame)
"""


def hsrp(host: Host, state: HsrpState, priority: int) -> bytes:
    mac = "00:00:0c:9f:f0:07" if state is HsrpState.ACTIVE else host.mac
    return build_hsrp_frame(
        src_mac=mac, src_ip=host.ip, version=2, group=7, state=state, priority=priority,
        hello_ms=100, hold_ms=300, vip="192.0.2.1",
    )  # fmt: skip


def send(lab: Lab, host: Host, start: float, plan: list[tuple[float, bytes]]) -> None:
    args = [f"{t:.3f}:{frame.hex()}" for t, frame in plan]
    lab.spawn(host, [sys.executable, "-c", SENDER, f"{start:.3f}", *args])


def test_watch_reads_hsrp_and_carp_live_and_never_transmits(lab: Lab) -> None:
    require_root()
    a, b, c = lab.add_host("a", 11), lab.add_host("b", 12), lab.add_host("c", 13)
    obs = lab.add_host("o", 9, silent=True)
    watch = subprocess.Popen(
        obs.argv(
            [sys.executable, "-m", "hatui", "--watch", "eth0", "--headless", "--json",
             "--duration", "3.5"]
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    lab.procs.append(watch)  # type: ignore[arg-type]
    time.sleep(1.0)
    tx_before = lab.tx_packets(obs)
    start = time.time() + 0.3
    steps = [i * HELLO_S for i in range(21)]  # 2 s of hellos
    # a is active until 1.0 s and falls silent; b, standby, says Active when its 300 ms
    # hold time runs out.
    send(lab, a, start, [(t, hsrp(a, HsrpState.ACTIVE, 120)) for t in steps if t <= 1.0])
    send(
        lab,
        b,
        start,
        [(t + 0.05, hsrp(b, HsrpState.STANDBY, 100)) for t in steps if t <= 1.0]
        + [(t, hsrp(b, HsrpState.ACTIVE, 100)) for t in steps if t >= 1.3],
    )
    carp = build_carp_frame(src_mac="00:00:5e:00:01:09", src_ip=c.ip, vhid=9)
    send(lab, c, start, [(t, carp) for t in steps[::5]])
    out, err = watch.communicate(timeout=20)
    assert watch.returncode == 0, err
    assert lab.tx_packets(obs) == tx_before, "the watcher's interface transmitted"
    doc = json.loads(out.splitlines()[-1])
    by = {(r["protocol"], r["vrid"]): r for r in doc["routers"]}
    hsrp_row = by[("hsrp", 7)]
    assert hsrp_row["master"]["ip"] == b.ip and hsrp_row["vips"] == ["192.0.2.1"]
    assert (hsrp_row["advert_interval_ms"], hsrp_row["hold_ms"]) == (100, 300)
    (fo,) = [f for f in doc["failovers"] if f["protocol"] == "hsrp"]
    assert (fo["from"], fo["to"], fo["cause"]) == (a.ip, b.ip, "timeout")
    assert 200 <= fo["gap_ms"] <= 600, fo  # 300 ms scripted; generous for a loaded machine
    assert by[("carp", 9)]["master"]["ip"] == c.ip
    assert doc["counters"]["hsrp"] >= 30 and doc["counters"]["carp"] >= 4
