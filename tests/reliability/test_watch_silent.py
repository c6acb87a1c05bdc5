"""Promise 1: watch and read modes never transmit, not one frame, on any interface.

The import contract (the watch path cannot load transmit or netlink) is
tests/test_layers.py; the counter check against a keepalived failover is
tests/integration/test_watch_keepalived.py. Here the observer's outbound traffic is also
captured (`tcpdump -Q out`, every protocol) while hatui watches a failover and replays it.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time

from hatui.lab import Lab
from hatui.lab.faults import figure, outbound_capture, start_node
from hatui.lab.nodes import flags, has_vip, wait_for
from tests.conftest import require, require_root

HATUI = [sys.executable, "-m", "hatui"]


def _frames(pcap: str) -> int:
    out = subprocess.run(["tcpdump", "-r", pcap, "-n"], capture_output=True, text=True)
    return len([line for line in out.stdout.splitlines() if line.strip()])


def test_watch_and_read_send_nothing(lab: Lab) -> None:
    require_root()
    require(shutil.which("tcpdump") is not None, "needs tcpdump")
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    o = lab.add_host("o", 9, silent=True)
    out_pcap = lab.workdir / "observer-out.pcap"
    all_pcap = lab.workdir / "observer-all.pcap"
    dump_out = outbound_capture(lab, o, out_pcap)
    dump_all = lab.spawn(o, ["tcpdump", "-i", "eth0", "-U", "-Z", "root", "-w", str(all_pcap)])
    tx0 = lab.tx_packets(o)
    watch = lab.spawn(o, [*HATUI, "--watch", "eth0", "--headless", "--json", "--duration", "4"])
    na = start_node(lab, a, flags(150))
    start_node(lab, b, flags(100))
    wait_for(lambda: has_vip(lab, a), 5, "a master")
    na.proc.send_signal(signal.SIGKILL)  # a failover while watching
    wait_for(lambda: has_vip(lab, b), 3, "b master")
    assert watch.wait(15) == 0
    # And a replay of what it saw, in the same namespace.
    time.sleep(0.2)
    lab.stop(dump_all, signal.SIGINT)
    replay = subprocess.run(
        o.argv([*HATUI, "--read", str(all_pcap), "--json"]), capture_output=True, timeout=30
    )
    assert replay.returncode == 0, replay.stderr
    time.sleep(0.2)
    lab.stop(dump_out, signal.SIGINT)
    seen, sent = _frames(str(all_pcap)), _frames(str(out_pcap))
    figure("watch_frames_seen", seen)
    figure("watch_frames_sent", sent)
    assert seen > 20, "the capture saw the failover"
    assert sent == 0, "the observer transmitted"
    assert lab.tx_packets(o) == tx0, "the observer's eth0 TX counter moved"
