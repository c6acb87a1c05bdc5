"""The /metrics endpoint: keepalived-exporter names for the node, hatui_* for the LAN."""

from __future__ import annotations

import asyncio
import socket
import urllib.request

import pytest

from hatui.errors import RuntimeFault, UsageError
from hatui.runtime.metrics import Exporter, parse_listen
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


async def test_node_series_use_the_keepalived_exporter_names() -> None:
    node, _io, sched = many(2)
    node.start()
    sched.run_until(3_000_000)
    exporter = Exporter("127.0.0.1:0")
    exporter.start()
    try:
        exporter.attach(asyncio.get_running_loop(), watch=None, node=node)
        url = f"http://127.0.0.1:{exporter.bound_port}/metrics"
        text = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read())
    finally:
        exporter.stop()
    lines = text.decode().splitlines()
    state = 'keepalived_vrrp_state{iname="VI_1",intf="eth0",ip_address="198.51.100.1",vrid="1"} 2.0'
    assert state in lines
    sent = [x for x in lines if x.startswith('keepalived_advert_sent_total{iname="VI_2"')]
    assert sent and float(sent[0].split()[-1]) > 10
    assert 'keepalived_become_master_total{iname="VI_1",intf="eth0",vrid="1"} 1.0' in lines
    assert "keepalived_up 1.0" in lines
    assert not [x for x in lines if x.startswith("hatui_router_")]  # no watcher here
