"""Successive polls: the tracker's view and the events between them, on both sides of its
memo (the same inputs again reuse the view; any change assesses afresh)."""

from __future__ import annotations

from dataclasses import replace

from hatui.haproxy.events import CLEARED, UNREACHABLE
from hatui.haproxy.join import AlertKind, Unreached, VipHolder, assess
from hatui.haproxy.track import Tracker

VIPS = [f"198.51.100.{v}" for v in range(1, 256)]
HOLDERS = tuple(VipHolder(vip=v, master="192.0.2.11", vrid=k) for k, v in enumerate(VIPS, 1))
DOWN = Unreached(status="connect /run/haproxy/admin.sock: no such file", configured=True)


def poll(tracker: Tracker, t: int, **kw: object) -> list[str]:
    args: dict[str, object] = {
        "socket": "/run/haproxy/admin.sock",
        "time_us": t,
        "outcome": DOWN,
        "local": frozenset(VIPS[:10]),
        "holders": HOLDERS,
    }
    args.update(kw)
    return [e.kind for e in tracker.update(**args)]  # type: ignore[arg-type]


def test_the_same_inputs_again_give_the_same_view_at_the_new_time_and_no_events() -> None:
    tracker = Tracker()
    first = poll(tracker, 1)
    assert first == [UNREACHABLE, str(AlertKind.DOWN)]  # the 10 VIPs' alerts in one event
    before = tracker.view
    assert poll(tracker, 2) == []
    assert tracker.view is not None and before is not None
    assert tracker.view.time_us == 2
    fresh = assess(
        socket="/run/haproxy/admin.sock", time_us=2, outcome=DOWN,
        local=frozenset(VIPS[:10]), holders=HOLDERS,
    )  # fmt: skip
    assert tracker.view == fresh  # what a miss would have built


def test_any_changed_input_is_assessed_afresh() -> None:
    tracker = Tracker()
    poll(tracker, 1)
    # One more VIP held here: its alert is news.
    assert poll(tracker, 2, local=frozenset(VIPS[:11])) == [str(AlertKind.DOWN)]
    # A VIP's holder changes (equal tuples, not the same object, are compared by value).
    moved = (replace(HOLDERS[0], master="192.0.2.12"), *HOLDERS[1:])
    assert poll(tracker, 3, local=frozenset(VIPS[:11]), holders=moved) == []
    assert tracker.view is not None and tracker.view.time_us == 3
    # The outcome changes: the reason is news, and no VIP held is an alert any more.
    gone = Unreached(status="no stats socket configured", configured=False)
    kinds = poll(tracker, 4, outcome=gone, local=frozenset(VIPS[:11]), holders=moved)
    assert kinds == [CLEARED]  # the 11 VIPs' clearing in one event
    assert tracker.view is not None and tracker.view.alerts == ()
