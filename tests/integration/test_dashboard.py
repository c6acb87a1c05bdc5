"""grafana/hatui.json against a real Prometheus: every expression of every panel and
variable runs without an API error and returns data, in a namespace lab scraping two hatui
nodes and a watcher through a failover. The alert rules load there and evaluate cleanly,
and the fleet rule for a dead master fires."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from hatui.lab import Lab
from tests.integration.fleetlab import FleetLab, start_fleet_lab, state_of
from tests.integration.nodelab import wait_for

pytestmark = pytest.mark.netns
DASHBOARD = Path(__file__).resolve().parents[2] / "grafana" / "hatui.json"
# Grafana's variables as a user would pick them in this lab.
VARIABLES = {"$__rate_interval": "5s", "$job": ".*", "$vrid": "51"}
# Series that other work adds: a panel target that reads one may be empty until it lands.
# When one starts returning data the test fails, to shrink this list.
EXPECTED_EMPTY = {
    "hatui_vip_owner_info": "who answers each VIP (ARP owners)",
    "hatui_vip_conflict": "VIPs two MACs answer for (ARP owners)",
}


def dashboard() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return doc


def targets() -> list[tuple[str, str]]:
    """(panel title, expression) for every target of every panel."""
    out = []
    for panel in dashboard()["panels"]:
        for target in panel.get("targets", []):
            out.append((panel["title"], target["expr"]))
    return out


def expand(expr: str) -> str:
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"an unknown variable in {expr}"
    return expr


def test_the_dashboard_is_well_formed() -> None:
    doc = dashboard()
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))
    assert {v["name"] for v in doc["templating"]["list"]} == {"datasource", "job", "vrid"}
    for panel in doc["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs))
        assert panel["gridPos"]["x"] >= 0 and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
    titles = {p["title"] for p in doc["panels"]}
    assert {"Fleet overview", "LAN routers (watchers)", "ARP owners"} <= titles
    exprs = " ".join(e for _t, e in targets())
    for name in EXPECTED_EMPTY:  # each awaited series has its panel already
        assert name in exprs, name


def range_query(fl: FleetLab, expr: str, seconds: float) -> dict[str, Any]:
    end = time.time()
    doc: dict[str, Any] = fl.api(
        "/api/v1/query_range", query=expr, start=f"{end - seconds:.3f}", end=f"{end:.3f}",
        step="1",
    )  # fmt: skip
    return doc


def test_every_expression_runs_and_returns_data(lab: Lab) -> None:
    fl = start_fleet_lab(lab, rules=True)
    a, b, _watcher = fl.targets
    wait_for(lambda: state_of(fl, a) == 2.0 and state_of(fl, b) == 1.0, 30, "a MASTER, b BACKUP")
    time.sleep(3)  # a few scrapes of the steady pair
    fl.nodes["a"].proc.kill()
    wait_for(lambda: state_of(fl, b) == 2.0, 15, "Prometheus to see b MASTER")
    wait_for(lambda: fl.query(f'up{{instance="{a}"}} == 0'), 10, "Prometheus to see a down")
    wait_for(lambda: fl.query("hatui_router_last_failover_gap_seconds"), 10, "the failover gap")
    time.sleep(3)  # rates and increases over the failover need a few scrapes after it
    started = time.time()

    failures, empty, landed = [], [], []
    for title, raw in targets():
        expr = expand(raw)
        doc = range_query(fl, expr, 120)
        if doc.get("status") != "success":
            failures.append(f"{title}: {expr}: {doc.get('error', doc)}")
            continue
        has_data = bool(doc["data"]["result"])
        awaited = [name for name in EXPECTED_EMPTY if re.search(rf"\b{name}\b", expr)]
        if awaited and has_data:
            landed.append(
                f"{title}: {', '.join(awaited)} now has data: drop it from EXPECTED_EMPTY"
            )
        elif not awaited and not has_data:
            empty.append(f"{title}: {expr}")
    # Variables: label_values(SERIES, LABEL) is Grafana's; the series must carry the label.
    for var in dashboard()["templating"]["list"]:
        if var["type"] != "query":
            continue
        m = re.fullmatch(r"label_values\((.+), (\w+)\)", var["definition"])
        assert m, var["definition"]
        series = fl.query(expand(m[1]))
        if not any(m[2] in s["metric"] for s in series):
            empty.append(f"variable {var['name']}: {var['definition']}")
    assert not failures, "\n".join(failures)
    assert not empty, "\n".join(empty)
    assert not landed, "\n".join(landed)
    assert time.time() - started < 60

    # The rules load and evaluate in this Prometheus; the dead master's rule fires.
    groups = fl.api("/api/v1/rules")["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert {g["name"] for g in groups} == {"hatui", "hatui-fleet"}
    assert [r["name"] for r in rules if r["health"] != "ok"] == []

    def firing() -> set[str]:
        alerts = fl.api("/api/v1/alerts")["data"]["alerts"]
        return {al["labels"]["alertname"] for al in alerts if al["state"] == "firing"}

    wait_for(lambda: "VrrpNodeDownHoldingVip" in firing(), 10, "VrrpNodeDownHoldingVip")
    wait_for(lambda: "VrrpFailover" in firing(), 10, "VrrpFailover")
    assert "VrrpTwoMasters" not in firing()
