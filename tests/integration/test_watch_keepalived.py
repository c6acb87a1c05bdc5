"""Live watch against a real keepalived pair: the observer sees the failover and sends nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from hatui.lab import Host, Lab, crash_keepalived, start_keepalived
from tests.conftest import require, require_keepalived

VIP = "192.0.2.100"


def keepalived_conf(
    name: str, priority: int, *, vrid: int = 51, version: int = 3, advert_int: str = "0.1"
) -> str:
    return f"""
global_defs {{
    router_id {name}
    vrrp_version {version}
}}
vrrp_instance VI_{vrid} {{
    state BACKUP
    interface eth0
    virtual_router_id {vrid}
    priority {priority}
    advert_int {advert_int}
    virtual_ipaddress {{
        {VIP}/24
    }}
}}
"""


def wait_for(predicate: object, timeout: float, what: str) -> None:
    assert callable(predicate)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def has_vip(lab: Lab, host: Host) -> bool:
    return any(a.startswith(VIP + "/") for a in lab.addresses(host))


def test_watch_sees_keepalived_failover_and_never_transmits(lab: Lab, tmp_path: Path) -> None:
    require_keepalived()
    require(shutil.which("tcpdump") is not None, "needs tcpdump")
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    obs = lab.add_host("o", 9, silent=True)
    ka_a = start_keepalived(lab, a, keepalived_conf("a", 150))
    start_keepalived(lab, b, keepalived_conf("b", 100))
    wait_for(lambda: has_vip(lab, a), 5, "keepalived a to become master")

    pcap = tmp_path / "watch.pcap"
    filt = "vrrp or arp or ip6 proto 112 or (icmp6 and ip6[40] == 136)"
    dump = lab.spawn(
        obs, ["tcpdump", "-i", "eth0", "-U", "-Z", "root", "-w", str(pcap), filt], log="tcpdump.log"
    )
    watch = subprocess.Popen(
        obs.argv(
            [
                sys.executable,
                "-m",
                "hatui",
                "--watch",
                "eth0",
                "--headless",
                "--json",
                "--duration",
                "3.5",
            ]
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lab.procs.append(watch)  # type: ignore[arg-type]
    time.sleep(0.8)
    tx_before = lab.tx_packets(obs)
    time.sleep(0.7)
    crash_keepalived(lab, ka_a)
    wait_for(lambda: has_vip(lab, b), 5, "keepalived b to take over")
    out, err = watch.communicate(timeout=20)
    assert watch.returncode == 0, err
    assert lab.tx_packets(obs) == tx_before, "the watcher's interface transmitted"
    lab.stop(dump)

    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    doc = lines[-1]
    events = lines[:-1]
    changes = [e for e in events if e["kind"] == "master_change"]
    assert len(changes) == 1, events
    assert len(doc["failovers"]) == 1
    fo = doc["failovers"][0]
    assert (fo["from"], fo["to"], fo["cause"], fo["vrid"]) == (
        "192.0.2.11",
        "192.0.2.12",
        "timeout",
        51,
    )
    # RFC 5798: 3 * 100 ms + (256 - 100) * 100 ms / 256 = 360.9 ms; generous bounds.
    assert 330 <= fo["gap_ms"] <= 480, fo
    (router,) = [r for r in doc["routers"] if r["vrid"] == 51]
    assert router["master"]["ip"] == "192.0.2.12"
    assert router["version"] == 3 and router["advert_interval_ms"] == 100
    assert router["vips"] == [VIP]
    assert {s["ip"] for s in router["senders"]} == {"192.0.2.11", "192.0.2.12"}

    # The capture of the same run replays to the same failover (time is an input).
    replay = subprocess.run(
        [sys.executable, "-m", "hatui", "--read", str(pcap), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    rdoc = json.loads(replay.stdout)
    (rfo,) = rdoc["failovers"]
    assert (rfo["from"], rfo["to"], rfo["cause"]) == (fo["from"], fo["to"], fo["cause"])
    assert abs(rfo["gap_ms"] - fo["gap_ms"]) < 5
