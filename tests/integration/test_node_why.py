"""Why a failover happened, and how close a pair came, in live labs (VRRPv3 at 0.1 s).

A hatui node whose track script fails beside a keepalived peer: the watcher, the node's
own log and its metrics each say why. keepalived on both sides, the master's adverts
dropped for two intervals by nft inside its namespace: one near failover, no failover."""

from __future__ import annotations

import shutil
import time

import pytest

from hatui.lab import Lab, start_keepalived
from tests.conftest import require, require_keepalived
from tests.integration.nodelab import (
    has_vip,
    start_hatui,
    start_observer,
    vrrp_conf,
    wait_for,
)

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

    obs.mark()
    flag.touch()
    # The wire: the master's priority fell 150 -> 90, below keepalived's 120: preempted.
    fo = obs.wait("master_change", "keepalived to preempt", timeout=5, to=b.ip)
    assert (fo["cause"], fo["reason"]) == ("preempt", "preempted"), fo
    assert f"{a.ip} priority 150 -> 90 at " in fo["why"], fo
    assert f"below {b.ip}'s 120: preempted" in fo["why"], fo

    # The node's log: which tracker, its exit status, its weight, priority before/after.
    def left_master() -> list[dict[str, object]]:
        return [t for t in na.transitions() if t["state"] == "BACKUP" and t.get("reason")]

    wait_for(left_master, 3, "a's transition line")
    (t,) = [t for t in left_master() if t["reason"] == "preempted"]
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


def test_two_dropped_adverts_are_one_near_failover_and_no_failover(lab: Lab) -> None:
    """keepalived 150 and 100 at 0.1 s: the master's adverts leave for 0.2 s only into an
    nft drop rule in its own namespace. Two adverts are lost (a 300 ms silence), short of
    the backup's Master_Down_Interval (360.9 ms, RFC 5798 6.1): nobody takes over."""
    require_keepalived()
    require(shutil.which("nft") is not None, "needs nft")
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    obs = start_observer(lab)
    start_keepalived(lab, a, vrrp_conf("a", 150))
    start_keepalived(lab, b, vrrp_conf("b", 100))
    wait_for(lambda: has_vip(lab, a), 5, "a to become master")
    time.sleep(1.0)  # b heard a: its Master_Down timer runs on a's adverts
    obs.mark()
    # Drop a's outgoing VRRP for 0.2 s: the rule goes in and comes out in one shell, so
    # the window is the sleep's, not two process start-ups'.
    lab.sh(
        a,
        "nft add table inet why && nft add chain inet why out"
        " '{ type filter hook output priority 0; }' && nft add rule inet why out"
        " ip protocol 112 drop && sleep 0.2 && nft delete table inet why",
    )
    near = obs.wait("near_failover", "the near failover", timeout=3)
    time.sleep(1.0)  # any takeover would have come by now
    assert near["ip"] == a.ip, near
    assert 250 <= near["silence_ms"] < near["master_down_ms"], near
    # keepalived's backup never spoke (it lost the start-up election silently), so the
    # figure is the master's own priority's: 300 + (256 - 150) * 100 / 256 ms.
    assert near["master_down_ms"] == pytest.approx(341.4, abs=0.1)
    assert len(obs.since("near_failover")) == 1, obs.since("near_failover")
    assert obs.since("master_change") == [], obs.since("master_change")
    assert has_vip(lab, a) and not has_vip(lab, b)
