"""Pilot tests of the haproxy panel: rows, detail, alerts as events, statuses, one-line log."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import RichLog

from hatui.haproxy.join import Unreached
from hatui.ui import scenario
from hatui.ui.app import HatuiApp
from hatui.ui.feeds import FakeFeed
from hatui.ui.messages import ObserverDoc
from hatui.ui.model import Mode
from hatui.ui.screenshots import app_for, serve_feed, watch_feed
from hatui.ui.widgets.proxies import HaproxyPanel

SIZE = (80, 24)


def text_of(app: HatuiApp, selector: str) -> str:
    return str(app.query_one(selector).render())


def log_lines(app: HatuiApp) -> list[str]:
    return [line.text for line in app.query_one(RichLog).lines]


def unreached(status: str, *, configured: bool = True, at: float = 46.0) -> Any:
    poll = scenario.haproxy_poll(at, scenario.haproxy_stat())
    return type(poll)(
        time_us=poll.time_us,
        socket=poll.socket,
        outcome=Unreached(status=status, configured=configured),
        local=poll.local,
    )


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.pause()


async def test_rows_and_the_detail_of_a_backend() -> None:
    app = app_for(serve_feed(), scenario.haproxy_story())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel = app.query_one(HaproxyPanel)
        assert [panel.get_row_at(i)[0].plain for i in range(panel.row_count)] == [  # type: ignore[union-attr]
            "fe vip_web",
            "fe vip_api",
            "be web",
            "be api",
        ]
        assert panel.get_cell("fe:vip_web", "serve").plain == "192.0.2.100 here"  # type: ignore[union-attr]
        assert panel.get_cell("fe:vip_api", "serve").plain == "192.0.2.101 @192.0.2.13"  # type: ignore[union-attr]
        assert panel.get_cell("be:web", "serve").plain == "1/2 UP"  # type: ignore[union-attr]
        assert "haproxy 2.6.12 /run/haproxy/admin.sock" in str(panel.border_title)
        panel.focus()
        await pilot.press("down", "down")
        await settle(pilot)
        detail = text_of(app, "#detail")
        assert "Backend web UP" in detail
        assert "w2         DOWN" in detail and "L4CON" in detail
        # The server went down between the two polls: an event, one line in the log.
        assert any(
            "haproxy_server" not in line and "web/w2 UP -> DOWN" in line for line in log_lines(app)
        )


async def test_detail_pane_takes_a_proxy_only_when_the_panel_has_focus() -> None:
    app = app_for(serve_feed(), scenario.haproxy_story())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert text_of(app, "#detail").startswith("VRID 51")  # polls arrived, pane unmoved
        app.query_one(HaproxyPanel).focus()
        await settle(pilot)
        assert "Frontend vip_web OPEN" in text_of(app, "#detail")
        app.query_one("#routers").focus()
        await settle(pilot)
        assert text_of(app, "#detail").startswith("VRID")


async def test_a_new_document_leaves_the_proxy_on_show() -> None:
    feed = serve_feed()
    app = app_for(feed, scenario.haproxy_story())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.query_one(HaproxyPanel).focus()
        await pilot.press("down", "down")
        await settle(pilot)
        assert "Backend web" in text_of(app, "#detail")
        # Other routers: the selected one goes, and the routers table's cursor moves.
        feed.push(ObserverDoc(scenario.many(3)))
        await settle(pilot)
        assert "Backend web" in text_of(app, "#detail")


async def test_vip_here_nothing_serving_alerts_then_clears() -> None:
    story = scenario.haproxy_story()
    app = app_for(serve_feed(), story)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not any("nothing serving" in line for line in log_lines(app))
        story.push(scenario.haproxy_poll(46.0, scenario.haproxy_stat(w1="DOWN", w2="DOWN")))
        await settle(pilot)
        assert sum("nothing serving" in line for line in log_lines(app)) == 1
        panel = app.query_one(HaproxyPanel)
        assert "1 alert" in str(panel.border_title)
        assert panel.get_cell("be:web", "serve").plain == "0/2 UP"  # type: ignore[union-attr]
        story.push(scenario.haproxy_poll(47.0, scenario.haproxy_stat(w1="DOWN", w2="DOWN")))
        await settle(pilot)
        assert sum("nothing serving" in line for line in log_lines(app)) == 1  # said once
        story.push(scenario.haproxy_poll(48.0, scenario.haproxy_stat(w1="UP", w2="DOWN")))
        await settle(pilot)
        assert any("cleared vip_unserved for 192.0.2.100" in line for line in log_lines(app))
        assert "alert" not in str(panel.border_title)


async def test_no_alert_when_the_vip_is_not_ours() -> None:
    story = scenario.ScriptedHaproxy(
        [scenario.haproxy_poll(44.0, scenario.haproxy_stat("DOWN", "DOWN"), local=("192.0.2.12",))]
    )
    doc, events = scenario.pair()
    feed = FakeFeed(Mode.SERVE, "eth0", observer=doc, events=events, node=scenario.node("BACKUP"))
    app = app_for(feed, story)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "alert" not in str(app.query_one(HaproxyPanel).border_title)
        assert not any("nothing serving" in line for line in log_lines(app))


async def test_haproxy_gone_while_we_hold_the_vip() -> None:
    story = scenario.haproxy_story()
    app = app_for(serve_feed(), story)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        status = "/run/haproxy/admin.sock: connection refused (haproxy not running, stale socket)"
        story.push(unreached(status))
        await settle(pilot)
        panel = app.query_one(HaproxyPanel)
        assert "1 alert" in str(panel.border_title)
        assert status in str(panel.border_title)
        assert panel.row_count == 0 and panel.has_class("-empty")
        assert panel.region.height == 1  # the status line alone at 80x24
        lines = log_lines(app)
        assert any("haproxy_unreachable" not in ln and status in ln for ln in lines)
        assert any("held here but haproxy does not answer" in ln for ln in lines)


async def test_no_socket_configured_says_so_without_alerting() -> None:
    none = "no `stats socket` in /etc/haproxy/haproxy.cfg (--haproxy SOCKET)"
    app = app_for(watch_feed(), scenario.ScriptedHaproxy([unreached(none, configured=False)]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel = app.query_one(HaproxyPanel)
        assert none in str(panel.border_title) and "alert" not in str(panel.border_title)
        assert not any("haproxy" in line for line in log_lines(app))


async def test_read_mode_has_no_panel() -> None:
    doc, events = scenario.pair()
    HatuiApp.haproxy_source = scenario.haproxy_story
    try:
        app = HatuiApp(FakeFeed(Mode.READ, "x.pcap", observer=doc, events=events), render_s=0)
    finally:
        HatuiApp.haproxy_source = None
    assert app.haproxy is None
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not app.query_one(HaproxyPanel).display


async def test_newest_event_in_view_at_80x24() -> None:
    app = app_for(serve_feed(), scenario.haproxy_story())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        log = app.query_one(RichLog)
        assert log.max_scroll_y > 0  # more events than rows: the case that hid the last
        assert log.scroll_y == log.max_scroll_y


async def test_events_one_line_each_full_text_in_the_detail_pane() -> None:
    app = app_for(watch_feed())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        _doc, events = scenario.pair()
        assert len(log_lines(app)) == len(events)  # no event wraps over several lines
        app.query_one("#log").focus()
        await settle(pilot)
        detail = text_of(app, "#detail")
        assert detail.startswith("Events, newest first")
        newest = events[-1]["detail"]
        assert newest[:40] in " ".join(detail.split())
        app.query_one("#routers").focus()
        await settle(pilot)
        assert text_of(app, "#detail").startswith("VRID")


async def test_the_consoles_vip_holders_are_the_documents_with_each_routers_protocol() -> None:
    """The console joins haproxy with the holders its documents name (the node's own VIPs
    first, then the LAN's, through the one `holders` builder): on a LAN of several
    vendors, each VIP carries its router's protocol, not "vrrp" for all."""
    from hatui.haproxy.join import holders_from_docs

    doc, events = scenario.vendors()
    node = scenario.node()
    feed = FakeFeed(Mode.SERVE, "eth0", observer=doc, events=events, node=node)
    app = app_for(feed, scenario.haproxy_story())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        got = app._vip_holders()
    assert got == holders_from_docs(node, doc["routers"])
    assert {h.protocol for h in got} >= {"vrrp", "hsrp", "carp"}
