"""Real haproxy (Debian's 2.6) beside hatui nodes in a namespace lab: backends up, one
killed (DOWN after its checks), the other killed ("VIP here, nothing serving" on the
master only), then haproxy killed; the events, the final JSON and the panel follow."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import socket
import struct
import time
from functools import partial
from typing import Any

from hatui.adapters.control import request
from hatui.adapters.haproxy import HaproxyPoller
from hatui.lab import Haproxy, Lab, haproxy_config, start_haproxy, start_web
from hatui.lab.nodes import VIP, HatuiNode, flags, read_json_lines, start_hatui, wait_for
from hatui.ui.app import HatuiApp
from hatui.ui.feeds import AttachFeed
from hatui.ui.screenshots import app_for, serve_feed
from hatui.ui.widgets.proxies import HaproxyPanel
from tests.conftest import require, require_root
from tests.integration.test_node_lanview import lan_views

CHECK_MS = 200  # down after two failed checks: 0.4-0.6 s


def require_haproxy() -> None:
    require_root()
    require(shutil.which("haproxy") is not None, "needs haproxy (apt-get install -y haproxy)")


def backends(lab: Lab) -> dict[str, Any]:
    hosts = {name: lab.add_host(name, octet) for name, octet in (("w1", 21), ("w2", 22))}
    return {name: start_web(lab, host) for name, host in hosts.items()}


def haproxy_on(lab: Lab, name: str) -> Haproxy:
    host = lab.hosts[name]
    sock = lab.workdir / f"{name}-haproxy.sock"
    servers = [("w1", "192.0.2.21:80"), ("w2", "192.0.2.22:80")]
    ha = start_haproxy(lab, host, haproxy_config(sock, [VIP], servers, check_ms=CHECK_MS))
    wait_for(sock.exists, 10, f"haproxy's socket in {name}")
    return ha


def events(node: HatuiNode, kind: str) -> list[dict[str, Any]]:
    return [e for e in read_json_lines(node.log) if e.get("kind") == kind]


def kinds(node: HatuiNode) -> list[str]:
    return [str(e["kind"]) for e in read_json_lines(node.log) if e.get("source") == "haproxy"]


def test_servers_down_then_haproxy_down_on_master_and_backup(lab: Lab) -> None:
    require_haproxy()
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    webs = backends(lab)
    ha_a, _ha_b = haproxy_on(lab, "a"), haproxy_on(lab, "b")
    master = start_hatui(lab, a, [*flags(150), "--haproxy", str(ha_a.socket)])
    backup = start_hatui(lab, b, [*flags(100), "--haproxy", str(lab.workdir / "b-haproxy.sock")])
    wait_for(lambda: master.state() == "MASTER" and backup.state() == "BACKUP", 10, "election")
    wait_for(lambda: events(master, "haproxy_up"), 5, "haproxy_up on a")
    # Checks pass: both servers UP in the poll after the first checks.
    wait_for(lambda: events(backup, "haproxy_up"), 5, "haproxy_up on b")

    lab.stop(webs["w1"])
    wait_for(
        lambda: any(
            "web/w1" in e["detail"] and "-> DOWN" in e["detail"]
            for e in events(master, "haproxy_server")
        ),
        5,
        "w1 DOWN on a",
    )
    assert events(master, "haproxy_vip_unserved") == []  # w2 still serves

    lab.stop(webs["w2"])
    wait_for(lambda: events(master, "haproxy_vip_unserved"), 5, "the unserved alert on a")
    (alert,) = events(master, "haproxy_vip_unserved")
    assert alert["vrid"] == 51 and VIP in alert["detail"] and "nothing serving" in alert["detail"]
    wait_for(
        lambda: any("web/w2" in e["detail"] for e in events(backup, "haproxy_server")),
        5,
        "w2 DOWN on b",
    )
    assert events(backup, "haproxy_vip_unserved") == []  # b does not hold the VIP

    killed = time.time()
    lab.stop(ha_a.proc, signal.SIGKILL)
    wait_for(lambda: events(master, "haproxy_down"), 5, "the haproxy-down alert on a")
    (down,) = events(master, "haproxy_down")
    # Within a poll (1 s) and a little: a chk_haproxy at interval 2, fall 2 takes 4 s.
    assert down["time"] - killed < 2.5, down["time"] - killed
    assert "held here but haproxy does not answer" in down["detail"]
    assert "connection refused" in events(master, "haproxy_unreachable")[0]["detail"]
    assert events(master, "haproxy_alert_cleared")  # unserved gave way to down

    # The backup first: stopped after the master, it would take the VIP over (priority 0)
    # and, its servers down, rightly raise the unserved alert in its last document.
    for node in (backup, master):
        lab.stop(node.proc, signal.SIGTERM)
    doc_a = json.loads(master.output().strip().splitlines()[-1])
    doc_b = json.loads(backup.output().strip().splitlines()[-1])
    assert doc_a["haproxy"]["status"] == "down"
    assert [x["kind"] for x in doc_a["haproxy"]["alerts"]] in (["haproxy_down"], [])
    hb = doc_b["haproxy"]
    assert hb["status"] == "up" and hb["alerts"] == []
    (front,) = hb["frontends"]
    assert front["name"] == "vip_web" and front["binds"] == [VIP] and front["status"] == "OPEN"
    (web,) = hb["backends"]
    assert (web["up"], web["total"]) == (0, 2)
    assert {s["name"]: s["status"] for s in web["servers"]} == {"w1": "DOWN", "w2": "DOWN"}
    assert all(s["check"].startswith("L4CON") for s in web["servers"])
    assert kinds(backup).count("haproxy_vip_unserved") == 0


async def _until(pilot: Any, panel: HaproxyPanel, check: Any, what: str) -> None:
    """Let the app run until `check()` holds; fail naming `what` and the panel's state."""
    end = time.monotonic() + 15  # generous: the suite runs beside other work
    while time.monotonic() < end:
        await pilot.pause(0.05)
        if check():
            return
    raise AssertionError(f"panel: {what}: {panel.border_title} {panel.row_count} rows")


async def test_panel_follows_a_real_haproxy(lab: Lab) -> None:
    require_haproxy()
    lab.add_host("a", 11)
    webs = backends(lab)
    ha = haproxy_on(lab, "a")
    poller = HaproxyPoller(str(ha.socket), interval=0.2)
    app = app_for(serve_feed(), None)
    app.haproxy = poller
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(HaproxyPanel)

        until = partial(_until, pilot, panel)

        await until(
            lambda: "be:web" in panel and panel.get_cell("be:web", "serve").plain == "2/2 UP",
            "2/2 UP",
        )  # type: ignore[union-attr]
        assert "haproxy 2.6" in str(panel.border_title)
        # The VIP is not on this (the test's own) namespace: bound, held elsewhere.
        assert panel.get_cell("fe:vip_web", "serve").plain.startswith(VIP)  # type: ignore[union-attr]
        lab.stop(webs["w1"])
        await until(lambda: panel.get_cell("be:web", "serve").plain == "1/2 UP", "1/2 UP")  # type: ignore[union-attr]
        lab.stop(ha.proc, signal.SIGKILL)
        await until(lambda: "connection refused" in str(panel.border_title), "haproxy gone")
        assert panel.row_count == 0


def test_a_hanging_haproxy_never_disturbs_the_node(lab: Lab) -> None:
    """The stats socket accepts and never answers: every poll waits out its timeout, and
    the node's adverts (v3, 0.1 s) keep their pace meanwhile."""
    require_root()
    a = lab.add_host("a", 11)
    sock = lab.workdir / "hang.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock))
    server.listen(64)  # the kernel accepts; nobody ever reads or answers
    try:
        node = start_hatui(lab, a, [*flags(150), "--haproxy", str(sock)])
        wait_for(lambda: node.state() == "MASTER", 10, "master")
        wait_for(lambda: events(node, "haproxy_unreachable"), 5, "the hang reported")
        assert "accepts but does not answer" in events(node, "haproxy_unreachable")[0]["detail"]
        before = node.status()["counters"]["adverts_out"]
        start = time.monotonic()
        time.sleep(3)
        sent = node.status()["counters"]["adverts_out"] - before
        took = time.monotonic() - start
        assert abs(sent - took / 0.1) <= 3, (sent, took)
        assert events(node, "haproxy_down")  # and we hold the VIP: said plainly
    finally:
        server.close()


def test_only_the_lan_view_polls_haproxy_and_ctl_status_shows_it(lab: Lab) -> None:
    """A headless node's haproxy polls and joins run in its LAN view (nice 19), never in
    the node's process: every connection to the stats socket comes from the LAN view
    (SO_PEERCRED), and `ctl status` carries the view."""
    require_root()
    a = lab.add_host("a", 11)
    sock = lab.workdir / "peek.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock))
    server.listen(64)
    server.settimeout(0.2)
    try:
        node = start_hatui(lab, a, [*flags(150), "--haproxy", str(sock)])
        wait_for(lambda: node.state() == "MASTER", 10, "master")
        pids: list[int] = []
        end = time.monotonic() + 2.5  # two polls at least
        while time.monotonic() < end:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            pids.append(struct.unpack("3i", creds)[0])
            conn.close()  # no answer: the poll reports it
        (view,) = lan_views(node)
        assert pids and set(pids) == {view}, (pids, view, node.proc.pid)
        reply = asyncio.run(request(str(node.control), {"cmd": "status"}, timeout=3))
        seen = reply["status"]["observer"]["haproxy"]
        assert seen["socket"] == str(sock) and seen["status"] == "down", seen
    finally:
        server.close()


async def test_an_attached_consoles_panel_follows_the_lan_views_polls(lab: Lab) -> None:
    """The console polls no haproxy: the node's LAN view does, and the panel of a console
    attached to the node shows its polls (a backend going down included)."""
    require_haproxy()
    a = lab.add_host("a", 11)
    webs = backends(lab)
    ha = haproxy_on(lab, "a")
    # start_hatui polls the node's status with asyncio.run: off this test's loop.
    node = await asyncio.to_thread(start_hatui, lab, a, [*flags(150), "--haproxy", str(ha.socket)])
    feed = AttachFeed(str(node.control))
    await feed.connect()
    app = HatuiApp(feed, haproxy=feed.lan.haproxy_source())
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(HaproxyPanel)

        until = partial(_until, pilot, panel)

        await until(
            lambda: "be:web" in panel and panel.get_cell("be:web", "serve").plain == "2/2 UP",
            "2/2 UP",
        )  # type: ignore[union-attr]
        assert "haproxy 2.6" in str(panel.border_title)
        lab.stop(webs["w1"])
        await until(lambda: panel.get_cell("be:web", "serve").plain == "1/2 UP", "1/2 UP")  # type: ignore[union-attr]
        await pilot.press("q")
