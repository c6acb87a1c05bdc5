"""Pilot tests: bindings, confirmations, read-only modes, and what the screen shows."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import pytest
from textual.widgets import RichLog, Static

from hatui.ui import scenario
from hatui.ui.app import GC_YOUNG, HatuiApp
from hatui.ui.feeds import FakeFeed
from hatui.ui.messages import EventsArrived, NodeDoc, ObserverDoc
from hatui.ui.model import Mode
from hatui.ui.screens.confirm import ConfirmScreen
from hatui.ui.screens.priority import PriorityScreen
from hatui.ui.widgets.tables import NodePanel, RoutersTable
from hatui.vrrp.inputs import AdjustPriority, Pause, Release, Resume, SendGarp, SetPriority

SIZE = (100, 30)


def serve_feed(mode: Mode = Mode.SERVE, **node: object) -> FakeFeed:
    doc, events = scenario.pair()
    status = scenario.node()
    status["instances"][0].update(node)
    return FakeFeed(mode, "eth0", observer=doc, events=events, node=status)


def watch_feed(mode: Mode = Mode.WATCH) -> FakeFeed:
    doc, events = scenario.pair()
    return FakeFeed(mode, "eth0", observer=doc, events=events)


def text_of(app: HatuiApp, selector: str) -> str:
    return str(app.query_one(selector).render())


BINDINGS = [
    (("plus",), AdjustPriority(delta=10)),
    (("minus",), AdjustPriority(delta=-10)),
    (("r",), Release()),
    (("s",), Pause()),
    (("g",), SendGarp()),
]


@pytest.mark.parametrize(("keys", "command"), BINDINGS)
async def test_serve_binding_submits_after_confirmation(keys, command) -> None:  # type: ignore[no-untyped-def]
    feed = serve_feed()
    app = HatuiApp(feed, render_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "VI_1" in str(app.screen.query_one("#dialog-text", Static).render())
        assert feed.commands == []  # nothing before the answer
        await pilot.press("y")
        await pilot.pause()
        await pilot.pause()
        assert feed.commands == [("VI_1", command)]


@pytest.mark.parametrize(("keys", "command"), BINDINGS)
async def test_serve_binding_cancelled_sends_nothing(keys, command) -> None:  # type: ignore[no-untyped-def]
    feed = serve_feed()
    app = HatuiApp(feed, render_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape" if command != Pause() else "n")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert feed.commands == []


async def test_enter_on_the_dialog_is_no() -> None:
    feed = serve_feed()
    app = HatuiApp(feed, render_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("enter")  # the focused button is "No"
        await pilot.pause()
        assert feed.commands == []


async def test_release_dialog_predicts_the_takeover() -> None:
    app = HatuiApp(serve_feed(), render_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        text = str(app.screen.query_one("#dialog-text", Static).render())
        assert "192.0.2.12 should take over 192.0.2.100 within ~0.6 s" in text


async def test_s_resumes_a_paused_instance() -> None:
    feed = serve_feed(paused=True)
    app = HatuiApp(feed, render_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        await pilot.pause()
        assert feed.commands == [("VI_1", Resume())]


async def test_set_priority_validates_then_confirms() -> None:
    feed = serve_feed()
    app = HatuiApp(feed, render_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PriorityScreen)
        await pilot.press("3", "0", "0", "enter")  # out of range: refused, dialog stays
        await pilot.pause()
        assert isinstance(app.screen, PriorityScreen)
        assert "1..254" in str(app.screen.query_one("#dialog-error", Static).render())
        for _ in range(3):
            await pilot.press("backspace")
        await pilot.press("9", "0", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        await pilot.pause()
        assert feed.commands == [("VI_1", SetPriority(value=90))]


async def test_commands_apply_to_the_selected_instance() -> None:
    doc, _events = scenario.pair()
    status = scenario.node()
    second = dict(status["instances"][0], name="VI_2", vrid=52)
    status["instances"].append(second)
    feed = FakeFeed(Mode.ATTACH, "/run/hatui/hatui.sock", observer=doc, node=status)
    app = HatuiApp(feed, render_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.query_one(NodePanel).row_count == 2
        await pilot.press("down", "g")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        await pilot.pause()
        assert feed.commands == [("VI_2", SendGarp())]


@pytest.mark.parametrize("mode", [Mode.WATCH, Mode.READ])
async def test_read_only_modes_refuse_and_hide_command_keys(mode: Mode) -> None:
    feed = watch_feed(mode)
    app = HatuiApp(feed, render_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for key in ("plus", "minus", "p", "r", "s", "g"):
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, (ConfirmScreen, PriorityScreen)), key
        assert feed.commands == []
        shown = {b.binding.action for b in app.active_bindings.values() if b.enabled}
        assert "release" not in shown and "garp" not in shown
        assert not app.query_one(NodePanel).display


async def test_table_detail_and_log_follow_a_scripted_sequence() -> None:
    feed = FakeFeed(Mode.WATCH, "eth0")
    app = HatuiApp(feed, render_s=0)
    first, _ = scenario.run(
        [scenario.Stream(ip="192.0.2.11", vrid=51, priority=150, start=0, end=5)], until=5.2
    )
    later, events = scenario.pair()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.query_one(RoutersTable)
        assert table.row_count == 0
        assert "No virtual router heard yet" in text_of(app, "#detail")
        feed.push(ObserverDoc(first))
        await pilot.pause()
        assert table.row_count == 1
        assert "192.0.2.11" in text_of(app, "#detail")
        assert "1 routers" in text_of(app, "#header")
        feed.push(EventsArrived(events))
        feed.push(ObserverDoc(later))
        await pilot.pause()
        assert table.row_count == 3
        cells = [str(c) for c in table.get_row("eth0/ipv4/60")]
        assert "STALE" in cells and "192.0.2.14" in cells
        detail = text_of(app, "#detail")
        assert "gap 609.0 ms (release)" in detail
        log_text = " ".join(" ".join(line.text for line in app.query_one(RichLog).lines).split())
        assert (
            "failover 51: 192.0.2.11 -> 192.0.2.12 (release, gap 609.0 ms; took over 0.4 ms"
            in log_text
        )
        assert "stale 60: no advert" in log_text


async def test_header_shows_rejections_and_drops() -> None:
    doc, _ = scenario.pair()
    doc["counters"]["rejected"]["ttl"] = 3
    doc["counters"]["kernel_drops"] = 7
    app = HatuiApp(FakeFeed(Mode.WATCH, "eth0", observer=doc), render_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        header = text_of(app, "#header")
        assert "WATCH read-only" in header
        assert "rejected ttl 3" in header and "drops 7" in header


async def test_snapshot_flood_collapses_into_few_renders() -> None:
    feed = FakeFeed(Mode.WATCH, "eth0")
    app = HatuiApp(feed, render_s=0.1)
    docs = []
    for k in range(1, 41):
        doc, _ = scenario.run(
            [scenario.Stream(ip="192.0.2.11", vrid=51, priority=100 + k, start=0, end=1)],
            until=1.0,
        )
        docs.append(doc)
    renders = 0
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        original = app._draw_pending

        def counting() -> None:
            nonlocal renders
            renders += 1
            original()

        app._draw_pending = counting  # type: ignore[method-assign]
        for doc in docs:
            feed.push(ObserverDoc(doc))
        await pilot.pause(0.3)
        assert renders <= 4
        assert app.observer.routers[0].priority == 140  # the newest one won


async def test_255_vrids_render_and_sort_by_status() -> None:
    doc = scenario.many(255)
    app = HatuiApp(FakeFeed(Mode.WATCH, "eth0", observer=doc), render_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(RoutersTable)
        assert table.row_count == 255
        assert str(table.get_row_at(0)[0]) == "1"
        assert str(table.get_row_at(254)[0]) == "255"
        await pilot.press("o")
        await pilot.pause()
        top = [str(table.get_row_at(i)[1]) for i in range(15)]
        assert top == ["STALE"] * 15  # every 17th of 255 is stale: worst first
        assert str(table.get_row_at(0)[0]) == "17"
        await pilot.press("ctrl+end")
        await pilot.pause()
        assert table.cursor_row == 254
        last = table.scrollable_content_region.height - 1
        assert table.render_line(last).text.split()[0] == str(table.get_row_at(254)[0])
        await pilot.press("pageup", "up")
        await pilot.pause()
        assert table.cursor_row == 254 - last - 1  # a page is the rows on screen
        await pilot.press("o")
        await pilot.pause()
        assert str(table.get_row_at(0)[0]) == "1"


async def test_node_doc_updates_rows_in_place() -> None:
    feed = serve_feed()
    app = HatuiApp(feed, render_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        panel = app.query_one(NodePanel)
        backup = scenario.node("BACKUP")
        feed.push(NodeDoc(backup))
        await pilot.pause()
        assert panel.row_count == 1
        assert str(panel.get_row("VI_1")[2]) == "BACKUP"
        height = panel.size.height
        backup["instances"].append(dict(backup["instances"][0], name="VI_2", vrid=52))
        feed.push(NodeDoc(backup))
        await pilot.pause()
        await pilot.pause()
        assert panel.row_count == 2
        assert panel.size.height == height + 1  # the panel grew by the new row


async def test_a_changed_row_is_the_only_line_rendered_again() -> None:
    doc = scenario.many(255)
    feed = FakeFeed(Mode.WATCH, "eth0", observer=doc)
    app = HatuiApp(feed, render_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.query_one(RoutersTable)
        rendered: list[str] = []
        original = table._render_cells

        def counting(values):  # type: ignore[no-untyped-def]
            rendered.append(str(values[0]))
            return original(values)

        table._render_cells = counting  # type: ignore[method-assign]
        doc["routers"][3]["priority"] = 7
        feed.push(ObserverDoc(doc))
        await pilot.pause()
        await pilot.pause()
        assert rendered == ["4"]  # VRID 4's line, not every row on screen
        assert table.render_line(1 + 3).text.split()[:4] == ["4", "ok", "192.0.2.4", "7"]
        await pilot.press("down")
        await pilot.pause()
        assert rendered == ["4"]  # the cursor moved: the two lines were restyled, not rebuilt
        assert table.selected_key == "eth0/ipv4/2"


async def test_t_opens_the_selected_routers_timeline() -> None:
    """VRID 51 of the pair scenario: .11 masters, releases at 20 s, .12 takes over, .11
    preempts back at 40 s. The timeline shows both masters, two failovers and their why."""
    from rich.text import Text

    from hatui.ui.screens.timeline import TimelineScreen

    app = HatuiApp(watch_feed(), render_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.query_one(RoutersTable).select_key("eth0/ipv4/51")
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TimelineScreen)
        text = app.screen.text
        assert isinstance(text, Text)
        plain = text.plain
        assert "Timeline of VRID 51" in plain
        lines = plain.splitlines()
        (a,) = [x for x in lines if x.startswith("master 192.0.2.11")]
        (b,) = [x for x in lines if x.startswith("master 192.0.2.12")]
        # .11 holds the start and the end, .12 the middle: the columns do not overlap.
        cols_a = {i for i, c in enumerate(a) if c == "█"}
        cols_b = {i for i, c in enumerate(b) if c == "█"}
        assert cols_a and cols_b and min(cols_a) < min(cols_b) < max(cols_a)
        assert len(cols_a & cols_b) <= 2  # a failover's column may be shared
        (marks,) = [x for x in lines if x.startswith("events")]
        assert marks.count("F") == 2
        assert "192.0.2.11 -> 192.0.2.12  released" in plain
        assert "192.0.2.12 -> 192.0.2.11  preempted" in plain
        assert "sent priority 0" in plain  # the why of the release
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, TimelineScreen)


async def test_the_console_collects_young_objects_less_often_and_restores_the_threshold() -> None:
    before = gc.get_threshold()
    app = HatuiApp(watch_feed(), render_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert gc.get_threshold()[0] == GC_YOUNG > before[0]
    assert gc.get_threshold() == before


@pytest.mark.parametrize(("given", "period"), [(None, 1 / 120), ("30", 1 / 30)])
def test_the_console_updates_the_screen_at_120_fps_unless_the_operator_says(
    given: str | None, period: float
) -> None:
    # Textual reads TEXTUAL_FPS once, at its first import: what the console's modules
    # import first must leave the setting in place by then (a fresh interpreter shows it).
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    if given is not None:
        env["TEXTUAL_FPS"] = given
    code = (
        "import hatui.cli, hatui.modes, hatui.ui.app, textual.screen as s; print(s.UPDATE_PERIOD)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert float(out.stdout) == pytest.approx(period)
