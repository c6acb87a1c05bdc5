"""`hatui --fleet`: the fleet as a real Prometheus holds it, scraping two hatui nodes and
a watcher in a namespace lab, before and after one node is killed; the console under
Pilot; Prometheus gone."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from hatui.lab import Lab
from tests.integration.fleetlab import FleetLab, start_fleet_lab, state_of
from tests.integration.nodelab import HATUI, wait_for

pytestmark = pytest.mark.netns
VIP = "192.0.2.100"


PILOT = [sys.executable, "-m", "tests.integration.fleet_pilot"]


def console(fl: FleetLab, refreshes: int = 1) -> dict[str, Any]:
    done = fl.run([*PILOT, fl.url, str(refreshes)])
    assert done.returncode == 0, done.stderr
    shown: dict[str, Any] = json.loads(done.stdout)
    return shown


def instances(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["node"]: i for i in doc["instances"]}


def test_fleet_before_and_after_a_node_dies(lab: Lab) -> None:
    fl = start_fleet_lab(lab, rules=False)
    a, b, watcher = fl.targets
    wait_for(lambda: state_of(fl, a) == 2.0 and state_of(fl, b) == 1.0, 30, "a MASTER, b BACKUP")
    wait_for(lambda: fl.query('hatui_router_master{master_ip="192.0.2.11"}'), 10, "the watcher")

    code, doc, err = fl.fleet()
    assert code == 0, err
    assert [(n["instance"], n["up"]) for n in doc["nodes"]] == [
        (a, True),
        (b, True),
        (watcher, True),
    ]
    assert all(n["last_scrape"] > 1.7e9 for n in doc["nodes"])
    got = {
        node: (i["iname"], i["interface"], i["vrid"], i["state"], i["priority"], i["vips"])
        for node, i in instances(doc).items()
    }
    assert got == {
        a: ("VI_51", "eth0", 51, "MASTER", 150, [VIP]),
        b: ("VI_51", "eth0", 51, "BACKUP", 100, [VIP]),
    }
    assert {(r["watcher"], r["vrid"], r["master"]["ip"]) for r in doc["routers"]} >= {
        (watcher, 51, "192.0.2.11")
    }
    assert doc["alerts"] == []
    assert doc["queries"] == 7

    text = fl.run([*HATUI, "--fleet", fl.url, "--headless"])
    assert text.returncode == 0, text.stderr
    assert f"instance {a} VI_51 eth0 VRID 51 MASTER prio 150 {VIP}" in text.stdout.splitlines()
    assert "alert" not in text.stdout

    shown = console(fl)
    assert [(r[2], r[3], r[4]) for r in shown["instances"]] == [(a, "MASTER", "150"),
                                                                (b, "BACKUP", "100")]  # fmt: skip
    assert shown["alerts"] == [] and shown["status"].startswith("7 queries in")

    fl.nodes["a"].proc.kill()  # a crash: b takes over after Master_Down_Interval
    wait_for(lambda: state_of(fl, b) == 2.0, 15, "Prometheus to see b MASTER")
    wait_for(lambda: fl.query(f'up{{instance="{a}"}} == 0'), 10, "Prometheus to see a down")

    code, doc, err = fl.fleet()
    assert code == 0, err
    assert {n["instance"]: n["up"] for n in doc["nodes"]} == {a: False, b: True, watcher: True}
    after = instances(doc)
    assert (after[a]["state"], after[a]["live"]) == ("MASTER", False)  # the last it reported
    assert (after[b]["state"], after[b]["live"]) == ("MASTER", True)
    kinds = {al["kind"]: al for al in doc["alerts"]}
    assert kinds["down_holding_vip"]["nodes"] == [a] and kinds["down_holding_vip"]["vips"] == [VIP]
    assert kinds["no_backup"]["nodes"] == [b]
    assert "two_masters" not in kinds

    def the_watcher_sees_b() -> bool:
        _c, d, _e = fl.fleet()
        return any(r["watcher"] == watcher and r["master"]["ip"] == "192.0.2.12"
                   for r in d.get("routers", []))  # fmt: skip

    wait_for(the_watcher_sees_b, 10, "the watcher to report b as master")

    shown = console(fl)
    by_node = {r[2]: r for r in shown["instances"]}
    assert by_node[a][3] == "MASTER (down)" and by_node[b][3] == "MASTER"
    assert shown["alerts"][0][:2] == ["critical", "down_holding_vip"]
    assert "no_backup" in {r[1] for r in shown["alerts"]}
    assert shown["nodes"][0][:2] == [a, "DOWN"]
    assert "1 down" in shown["header"]

    # --fleet-match narrows every query: b's target alone.
    code, doc, err = fl.fleet("--fleet-match", f'{{instance="{b}"}}')
    assert code == 0, err
    assert [n["instance"] for n in doc["nodes"]] == [b]
    assert list(instances(doc)) == [b]
    # A selector Prometheus refuses: its own error, as one line.
    code, doc, err = fl.fleet("--fleet-match", '{instance=~"("}')
    assert code == 1 and doc == {}
    assert err.count("\n") == 1 and err.startswith(f"hatui: Prometheus at {fl.url}: bad_data:")

    # Prometheus gone: the open console keeps its last good view, marked stale, with one
    # line; headless is one line and exit 1; a console started now says so, no traceback.
    ready = lab.workdir / "console-ready"
    log = lab.workdir / "console.jsonl"
    live = lab.spawn(fl.prom_host, [*PILOT, fl.url, "2", str(ready)], log=log.name)
    wait_for(lambda: ready.exists() or live.poll() is not None, 30, "the console's refreshes")
    lab.stop(fl.prom)
    assert live.wait(30) == 0, log.read_text()
    good, stale = (json.loads(line) for line in log.read_text().splitlines() if line[:1] == "{")
    assert not good["stale"] and stale["stale"]
    assert stale["status"] == (
        f"stale: Prometheus at {fl.url}: connection refused, showing the last good view"
    )
    assert stale["instances"] == good["instances"] and stale["nodes"] == good["nodes"]
    assert {r[2]: r[3] for r in stale["instances"]} == {a: "MASTER (down)", b: "MASTER"}
    assert "Traceback" not in log.read_text()
    code, doc, err = fl.fleet()
    assert (code, doc) == (1, {})
    assert err == f"hatui: Prometheus at {fl.url}: connection refused\n"
    shown = console(fl)
    assert (
        shown["stale"] and shown["status"] == f"stale: Prometheus at {fl.url}: connection refused"
    )
    assert shown["instances"] == []
