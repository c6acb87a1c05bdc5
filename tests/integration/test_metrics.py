"""Metrics as the fleet sees them: the real Prometheus scraping a lab node and a watcher
through a failover; the alert rules under promtool; bad ports and hostile HTTP."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from hatui.lab import Host, Lab
from hatui.lab.nodes import HATUI, flags, has_vip, start_hatui, start_observer, wait_for
from tests.conftest import require

pytestmark = pytest.mark.netns
RULES = Path(__file__).resolve().parents[2] / "prometheus"


def test_alert_rules_check_and_pass_their_unit_tests() -> None:
    require(shutil.which("promtool") is not None, "needs promtool (apt-get install prometheus)")
    check = subprocess.run(
        ["promtool", "check", "rules", str(RULES / "hatui-alerts.yml")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    test = subprocess.run(
        ["promtool", "test", "rules", str(RULES / "hatui-alerts_test.yml")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert test.returncode == 0 and "SUCCESS" in test.stdout, test.stdout + test.stderr


def query(lab: Lab, host: Host, expr: str) -> list[dict[str, Any]]:
    """A Prometheus instant query, asked from inside its namespace."""
    url = "http://127.0.0.1:9090/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    out = lab.sh(host, f"curl -s --max-time 3 '{url}'", check=False)
    try:
        doc = json.loads(out)
    except ValueError:
        return []
    result: list[dict[str, Any]] = doc.get("data", {}).get("result", [])
    return result


def test_prometheus_scrapes_a_failover(lab: Lab) -> None:
    require(shutil.which("prometheus") is not None, "needs prometheus (apt-get install prometheus)")
    require(shutil.which("curl") is not None, "needs curl")
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    node_a = start_hatui(lab, a, [*flags(150), "--metrics", "9650"])
    start_hatui(lab, b, [*flags(100), "--metrics", "9650"])
    obs = start_observer(lab)
    # The observer's own process is the watcher here: a second one with metrics.
    lab.spawn(obs.host, [*HATUI, "--watch", "eth0", "--headless", "--metrics", "9651"])
    p = lab.add_host("p", 8)
    conf = lab.workdir / "prometheus.yml"
    targets = ["192.0.2.11:9650", "192.0.2.12:9650", "192.0.2.9:9651"]
    conf.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"rule_files:\n  - {RULES / 'hatui-alerts.yml'}\n"
        "scrape_configs:\n  - job_name: hatui\n    static_configs:\n"
        f"      - targets: {json.dumps(targets)}\n"
    )
    lab.spawn(
        p,
        ["prometheus", f"--config.file={conf}", f"--storage.tsdb.path={lab.workdir / 'tsdb'}",
         "--web.listen-address=127.0.0.1:9090"],
        log="prometheus.log",
    )  # fmt: skip
    wait_for(lambda: has_vip(lab, a), 10, "a to be master")

    def state(target: str) -> float | None:
        res = query(lab, p, f'keepalived_vrrp_state{{iname="VI_51",instance="{target}"}}')
        return float(res[0]["value"][1]) if res else None

    wait_for(lambda: state("192.0.2.11:9650") == 2.0, 30, "Prometheus to see a MASTER")
    # Each target is scraped at its own offset in the interval: b's sample may come a
    # scrape after a's (a CI run once asked in between and found none).
    wait_for(lambda: state("192.0.2.12:9650") == 1.0, 10, "Prometheus to see b BACKUP")

    def up() -> list[str]:
        return sorted(r["metric"]["instance"] for r in query(lab, p, "up") if r["value"][1] == "1")

    wait_for(lambda: up() == sorted(targets), 10, "every target up")
    node_a.proc.kill()  # a crash: b takes over after Master_Down_Interval
    wait_for(lambda: state("192.0.2.12:9650") == 2.0, 15, "Prometheus to see b as MASTER")

    def changes(instance: str) -> list[dict[str, Any]]:
        expr = 'hatui_router_master_change_total{vrid="51",cause="timeout",instance="%s"}'
        return query(lab, p, expr % instance)

    # The watcher, and b's node (its own view of the LAN), both count the failover.
    for target in ("192.0.2.9:9651", "192.0.2.12:9650"):
        wait_for(lambda t=target: changes(t), 15, f"the master-change counter of {target}")
        assert float(changes(target)[0]["value"][1]) == 1.0
    master = query(lab, p, 'hatui_router_master{vrid="51",instance="192.0.2.9:9651"}')
    assert master and master[0]["metric"]["master_ip"] == "192.0.2.12"


def test_a_metrics_port_in_use_fails_before_any_vip(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    holder = lab.spawn(a, ["python3", "-c", (
        "import socket, time; s = socket.socket(); s.bind(('0.0.0.0', 9650)); s.listen();"
        "time.sleep(60)"
    )])  # fmt: skip
    wait_for(lambda: "9650" in lab.sh(a, "ss -ltn"), 5, "the port to be taken")
    node = start_hatui(lab, a, [*flags(150), "--metrics", "9650"], wait=False)
    assert node.proc.wait(10) == 1
    out = node.output().strip().splitlines()
    assert out == ["hatui: --metrics 0.0.0.0:9650: Address already in use"], out
    assert not has_vip(lab, a)
    lab.stop(holder)


def test_hostile_http_never_disturbs_the_node(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    obs = start_observer(lab)
    node = start_hatui(lab, a, [*flags(150), "--metrics", "9650"])
    wait_for(lambda: has_vip(lab, a), 10, "a to be master")
    obs.mark()
    # Idle connections (slowloris), garbage, a huge header, then a normal scrape.
    script = (
        "import socket, time\n"
        "idle = [socket.create_connection(('192.0.2.11', 9650)) for _ in range(40)]\n"
        "for junk in (b'\\x00\\xff' * 4096, b'GET /' + b'A' * 70000 + b' HTTP/1.1\\r\\n\\r\\n',"
        " b'POST /metrics HTTP/1.1\\r\\nContent-Length: 999999\\r\\n\\r\\nxx'):\n"
        "    s = socket.create_connection(('192.0.2.11', 9650)); s.sendall(junk); s.close()\n"
        "time.sleep(3)\n"
        "print('done', len(idle))\n"
    )
    out = lab.sh(obs.host, f'python3 -c "{script}"')
    assert "done 40" in out
    scrape = lab.sh(obs.host, "curl -s --max-time 5 http://192.0.2.11:9650/metrics")
    assert 'keepalived_vrrp_state{iname="VI_51"' in scrape
    assert not obs.since("stale") and not obs.since("master_change")
    assert node.state() == "MASTER"
