"""The fleet's view of what a real Prometheus answered, before and after a node died."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hatui.fleet.model import Alert, FleetView
from hatui.fleet.parse import fleet_view
from hatui.fleet.queries import fleet_queries
from hatui.fleet.report import view_lines, view_to_json
from tests.fleet.recorded import WATCHER, A, B, answers, set_value


def kinds(view: FleetView) -> list[tuple[str, str]]:
    return [(a.kind, a.severity) for a in view.alerts]


def alert(view: FleetView, kind: str) -> Alert:
    (found,) = [a for a in view.alerts if a.kind == kind]
    return found


def test_before_every_node_is_up_a_master_b_backup_and_no_alert() -> None:
    view = fleet_view(answers("before"), 1.0)
    assert [(n.instance, n.up) for n in view.nodes] == [(A, True), (B, True), (WATCHER, True)]
    assert all(n.last_scrape and n.last_scrape > 1.7e9 for n in view.nodes)
    rows = [(i.node, i.iname, i.interface, i.vrid, i.state, i.priority, i.vips, i.live)
            for i in view.instances]  # fmt: skip
    assert rows == [
        (A, "VI_51", "eth0", 51, "MASTER", 150, ("192.0.2.100",), True),
        (B, "VI_51", "eth0", 51, "BACKUP", 100, ("192.0.2.100",), True),
    ]
    # Each node reports its own LAN view as the watcher does: three views of one router.
    assert sorted(r.watcher for r in view.routers) == [A, B, WATCHER]
    assert {(r.vrid, r.master_ip, r.priority, r.status) for r in view.routers} == {
        (51, "192.0.2.11", 150, "ok")
    }
    assert view.alerts == ()


def test_after_the_kill_a_is_down_holding_the_vip_and_b_has_taken_over() -> None:
    view = fleet_view(answers("after"), 1.0)
    assert [(n.instance, n.up) for n in view.nodes] == [(A, False), (B, True), (WATCHER, True)]
    by_node = {i.node: i for i in view.instances}
    assert (by_node[A].state, by_node[A].live) == ("MASTER", False)  # its last known state
    assert (by_node[B].state, by_node[B].live, by_node[B].became_master) == ("MASTER", True, 1)
    assert {r.master_ip for r in view.routers} == {"192.0.2.12"}
    assert kinds(view) == [
        ("down_holding_vip", "critical"),
        ("no_backup", "warning"),
        ("failover", "info"),
    ]
    assert alert(view, "down_holding_vip").nodes == (A,)
    assert alert(view, "down_holding_vip").vips == ("192.0.2.100",)
    assert alert(view, "no_backup").nodes == (B,)
    assert alert(view, "failover").nodes == (B,)


def test_two_masters_for_one_vrid_and_vip_set() -> None:
    data = answers("before")
    assert set_value(data["live"], "2", __name__="keepalived_vrrp_state", instance=B) == 1
    view = fleet_view(data, 1.0)
    assert kinds(view) == [("two_masters", "critical"), ("no_backup", "warning")]
    assert alert(view, "two_masters").nodes == (A, B)


def test_the_same_vrid_with_other_vips_is_another_pair() -> None:
    data = answers("before")
    set_value(data["live"], "2", __name__="keepalived_vrrp_state", instance=B)
    for sample in data["live"]:
        if sample["metric"].get("instance") == B and "ip_address" in sample["metric"]:
            sample["metric"]["ip_address"] = "198.51.100.100"  # another VLAN's VRID 51
    view = fleet_view(data, 1.0)
    assert "two_masters" not in [k for k, _ in kinds(view)]
    assert [a.nodes for a in view.alerts if a.kind == "no_backup"] == [(A,), (B,)]


def test_a_vip_with_its_prefix_length_is_the_same_vip() -> None:
    data = answers("before")
    for sample in data["live"]:
        if sample["metric"].get("instance") == B and "ip_address" in sample["metric"]:
            sample["metric"]["ip_address"] += "/32"  # as a keepalived exporter may label it
    view = fleet_view(data, 1.0)
    assert {i.vips for i in view.instances} == {("192.0.2.100",)}
    assert view.alerts == ()


def test_no_master_when_every_live_node_is_backup_or_fault() -> None:
    data = answers("before")
    set_value(data["live"], "3", __name__="keepalived_vrrp_state", instance=A)
    view = fleet_view(data, 1.0)
    assert kinds(view) == [("no_master", "critical")]
    assert "FAULT" in alert(view, "no_master").detail


def test_flapping_from_three_elections_in_the_window() -> None:
    data = answers("after")
    set_value(data["became_master"], "2.1", instance=B)
    assert "failover" in [k for k, _ in kinds(fleet_view(data, 1.0))]  # 2: a failover
    set_value(data["became_master"], "3.04", instance=B)
    view = fleet_view(data, 1.0)
    assert ("flapping", "warning") in kinds(view) and "failover" not in dict(kinds(view))


def test_a_node_back_up_shows_its_live_series_not_its_last_known() -> None:
    data = answers("after")
    set_value(data["up"], "1", instance=A)
    stale = data["last_state"][0]
    data["live"].append({"metric": {**stale["metric"]}, "value": [0, "1"]})
    view = fleet_view(data, 1.0)
    (a,) = [i for i in view.instances if i.node == A]
    assert (a.state, a.live) == ("BACKUP", True)


def test_router_alerts_are_one_per_router_however_many_watchers_hear_it() -> None:
    data = answers("before")
    assert set_value(data["routers"], "1", __name__="hatui_router_split_brain") == 3
    view = fleet_view(data, 1.0)
    assert kinds(view) == [("split_brain", "critical")]
    assert alert(view, "split_brain").nodes == (A, B, WATCHER)


def test_bad_samples_are_skipped_not_raised() -> None:
    data: dict[str, Any] = answers("before")
    data["live"] += [
        {"metric": {"__name__": "keepalived_vrrp_state", "instance": "x", "vrid": "abc"},
         "value": [0, "2"]},
        {"metric": {"__name__": "keepalived_vrrp_state", "instance": "y", "vrid": "7"},
         "value": [0, "NaN"]},
        {"metric": {"__name__": "keepalived_vrrp_state", "instance": "w", "vrid": "8"},
         "value": [0, "+Inf"]},
        {"metric": {"__name__": "keepalived_vrrp_state", "instance": 5, "vrid": None},
         "value": [0, "2"]},
        {"metric": {"__name__": "hatui_node_priority", "instance": A, "iname": "VI_51",
                    "intf": "eth0", "vrid": "51", "job": ["x"]}, "value": [0, "1e999"]},
        {"metric": "garbage", "value": None},
        {},
    ]  # fmt: skip
    data["routers"] += [{"metric": {"__name__": "hatui_router_master", "vrid": {}}, "value": 1}]
    data["up"].append({"metric": {"instance": "z"}, "value": ["oops"]})
    view = fleet_view(data, 1.0)
    assert [i.node for i in view.instances] == [A, B]
    assert len(view.nodes) == 3


def test_the_document_has_the_contract_fields() -> None:
    doc = view_to_json(fleet_view(answers("after"), 5.0), source="http://p:9090", queries=7)
    assert set(doc) >= {"nodes", "instances", "routers", "alerts"}
    assert doc["nodes"][0] == {
        "instance": A, "job": "hatui", "up": False,
        "last_scrape": doc["nodes"][0]["last_scrape"],
    }  # fmt: skip
    inst = doc["instances"][1]
    assert {k: inst[k] for k in ("node", "iname", "interface", "vrid", "state", "priority")} == {
        "node": B, "iname": "VI_51", "interface": "eth0", "vrid": 51, "state": "MASTER",
        "priority": 100,
    }  # fmt: skip
    assert doc["alerts"][0]["kind"] == "down_holding_vip"
    assert doc["routers"][0]["master"] == {"ip": "192.0.2.12", "mac": "02:00:00:00:00:0c"}
    lines = view_lines(fleet_view(answers("after"), 5.0))
    assert lines[0].startswith("alert critical down_holding_vip: VRID 51 192.0.2.100")


_names = st.sampled_from(
    ["keepalived_vrrp_state", "hatui_node_priority", "hatui_instance_effective_priority",
     "hatui_instance_last_transition_timestamp_seconds", "hatui_router_master",
     "hatui_router_priority", "hatui_router_split_brain", "up", "other"]
)  # fmt: skip
_odd = st.one_of(st.integers(), st.none(), st.floats(), st.lists(st.integers(), max_size=2))
_label = st.one_of(st.sampled_from(["51", "7", "a", "", "192.0.2.1/32", "eth0"]), _odd)
_metric = st.fixed_dictionaries(
    {},
    optional={"__name__": st.one_of(_names, _odd),
              **{k: _label for k in ("instance", "job", "iname", "intf", "vrid", "ip_address",
                                     "interface", "protocol", "family", "master_ip")}},
)  # fmt: skip
_value = st.one_of(
    st.tuples(st.floats(), st.sampled_from(["1", "2", "3", "NaN", "+Inf", "-1e999", "x"])),
    _odd,
)
_sample = st.one_of(
    st.fixed_dictionaries({"metric": st.one_of(_metric, _odd), "value": _value}),
    st.dictionaries(st.text(max_size=3), _odd, max_size=2),
)


@settings(max_examples=300)
@given(st.lists(_sample, max_size=8))
def test_any_answer_gives_a_view_never_an_exception(samples: list[Any]) -> None:
    """The same odd samples as every query's answer: each parser meets each of them."""
    view = fleet_view({q.key: samples for q in fleet_queries()}, 1.0)
    view_to_json(view)
    view_lines(view)
