"""News (a priority or master change) reaches the routers table before the document of
every router; without a partial document it waits for that document, as before."""

from __future__ import annotations

import copy
import gc
from typing import Any

from textual.widgets import RichLog

from hatui.clock import ManualClock
from hatui.ui import scenario
from hatui.ui.app import HatuiApp
from hatui.ui.feeds import FakeFeed
from hatui.ui.messages import EventsArrived, ObserverDoc
from hatui.ui.model import Json, Mode, observer_view
from hatui.ui.watchfeed import UiSink
from hatui.ui.widgets.tables import RoutersTable

SIZE = (120, 40)
KEY = "eth0/ipv4/255"


def _docs() -> tuple[Json, Json, list[Json]]:
    """255 routers; a partial document 0.05 s later with VRID 255 at priority 200."""
    doc = scenario.many(255)
    router = copy.deepcopy(next(r for r in doc["routers"] if r["vrid"] == 255))
    old = router["priority"]
    router["priority"] = 200
    part = {"time": doc["time"] + 0.05, "routers": [router]}
    event = {
        "time": doc["time"] + 0.05,
        "kind": "priority_change",
        "interface": "eth0",
        "family": "ipv4",
        "vrid": 255,
        "protocol": "vrrp",
        "field": "priority",
        "old": old,
        "new": 200,
        "ip": router["master"]["ip"],
        "detail": f"priority {old} -> 200",
    }
    return doc, part, [event]


def _app(doc: Json, render_s: float = 0.1) -> tuple[FakeFeed, HatuiApp]:
    """The console on a live watch feed that starts with `doc`."""
    feed = FakeFeed(Mode.WATCH, "eth0", observer=doc)
    return feed, HatuiApp(feed, render_s=render_s)


def _prio(app: HatuiApp) -> str:
    return str(app.query_one(RoutersTable).get_cell(KEY, "prio"))


def _logged(app: HatuiApp) -> str:
    return " ".join(line.text for line in app.query_one(RichLog).lines)


async def test_news_rows_show_before_any_document() -> None:
    doc, part, events = _docs()
    feed, app = _app(doc)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = _prio(app)
        built: list[int] = []

        def build() -> Json:
            built.append(1)
            return part

        feed.push(EventsArrived(events, build))  # and no document after it
        await pilot.pause()
        assert built == [1]
        assert _prio(app) == "200" != before
        assert app.query_one(RoutersTable).row_count == 255  # the other rows stay
        assert "priority" in _logged(app)  # the event is in the log at once too
        assert app.observer.router(KEY) is not None
        assert app.observer.router(KEY).priority == 200  # type: ignore[union-attr]
        assert app.observer.time == part["time"]


async def test_without_a_partial_document_news_waits_for_the_document() -> None:
    doc, part, events = _docs()
    feed, app = _app(doc)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = _prio(app)
        feed.push(EventsArrived(events))  # attach and replay feeds send no partial document
        await pilot.pause()
        assert _prio(app) == before
        later = copy.deepcopy(doc)
        later["time"] = part["time"]
        later["routers"][254] = part["routers"][0]
        feed.push(ObserverDoc(later))
        await pilot.pause(0.2)
        assert _prio(app) == "200"


async def test_an_older_document_does_not_undo_news_and_a_newer_one_wins() -> None:
    doc, part, events = _docs()
    feed, app = _app(doc, render_s=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = _prio(app)
        feed.push(EventsArrived(events, lambda: part))
        older = copy.deepcopy(doc)  # built before the news (another sink asked for it first)
        older["counters"]["frames"] += 1
        feed.push(ObserverDoc(older))
        await pilot.pause(0.1)
        assert "frames" in str(app.query_one("#header").render())
        assert app.observer.counters.frames == older["counters"]["frames"]  # it was drawn
        assert _prio(app) == "200"  # ...without taking the news row back
        newer = copy.deepcopy(doc)
        newer["time"] = part["time"] + 0.1  # the priority went back since
        feed.push(ObserverDoc(newer))
        await pilot.pause(0.1)
        assert _prio(app) == before


def test_merge_replaces_and_adds_rows_and_keeps_the_rest() -> None:
    doc, part, _ = _docs()
    view = observer_view(doc, light=True)
    extra = dict(part["routers"][0], vrid=300)
    merged = view.merge(observer_view({**part, "routers": [*part["routers"], extra]}, light=True))
    assert len(merged.routers) == 256
    assert merged.routers[254].priority == 200 and merged.routers[255].vrid == 300
    assert merged.routers[:254] == view.routers[:254]
    assert merged.counters == view.counters and merged.time == part["time"]
    row = merged.router(KEY)
    assert row is not None and row.priority == 200 and row.senders  # parsed in full
    # A full (not light) view merged with news: its own rows still answer router(key).
    full = observer_view(doc).merge(observer_view(part, light=True))
    first = full.router("eth0/ipv4/1")
    assert first is not None and first.senders


def test_ui_sink_offers_news_only_with_a_news_source() -> None:
    posted: list[Any] = []
    asked: list[tuple[Any, ...]] = []
    clock = ManualClock()

    def news(events: Any) -> Any:
        asked.append(tuple(events))
        return clock.wall_us(), ()

    UiSink(posted.append).events([])
    UiSink(posted.append, news=news).events([])
    plain, with_news = posted
    assert plain.routers is None
    assert asked == []  # nothing is built until the console draws the news
    assert with_news.routers() == {"time": clock.wall_us() / 1e6, "routers": []}
    assert asked == [()]


async def test_news_without_pause_does_not_starve_the_document() -> None:
    doc, part, events = _docs()
    feed, app = _app(doc)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        drawn: list[int] = []
        original = app._draw_pending

        def counting() -> None:
            if app._pending_obs is not None:
                drawn.append(app._pending_obs.doc["counters"]["frames"])
            original()

        app._draw_pending = counting  # type: ignore[method-assign]
        for k in range(50):  # news every 10 ms for half a second, each with a new document
            feed.push(EventsArrived(events, lambda: part))
            later = copy.deepcopy(doc)
            later["counters"]["frames"] = k
            feed.push(ObserverDoc(later))
            await pilot.pause(0.01)
        await pilot.pause(0.2)
        assert len(drawn) >= 3  # documents still drew at the news spacing (<= 0.1 s)
        assert drawn[-1] == 49  # and the newest one last


async def test_no_collection_between_news_and_the_screen() -> None:
    doc, part, events = _docs()
    feed, app = _app(doc)
    states: list[tuple[str, bool]] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        build = app._draw_news
        release = app._release

        def drawing(b: Any) -> None:
            build(b)
            states.append(("news", gc.isenabled()))

        def released() -> None:
            states.append(("refresh", gc.isenabled()))
            release()
            states.append(("after", gc.isenabled()))

        app._draw_news = drawing  # type: ignore[method-assign]
        app._release = released  # type: ignore[method-assign]
        feed.push(EventsArrived(events, lambda: part))
        await pilot.pause()
        feed.push(EventsArrived(events))  # no partial document: the collector stays on
        await pilot.pause()
        assert gc.isenabled()
    assert states == [("news", False), ("refresh", False), ("after", True)]


async def test_the_collector_is_on_again_if_the_app_ends_with_news_in_flight() -> None:
    doc, part, events = _docs()
    feed, app = _app(doc)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app._release = lambda: None  # type: ignore[method-assign]  # the refresh never comes
        feed.push(EventsArrived(events, lambda: part))
        await pilot.pause()
        assert not gc.isenabled()
    assert gc.isenabled()
