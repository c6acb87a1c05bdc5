"""Master changes: steady state, kill (timeout), release, preempt, election overlaps."""

from __future__ import annotations

import pytest

from hatui.codec.frames import Family, VrrpAdvert
from hatui.observe.events import Cause, MasterChange
from hatui.observe.model import Status
from hatui.observe.observer import Observer

from .factory import MS, VIP, A, B, S, advert, at, cap, kinds, merge, run, series

SKEW_100 = (256 - 100) * S // 256  # v2 Skew_Time of a priority-100 backup: 609375 us
DOWN_100 = 3 * S + SKEW_100  # its Master_Down_Interval: 3609375 us


def master_changes(events: list) -> list[MasterChange]:  # type: ignore[type-arg]
    return [e for e in events if isinstance(e, MasterChange)]


def test_steady_state_one_event_and_exact_rate() -> None:
    obs = Observer()
    events = run(obs, series(0, 30, S, advert(A)))
    assert kinds(events) == [("new_router", 0)]
    snap = obs.snapshot(at(29 * S))
    (r,) = snap.routers
    assert (r.master_ip, r.priority, r.interval_cs, r.adverts) == (A, 150, 100, 30)
    assert r.status is Status.OK
    assert r.adverts_per_s == 1.0  # 10 adverts in the window, 9 s apart
    assert r.intervals_us[-5:] == (S,) * 5
    assert r.skew_us == (256 - 150) * S // 256
    assert r.master_down_us == 3 * S + (256 - 150) * S // 256
    assert not r.unicast and not r.virtual_mac
    assert [s.ip for s in r.senders] == [A]


@pytest.mark.parametrize(
    ("version", "skew", "down", "stale"),
    [
        # RFC 3768 6.1 (v2): Skew_Time = (256 - Priority) / 256 s at any interval.
        (2, 609_375, 9_609_375, 9 * S + 255 * S // 256),
        # RFC 5798 6.1 (v3): Skew_Time = (256 - Priority) * Master_Adver_Interval / 256.
        (3, 1_828_125, 10_828_125, 9 * S + 255 * 3 * S // 256),
    ],
)
def test_view_timings_at_three_seconds_follow_each_versions_rfc(
    version: int, skew: int, down: int, stale: int
) -> None:
    obs = Observer()
    run(obs, series(0, 5, 3 * S, advert(A, priority=100, interval_cs=300, version=version)))
    r = obs.snapshot(at(12 * S)).routers[0]
    # The master's own priority (100) as a backup's, and the lowest backup (1) for stale.
    assert (r.skew_us, r.master_down_us, r.stale_after_us) == (skew, down, stale)


def test_rate_v3_ten_per_second() -> None:
    obs = Observer()
    run(obs, series(0, 200, 100 * MS, advert(A, version=3, interval_cs=10)))
    r = obs.snapshot(at(199 * 100 * MS)).routers[0]
    assert r.adverts_per_s == 10.0
    assert r.skew_us == (256 - 150) * 100 * MS // 256
    # Later, with no adverts in the window, the rate reads 0.
    assert obs.snapshot(at(199 * 100 * MS + 11 * S)).routers[0].adverts_per_s == 0.0


def test_kill_failover_is_timeout_with_exact_gap() -> None:
    obs = Observer()
    takeover = 10 * S + DOWN_100 + 200  # the backup's timer fires, plus wire latency
    items = merge(
        series(0, 11, S, advert(A, priority=150)),
        series(takeover, 5, S, advert(B, priority=100)),
    )
    events = run(obs, items)
    assert kinds(events) == [("new_router", 0), ("master_change", takeover)]
    (mc,) = master_changes(events)
    assert (mc.from_ip, mc.to_ip, mc.cause) == (A, B, Cause.TIMEOUT)
    assert mc.gap_us == DOWN_100 + 200 == 3_609_575
    assert (mc.old_last_advert, mc.new_first_advert) == (at(10 * S), at(takeover))
    snap = obs.snapshot(at(takeover + 4 * S))
    (f,) = snap.failovers
    assert (f.from_ip, f.to_ip, f.gap_us, f.cause) == (A, B, 3_609_575, Cause.TIMEOUT)
    r = snap.routers[0]
    assert (r.master_ip, r.priority, r.status) == (B, 100, Status.OK)
    assert [(h.ip, h.until is None, h.cause) for h in r.history] == [
        (A, False, Cause.FIRST),
        (B, True, Cause.TIMEOUT),
    ]


def test_release_then_takeover_after_skew() -> None:
    obs = Observer()
    release = 10 * S + 500 * MS
    takeover = release + SKEW_100
    items = merge(
        series(0, 11, S, advert(A, priority=150)),
        [series(release, 1, S, advert(A, priority=0))[0]],
        series(takeover, 3, S, advert(B, priority=100)),
    )
    events = run(obs, items)
    assert kinds(events) == [("new_router", 0), ("release", release), ("master_change", takeover)]
    (mc,) = master_changes(events)
    assert (mc.cause, mc.gap_us, mc.from_ip, mc.to_ip) == (Cause.RELEASE, 609_375, A, B)


def test_repeated_priority_zero_in_a_split_brain_is_one_release() -> None:
    # A leaving master may repeat its priority 0 advert. While B also advertises (a split
    # brain), each repeat takes the general path: still one release.
    obs = Observer()
    release = 14 * S + 500 * MS
    items = merge(
        series(0, 15, S, advert(A, priority=150)),
        series(10 * S + 500 * MS, 10, S, advert(B, priority=100)),
        series(release + 200 * MS, 3, 10 * MS, advert(A, priority=0)),
    )
    events = run(obs, items)
    assert [k for k in kinds(events) if k[0] == "release"] == [("release", release + 200 * MS)]


def test_third_router_after_a_takeover_leaves_the_gap_alone() -> None:
    # A dies; B (100) takes over; C (99) fires its own timer 390 us later, before it hears
    # B, and sends one advert. The failover's gap is B's first advert less A's last.
    obs = Observer()
    c = "192.0.2.13"
    takeover = 10 * S + DOWN_100
    items = merge(
        series(0, 11, S, advert(A, priority=150)),
        series(takeover, 5, S, advert(B, priority=100)),
        [cap(takeover + 390, advert(c, priority=99))],
    )
    run(obs, items)
    (f,) = obs.snapshot(at(takeover + 4 * S)).failovers
    assert (f.from_ip, f.to_ip, f.gap_us) == (A, B, DOWN_100)
    assert f.old_last_advert == at(10 * S)


def test_preempt_back_by_higher_priority() -> None:
    obs = Observer()
    back = 20 * S + 300 * MS  # A returns and, after its own wait, advertises
    items = merge(
        series(0, 21, S, advert(B, priority=100)),
        series(back, 10, S, advert(A, priority=150)),
    )
    events = run(obs, items)
    assert kinds(events) == [("new_router", 0), ("master_change", back)]
    (mc,) = master_changes(events)
    assert (mc.from_ip, mc.to_ip, mc.cause, mc.gap_us) == (B, A, Cause.PREEMPT, 300 * MS)
    assert obs.snapshot(at(back + 9 * S)).routers[0].status is Status.OK


def test_preempt_race_gives_negative_gap_and_no_flap() -> None:
    obs = Observer()
    back = 20 * S + 300 * MS
    items = merge(
        series(0, 21, S, advert(B, priority=100)),
        series(back, 10, S, advert(A, priority=150)),
        # B had one more advert in flight before it heard A.
        [series(back + 5 * MS, 1, S, advert(B, priority=100))[0]],
    )
    events = run(obs, items)
    assert kinds(events) == [("new_router", 0), ("master_change", back)]
    (f,) = obs.snapshot(at(back + 9 * S)).failovers
    assert f.gap_us == -5 * MS
    assert f.cause is Cause.PREEMPT


@pytest.mark.parametrize(
    ("old", "new", "vip", "version", "interval_cs", "family"),
    [
        (B, A, VIP, 2, 200, Family.IPV4),  # v2 at 2 s
        ("fe80::12", "fe80::11", "2001:db8::100", 3, 10, Family.IPV6),  # v3 at 0.1 s
    ],
)
def test_preempt_race_gap_counts_from_the_in_flight_advert(
    old: str, new: str, vip: str, version: int, interval_cs: int, family: Family
) -> None:
    # The old master's advert sent before it heard its successor arrives 7 ms after the
    # successor's first: the old master's last advert is then 7 ms after the new one's
    # first, so the gap (new first - old last) is -7 ms, and no failover goes back.
    every = interval_cs * 10 * MS
    back = 20 * every + every * 3 // 10  # the new master speaks 30 % into an interval

    def from_(ip: str, priority: int) -> VrrpAdvert:
        return advert(
            ip,
            priority=priority,
            vips=(vip,),
            version=version,
            interval_cs=interval_cs,
            family=family,
        )

    items = merge(
        series(0, 21, every, from_(old, 100)),
        series(back, 10, every, from_(new, 150)),
        [cap(back + 7 * MS, from_(old, 100))],
    )
    obs = Observer()
    events = run(obs, items)
    assert kinds(events) == [("new_router", 0), ("master_change", back)]
    (f,) = obs.snapshot(at(back + 9 * every)).failovers
    assert (f.from_ip, f.to_ip, f.cause) == (old, new, Cause.PREEMPT)
    assert (f.old_last_advert, f.new_first_advert) == (at(back + 7 * MS), at(back))
    assert f.gap_us == -7 * MS


def test_short_election_overlap_no_split_brain_no_flap() -> None:
    obs = Observer()
    # Both start; B speaks first, A (higher) 200 ms later; B sends once more, then hears A.
    items = merge(
        [series(0, 1, S, advert(B, priority=100))[0]],
        series(200 * MS, 20, S, advert(A, priority=150)),
        [series(250 * MS, 1, S, advert(B, priority=100))[0]],
    )
    events = run(obs, items)
    events += obs.tick(at(21 * S))  # before A could turn stale
    assert kinds(events) == [("new_router", 0), ("master_change", 200 * MS)]
    r = obs.snapshot(at(19 * S + 200 * MS)).routers[0]
    assert (r.master_ip, r.status, r.split_brain) == (A, Status.OK, None)


def test_equal_priority_the_higher_address_stays_master() -> None:
    # RFC 5798 6.4.3: at equal priority the higher primary address wins. B (.12) is
    # master; A (.11), at the same priority, speaks twice (a restart): it does not win.
    obs = Observer()
    items = merge(
        series(0, 20, S, advert(B, priority=100)),
        series(5 * S + 300 * MS, 2, S, advert(A, priority=100)),
    )
    events = run(obs, items)
    assert kinds(events) == [("new_router", 0)]
    assert obs.snapshot(at(19 * S)).routers[0].master_ip == B


def test_equal_priority_a_higher_address_takes_over() -> None:
    obs = Observer()
    items = merge(
        series(0, 20, S, advert(A, priority=100)),
        series(5 * S + 300 * MS, 15, S, advert(B, priority=100)),
    )
    (mc,) = master_changes(run(obs, items))
    assert (mc.from_ip, mc.to_ip, mc.cause) == (A, B, Cause.PREEMPT)


def test_lower_priority_overlap_changes_nothing() -> None:
    obs = Observer()
    items = merge(
        series(0, 20, S, advert(A, priority=150)),
        [series(5 * S + 300 * MS, 1, S, advert(B, priority=100))[0]],
    )
    events = run(obs, items)
    assert kinds(events) == [("new_router", 0)]
    r = obs.snapshot(at(19 * S)).routers[0]
    assert r.master_ip == A and r.status is Status.OK
    assert {s.ip for s in r.senders} == {A, B}


def test_priority_interval_vips_changes_of_the_master() -> None:
    obs = Observer()
    items = [
        *series(0, 3, S, advert(A, priority=150)),
        *series(3 * S, 2, S, advert(A, priority=120)),
        *series(5 * S, 2, 2 * S, advert(A, priority=120, interval_cs=200)),
        *series(
            9 * S,
            2,
            2 * S,
            advert(A, priority=120, interval_cs=200, vips=("192.0.2.100", "192.0.2.101")),
        ),
    ]
    events = run(obs, items)
    assert kinds(events) == [
        ("new_router", 0),
        ("priority_change", 3 * S),
        ("interval_change", 5 * S),
        ("vips_change", 9 * S),
    ]
    assert [(e.old, e.new) for e in events[1:]] == [  # type: ignore[attr-defined]
        ("150", "120"),
        ("1000 ms", "2000 ms"),
        ("192.0.2.100", "192.0.2.100,192.0.2.101"),
    ]


def test_kill_failover_v3_fast_interval() -> None:
    """v3 at 0.1 s: Master_Down_Interval of a priority-100 backup is 360937 us (RFC 5798)."""
    obs = Observer()
    down = 3 * 100 * MS + (256 - 100) * 100 * MS // 256
    assert down == 360_937
    takeover = 5 * S + down + 200  # the lab measures 361.1 ms
    items = merge(
        series(0, 51, 100 * MS, advert(A, version=3, interval_cs=10)),
        series(takeover, 5, 100 * MS, advert(B, priority=100, version=3, interval_cs=10)),
    )
    (mc,) = master_changes(run(obs, items))
    assert (mc.cause, mc.gap_us) == (Cause.TIMEOUT, 361_137)
