"""The /metrics endpoint: keepalived-exporter names for the node, hatui_* for the LAN."""

from __future__ import annotations

import asyncio
import socket
import urllib.request

import pytest

from hatui.errors import RuntimeFault, UsageError
from hatui.runtime.metrics import Exporter, parse_listen
from hatui.runtime.node import Node
from tests.runtime.test_node import many


def test_listen_forms() -> None:
    assert parse_listen("9650") == ("0.0.0.0", 9650)
    assert parse_listen("127.0.0.1:9650") == ("127.0.0.1", 9650)
    assert parse_listen("[::1]:9650") == ("::1", 9650)
    for bad in ("nine", "host:9650", "1.2.3.4:99999", ""):
        with pytest.raises(UsageError, match="--metrics"):
            parse_listen(bad)


def test_a_port_in_use_is_one_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(
            RuntimeFault, match=f"--metrics 127.0.0.1:{port}: Address already in use"
        ):
            Exporter(f"127.0.0.1:{port}").start()


async def _scrape(node: Node) -> list[str]:
    """The lines a scrape of `node`'s exporter answers, over HTTP as Prometheus asks."""
    exporter = Exporter("127.0.0.1:0")
    exporter.start()
    try:
        exporter.attach(asyncio.get_running_loop(), watch=None, node=node)
        url = f"http://127.0.0.1:{exporter.bound_port}/metrics"
        text = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read())
    finally:
        exporter.stop()
    return text.decode().splitlines()


async def test_node_series_use_the_keepalived_exporter_names() -> None:
    node, _io, sched = many(2)
    node.start()
    sched.run_until(3_000_000)
    lines = await _scrape(node)
    state = 'keepalived_vrrp_state{iname="VI_1",intf="eth0",ip_address="198.51.100.1",vrid="1"} 2.0'
    assert state in lines
    sent = [x for x in lines if x.startswith('keepalived_advert_sent_total{iname="VI_2"')]
    assert sent and float(sent[0].split()[-1]) > 10
    assert 'keepalived_become_master_total{iname="VI_1",intf="eth0",vrid="1"} 1.0' in lines
    assert "keepalived_up 1.0" in lines
    assert not [x for x in lines if x.startswith("hatui_router_")]  # no watcher here


async def test_transition_series_and_status_say_when_how_often_and_why() -> None:
    """A master whose check fails and whose higher peer then preempts it: the last
    transition's time, transitions by state entered, the effective priority, the
    tracker's contribution, and `ctl status --json` carrying the same."""
    from hatui.runtime.status import node_status_to_json
    from hatui.vrrp.spec import TrackRef
    from tests.runtime.test_node import advert, make_node

    node, _io, sched = make_node(
        priority=150, track_scripts=(TrackRef(name="chk_web", weight=-60),)
    )
    node.start()
    sched.run_until(2_000_000)  # master after Master_Down_Interval
    node.track("script", "chk_web", False, detail="exit 1")
    sched.run_until(2_266_000)
    node.on_frame("eth0", advert("192.0.2.12", 120), outgoing=False)
    history = node.history("VI_1")
    assert history.last is not None
    assert history.transitions == {"BACKUP": 2, "MASTER": 1}
    assert (history.last.new, history.last.reason) == ("BACKUP", "preempted")
    assert history.last.why == (
        "VI_1: chk_web failed (exit 1) -> weight -60 -> priority 150 -> 90,"
        " below 192.0.2.12's 120: preempted, 266 ms"
    )
    lines = await _scrape(node)
    labels = 'iname="VI_1",intf="eth0",vrid="51"'
    stamp = history.last.time / 1e6
    prefix = f"hatui_instance_last_transition_timestamp_seconds{{{labels}}} "
    (last,) = [float(x.removeprefix(prefix)) for x in lines if x.startswith(prefix)]
    assert last == stamp
    to = 'iname="VI_1",intf="eth0",to="{}",vrid="51"'  # the exposition sorts labels
    assert f"hatui_instance_transitions_total{{{to.format('MASTER')}}} 1.0" in lines
    assert f"hatui_instance_transitions_total{{{to.format('BACKUP')}}} 2.0" in lines
    assert f"hatui_instance_effective_priority{{{labels}}} 90.0" in lines
    weight = 'iname="VI_1",intf="eth0",tracker="chk_web",vrid="51"'
    assert f"hatui_tracker_weight{{{weight}}} -60.0" in lines
    assert f"hatui_instance_near_failover_total{{{labels}}} 0.0" in lines
    (inst,) = node_status_to_json(node.status(), {"VI_1": node.router("VI_1").spec})["instances"]  # type: ignore[misc]
    assert inst["effective_priority"] == 90
    assert inst["transitions"] == {"BACKUP": 2, "MASTER": 1}
    assert inst["last_transition"]["reason"] == "preempted"
    assert inst["last_transition"]["why"] == history.last.why
    assert inst["last_transition"]["time"] == stamp
    assert [(t["name"], t["contribution"]) for t in inst["trackers"]] == [("chk_web", -60)]
