"""Why a failover happened, and how close a pair came, in live labs (VRRPv3 at 0.1 s).

A hatui node whose track script fails beside a keepalived peer: the watcher, the node's
own log and its metrics each say why. keepalived on both sides, the master's adverts
dropped for two intervals by nft inside its namespace: one near failover, no failover."""

from __future__ import annotations

import shutil
import subprocess
import time
from html import escape

import pytest

from hatui.lab import Lab, start_keepalived
from tests.conftest import require, require_keepalived
from tests.integration.nodelab import (
    HATUI,
    has_vip,
    start_hatui,
    start_observer,
    vrrp_conf,
    wait_for,
)
from tests.test_incident import chromium_dom

pytestmark = pytest.mark.netns


def _scrape(lab: Lab, host: object, port: int) -> list[str]:
    out = lab.sh(host, f"curl -s --max-time 3 http://127.0.0.1:{port}/metrics")  # type: ignore[arg-type]
    return out.splitlines()


def _value(lines: list[str], name: str, **labels: str) -> float | None:
    """The sample of `name` whose labels include `labels` (None if absent)."""
    want = [f'{k}="{v}"' for k, v in labels.items()]
    for line in lines:
        if line.startswith(name + "{") and all(w in line for w in want):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_failing_track_script_says_why_on_the_wire_in_the_node_log_and_metrics(
    lab: Lab,
) -> None:
    require_keepalived()
    require(shutil.which("curl") is not None, "needs curl")
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    obs = start_observer(lab)
    pcap = lab.workdir / "wire.pcap"
    tcpdump = lab.spawn(
        obs.host,
        ["tcpdump", "-i", "eth0", "--immediate-mode", "-U", "-Z", "root", "-w", str(pcap),
         "vrrp or arp"],
        log="tcpdump.log",
    )  # fmt: skip
    flag = lab.workdir / "chk_web.fail"
    scripts = (
        "vrrp_script chk_web {\n"
        f'    script "/usr/bin/test ! -e {flag}"\n'  # exit 1 while the flag exists
        "    interval 1\n"
        "    weight -60\n"
        "}\n"
    )
    conf = vrrp_conf("a", 150, scripts=scripts, track_scripts=["chk_web"])
    na = start_hatui(lab, a, ["--metrics", "9650"], conf=conf)
    start_keepalived(lab, b, vrrp_conf("b", 120))
    wait_for(lambda: has_vip(lab, a) and na.state() == "MASTER", 5, "a to become master")
    # tcpdump writes the file header when it opens, then every advert (-U): one is in.
    wait_for(lambda: pcap.exists() and pcap.stat().st_size > 100, 5, "tcpdump to capture")

    obs.mark()
    flag.touch()
    # The wire: the master's priority fell 150 -> 90, below keepalived's 120: preempted.
    fo = obs.wait("master_change", "keepalived to preempt", timeout=5, to=b.ip)
    assert (fo["cause"], fo["reason"]) == ("preempt", "preempted"), fo
    assert f"{a.ip} priority 150 -> 90 at " in fo["why"], fo
    assert f"below {b.ip}'s 120: preempted" in fo["why"], fo

    # The node's log: which tracker, its exit status, its weight, priority before/after.
    def left_master() -> list[dict[str, object]]:
        return [t for t in na.transitions() if t.get("reason") == "preempted"]

    wait_for(left_master, 3, "a's transition line")
    (t,) = left_master()
    why = str(t["why"])
    assert why.startswith(
        f"VI_51: chk_web failed (exit 1) -> weight -60 -> priority 150 -> 90,"
        f" below {b.ip}'s 120: preempted, "
    ), why
    assert why.endswith(" ms"), why
    assert "MASTER -> BACKUP (higher priority advert from 192.0.2.12)" in str(t["detail"])

    # Its metrics: the tracker's contribution, the effective priority, the transitions.
    lines = _scrape(lab, a, 9650)
    inst = {"iname": "VI_51", "intf": "eth0", "vrid": "51"}
    assert _value(lines, "hatui_tracker_weight", tracker="chk_web", **inst) == -60.0
    assert _value(lines, "hatui_instance_effective_priority", **inst) == 90.0
    assert _value(lines, "hatui_instance_transitions_total", to="MASTER", **inst) == 1.0
    assert _value(lines, "hatui_instance_transitions_total", to="BACKUP", **inst) == 2.0
    stamp = _value(lines, "hatui_instance_last_transition_timestamp_seconds", **inst)
    assert stamp is not None and abs(stamp - float(t["time"])) < 1e-3  # type: ignore[arg-type]
    status = na.status()
    assert status["last_transition"]["why"] == why
    assert status["last_transition"]["reason"] == "preempted"

    # The incident report: the wire's capture and the node's log on one page, in a browser.
    time.sleep(0.3)
    lab.stop(tcpdump)
    report = lab.workdir / "report.html"
    done = subprocess.run(
        [*HATUI, "--read", str(pcap), "--report", str(report), "--node-log", str(na.log)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    html = report.read_text()
    assert html.count('class="failover"') == 1  # keepalived preempting a
    assert f'data-node="{na.log.stem}: VI_51"' in html
    assert escape(why) in html and escape(fo["why"].partition(": ")[2]) in html
    if shutil.which("chromium"):
        dom = chromium_dom(report)
        assert 'data-failovers="1"' in dom and 'data-laid-out="1"' in dom


def test_two_dropped_adverts_are_one_near_failover_and_no_failover(lab: Lab) -> None:
    """keepalived 150 and 100 at 0.1 s: nft in the master's namespace drops its next two
    adverts (a 300 ms silence), short of the backup's Master_Down_Interval (360.9 ms,
    RFC 5798 6.1): nobody takes over."""
    require_keepalived()
    require(shutil.which("nft") is not None, "needs nft")
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    obs = start_observer(lab)
    start_keepalived(lab, a, vrrp_conf("a", 150))
    start_keepalived(lab, b, vrrp_conf("b", 100))
    wait_for(lambda: has_vip(lab, a), 5, "a to become master")
    time.sleep(1.0)  # b heard a: its Master_Down timer runs on a's adverts
    obs.mark()
    # Drop exactly a's next two adverts: an nft quota in a's namespace matches until 65
    # bytes have passed it, and each VRRPv3 advert with one IPv4 address is a 32-byte IP
    # packet (20 + 8 + 4), so the third advert goes out. A time window could drop three.
    lab.sh(
        a,
        "nft add table inet why && nft add chain inet why out"
        " '{ type filter hook output priority 0; }' && nft add rule inet why out"
        " ip protocol 112 quota until 65 bytes drop",
    )
    near = obs.wait("near_failover", "the near failover", timeout=3)
    time.sleep(1.0)  # any takeover would have come by now
    lab.sh(a, "nft delete table inet why")
    assert near["ip"] == a.ip, near
    assert near["silence_ms"] >= 250, near  # 2.5 intervals: two adverts missed
    # RFC 5798 6.1 for the highest backup heard (100: 300 + 156 * 100 / 256 ms), or, when
    # keepalived's backup never spoke (it lost the start-up election silently), for the
    # master's own priority (150: 300 + 106 * 100 / 256 ms).
    assert near["master_down_ms"] in (pytest.approx(360.9, abs=0.1), pytest.approx(341.4, abs=0.1))
    # Two adverts missed: 300 ms, plus keepalived's own lateness on a busy machine.
    assert near["silence_ms"] < 400, near
    assert len(obs.since("near_failover")) == 1, obs.since("near_failover")
    assert obs.since("master_change") == [], obs.since("master_change")
    assert has_vip(lab, a) and not has_vip(lab, b)
