"""A sender that starts claiming priority 255 on a running VRID is flagged."""

from __future__ import annotations

from hatui.observe.events import EventKind
from hatui.observe.observer import Observer
from tests.observe.factory import T0, A, C, S, advert, merge, series


def kinds(events: list, kind: EventKind) -> list:  # type: ignore[type-arg]
    return [e for e in events if e.kind is kind]


def test_stranger_with_priority_255_is_flagged_once_and_takes_over() -> None:
    obs = Observer()
    stream = merge(
        series(0, 10, S, advert(A, priority=150)),
        series(10 * S, 5, S, advert(C, priority=255)),
    )
    events = [e for item in stream for e in obs.feed(item)]
    claims = kinds(events, EventKind.OWNER_CLAIM)
    assert len(claims) == 1
    assert claims[0].time == T0 + 10 * S
    assert claims[0].ip == C and "priority 255" in claims[0].detail
    # RFC 5798: a valid higher-priority advert wins; the watcher reports that too.
    changes = kinds(events, EventKind.MASTER_CHANGE)
    assert [c.to_ip for c in changes] == [C]


def test_an_owner_from_the_start_is_not_an_alarm() -> None:
    obs = Observer()
    events = [e for item in series(0, 5, S, advert(A, priority=255)) for e in obs.feed(item)]
    assert kinds(events, EventKind.OWNER_CLAIM) == []


def test_a_claim_is_flagged_once_while_the_old_master_keeps_advertising() -> None:
    # The old master does not stand down (it does not hear C, or refuses it): C's every
    # advert goes through the general path, and still the claim is one event.
    obs = Observer()
    stream = merge(
        series(0, 20, S, advert(A, priority=150)),
        series(10 * S + 400_000, 8, S, advert(C, priority=255)),
    )
    events = [e for item in stream for e in obs.feed(item)]
    claims = kinds(events, EventKind.OWNER_CLAIM)
    assert [(c.ip, c.time - T0) for c in claims] == [(C, 10 * S + 400_000)]
