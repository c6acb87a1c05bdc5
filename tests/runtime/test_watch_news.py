"""News for the console: the views of the routers events are about, built for them alone."""

from __future__ import annotations

from hatui.clock import ManualClock
from hatui.codec.frames import Family
from hatui.observe.events import Event, EventKind
from hatui.observe.observer import Observer
from hatui.observe.report import routers_to_json, snapshot_to_json
from hatui.runtime.watch import Watch
from hatui.types import WallUs
from tests.observe.factory import MS, T0, A, advert, at

EVERY = 100 * MS


def _watch() -> Watch:
    clock = ManualClock(wall=T0 + 2_000 * MS)
    watch = Watch(interfaces=["eth0"], observer=Observer(), clock=clock)
    feed = watch.observer.feed_frame
    for k in range(10):  # VRIDs 1, 2 and 3 heard ten times each
        for vrid in (1, 2, 3):
            feed(at(k * EVERY), "eth0", advert(A, vrid=vrid, interval_cs=10))
    return watch


def test_news_views_are_the_routers_the_events_name_as_of_now() -> None:
    watch = _watch()
    events = watch.observer.feed_frame(
        at(10 * EVERY), "eth0", advert(A, vrid=2, priority=200, interval_cs=10)
    )
    assert [e.kind for e in events] == [EventKind.PRIORITY_CHANGE]
    now, views = watch.news_views(events)
    assert now == watch.clock.wall_us()
    assert [(v.vrid, v.priority) for v in views] == [(2, 200)]
    # What a snapshot at that time would hold for that router, in the same JSON.
    full = snapshot_to_json(watch.observer.snapshot(now))
    assert routers_to_json(now, views)["routers"] == [full["routers"][1]]


def test_news_views_skip_global_events_and_unknown_routers() -> None:
    watch = _watch()
    events = [
        Event(time=at(0), kind=EventKind.REJECTED),  # no router
        Event(time=at(0), kind=EventKind.STALE, interface="eth0", vrid=9),  # no family
    ]
    assert watch.news_views(events)[1] == ()
    views = watch.observer.router_views
    assert views(WallUs(at(EVERY)), [("eth1", Family.IPV4, 2)]) == ()
    named = [("eth0", Family.IPV4, 3), ("eth0", Family.IPV4, 1), ("eth0", Family.IPV4, 3)]
    assert [v.vrid for v in views(WallUs(at(EVERY)), named)] == [3, 1]  # in order, each once
