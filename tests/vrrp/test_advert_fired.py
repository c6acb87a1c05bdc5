"""Router.advert_fired, the runtime's short way through a master's Adver_Timer: wherever it
answers it must equal handle(TimerFired()), and it must decline everything else."""

from __future__ import annotations

from dataclasses import replace

from hatui.types import MonoUs
from hatui.vrrp.actions import SendAdvert
from hatui.vrrp.inputs import (
    AdvertReceived,
    Pause,
    Reconfigure,
    SetPriority,
    TimerFired,
    TrackChanged,
)
from hatui.vrrp.machine import Router
from hatui.vrrp.spec import GarpSpec, TrackRef, Vip
from hatui.vrrp.state import State

from .factory import ADDRS, PEER, VIPS, advert, backup, master, spec

QUIET = GarpSpec(master_delay_us=0)  # no second GARP burst: the Adver_Timer alone


def twins(**kw: object) -> tuple[Router, Router, MonoUs]:
    """Two masters in the same state: one driven by handle(), one by advert_fired()."""
    s = spec(**{"garp": QUIET, **kw})
    (a, now), (b, _) = master(s), master(s)
    return a, b, now


def step(slow: Router, fast: Router, now: MonoUs) -> SendAdvert | None:
    """Fire both at `now`; the fast answer must be the slow one's single action."""
    got = fast.advert_fired(now)
    want = slow.handle(TimerFired(), now)
    if got is None:
        return None
    assert want == [got]
    assert fast.deadline() == slow.deadline()
    assert fast.status(now) == slow.status(now)
    return got


def test_a_lone_due_adver_timer_is_answered_as_handle_would() -> None:
    slow, fast, _now = twins()
    for _ in range(3):
        at = fast.deadline()
        assert at is not None
        sent = step(slow, fast, at)
        assert sent == SendAdvert(priority=100, interval_cs=100, addresses=ADDRS)
    assert fast.deadline() == at + 1_000_000


def test_a_late_fire_re_arms_from_the_time_it_is_given() -> None:
    slow, fast, _ = twins()
    at = fast.deadline()
    assert at is not None
    assert step(slow, fast, MonoUs(at + 300_000)) is not None
    assert fast.deadline() == at + 1_300_000


def test_nothing_due_yet_is_declined_and_changes_nothing() -> None:
    _, fast, _ = twins()
    at = fast.deadline()
    assert at is not None
    assert fast.advert_fired(MonoUs(at - 1)) is None
    assert fast.deadline() == at


def test_another_timer_pending_is_declined() -> None:
    # Default GARP: the second burst 5 s after the takeover is pending beside the advert.
    (fast, now), (slow, _) = master(), master()
    at = fast.deadline()
    assert at == now + 1_000_000
    assert fast.advert_fired(at) is None
    assert fast.deadline() == at  # untouched: the runtime then calls handle()
    assert slow.handle(TimerFired(), at) == [
        SendAdvert(priority=100, interval_cs=100, addresses=ADDRS)
    ]


def test_a_backup_is_declined_even_when_its_timer_is_due() -> None:
    r = backup(spec(garp=QUIET))
    at = r.deadline()
    assert at is not None
    assert r.advert_fired(at) is None
    assert r.state is State.BACKUP


def test_a_paused_master_is_declined() -> None:
    _, fast, now = twins()
    fast.handle(Pause(), now)
    assert fast.advert_fired(MonoUs(now + 10_000_000)) is None


def test_the_same_advert_object_comes_back_while_nothing_changes() -> None:
    _, fast, _ = twins()
    at = fast.deadline()
    assert at is not None
    first = fast.advert_fired(at)
    second = fast.advert_fired(MonoUs(at + 1_000_000))
    assert first is not None and first is second


def test_a_priority_change_between_fires_goes_out_in_the_next_advert() -> None:
    slow, fast, now = twins()
    for r in (slow, fast):
        r.handle(SetPriority(value=150), now)
    at = fast.deadline()
    assert at is not None
    sent = step(slow, fast, at)
    assert sent is not None and sent.priority == 150


def test_a_tracked_weight_between_fires_goes_out_in_the_next_advert() -> None:
    track = (TrackRef(name="chk", weight=-30),)
    slow, fast, now = twins(track_scripts=track)
    for r in (slow, fast):
        r.handle(TrackChanged(kind="script", name="chk", ok=False), now)
    at = fast.deadline()
    assert at is not None
    sent = step(slow, fast, at)
    assert sent is not None and sent.priority == 70


def test_a_reload_between_fires_sends_the_new_addresses() -> None:
    slow, fast, now = twins()
    at = fast.deadline()
    assert at is not None
    step(slow, fast, at)  # the memo holds the old advert
    more = (*VIPS, Vip(address="192.0.2.101", prefixlen=24))
    for r in (slow, fast):
        r.handle(Reconfigure(spec=replace(r.spec, vips=more)), now)
    sent = step(slow, fast, MonoUs(at + 1_000_000))
    assert sent is not None and sent.addresses == ("192.0.2.100", "192.0.2.101")


def test_a_received_lower_advert_between_fires_is_answered_then_the_timer_runs_on() -> None:
    slow, fast, now = twins()
    heard = AdvertReceived(advert=advert(src=PEER, priority=50))
    for r in (slow, fast):
        out = r.handle(heard, MonoUs(now + 400_000))
        assert SendAdvert(priority=100, interval_cs=100, addresses=ADDRS) in out
    # garp_lower_prio_delay defaults to garp_master_delay, 0 here: no timer beside it.
    assert step(slow, fast, MonoUs(now + 1_000_000)) is not None


def test_a_lower_advert_that_arms_a_garp_timer_is_declined_until_it_has_run() -> None:
    garp = GarpSpec(master_delay_us=0, lower_prio_delay_us=1_500_000)
    slow, fast, now = twins(garp=garp)
    heard = AdvertReceived(advert=advert(src=PEER, priority=50))
    for r in (slow, fast):
        r.handle(heard, MonoUs(now + 400_000))
    assert fast.advert_fired(MonoUs(now + 1_000_000)) is None  # GARP_LOWER pending
    fast.handle(TimerFired(), MonoUs(now + 1_000_000))
    slow.handle(TimerFired(), MonoUs(now + 1_000_000))
    fast.handle(TimerFired(), MonoUs(now + 1_900_000))  # the second lower-priority burst
    slow.handle(TimerFired(), MonoUs(now + 1_900_000))
    assert step(slow, fast, MonoUs(now + 2_000_000)) is not None


def test_a_higher_advert_between_fires_leaves_nothing_to_fire() -> None:
    _, fast, now = twins()
    fast.handle(AdvertReceived(advert=advert(src=PEER, priority=200)), MonoUs(now + 1))
    assert fast.state is State.BACKUP
    assert fast.advert_fired(MonoUs(now + 1_000_000)) is None


def test_urgent_due_is_an_advert_or_a_takeover_never_a_garp_burst() -> None:
    """What a runtime may hold behind other routers' work (a GARP delay's end) and what
    it may not (an Adver_Timer, a Master_Down_Timer), each on both sides of its time."""
    r = backup(spec(garp=QUIET))
    down = r.deadline()
    assert down is not None
    assert not r.urgent_due(MonoUs(down - 1)) and r.urgent_due(down)
    # A master 5 s after its takeover: the GARP delay ends 1 s before an Adver_Timer.
    m, now = master(spec(garp=GarpSpec(master_delay_us=4_500_000)))
    for k in range(1, 5):
        m.handle(TimerFired(), MonoUs(now + k * 1_000_000))
    garp = MonoUs(now + 4_500_000)
    assert m.deadline() == garp
    assert not m.urgent_due(garp)  # the GARP delay alone: it may wait
    assert not m.urgent_due(MonoUs(now + 5_000_000 - 1))
    assert m.urgent_due(MonoUs(now + 5_000_000))  # the advert behind it: it may not
