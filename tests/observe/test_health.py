"""Split brain, stale masters and config mismatches, with exact event times."""

from __future__ import annotations

from hatui.codec.frames import Auth
from hatui.observe.events import FieldChange, SplitBrain
from hatui.observe.model import Status
from hatui.observe.observer import Observer

from .factory import MS, A, B, S, advert, at, kinds, merge, run, series

STALE_V2_1S = 3 * S + 255 * S // 256  # Master_Down_Interval of a priority-1 backup


def test_split_brain_declared_and_healed_at_exact_times() -> None:
    obs = Observer()
    items = merge(
        series(0, 31, S, advert(A, priority=150)),
        series(10 * S + 500 * MS, 11, S, advert(B, priority=100)),  # 10.5 .. 20.5, then gone
    )
    events = run(obs, items)
    # Common span min(last) - max(run start) passes one interval at 12.5 s (12.0 - 10.5 = 1.5);
    # B's run ends 1.5 intervals after its last advert: 20.5 + 1.5 = 22.0 s.
    assert kinds(events) == [
        ("new_router", 0),
        ("split_brain", 12 * S + 500 * MS),
        ("split_brain_healed", 22 * S),
    ]
    sb = events[1]
    assert isinstance(sb, SplitBrain)
    assert sb.ips == (A, B) and sb.since == at(10 * S + 500 * MS)
    assert obs.snapshot(at(15 * S)).routers[0].status is Status.OK  # snapshot after heal
    # A snapshot taken inside the split says so.
    obs2 = Observer()
    run(obs2, [c for c in items if c.time <= at(15 * S)])
    r = obs2.snapshot(at(15 * S)).routers[0]
    assert (r.status, r.split_brain, r.master_ip) == (Status.SPLIT_BRAIN, (A, B), A)


def test_split_brain_heal_found_by_tick_with_deadline_time() -> None:
    obs = Observer()
    items = merge(
        series(0, 21, S, advert(A, priority=150)),
        series(10 * S + 500 * MS, 11, S, advert(B, priority=100)),
    )
    run(obs, items)  # last frames: A at 20.0, B at 20.5; both then fall silent
    assert obs.tick(at(21 * S + 500 * MS)) == []
    # The first side to stop ends the split: A's run ends at 20.0 + 1.5 intervals.
    healed = obs.tick(at(21 * S + 500 * MS + 1))
    assert kinds(healed) == [("split_brain_healed", 21 * S + 500 * MS)]
    assert obs.tick(at(22 * S + 2)) == []


def test_split_brain_healed_by_release() -> None:
    obs = Observer()
    items = merge(
        series(0, 20, S, advert(A, priority=150)),
        series(10 * S + 500 * MS, 4, S, advert(B, priority=100)),
        [series(14 * S + 500 * MS, 1, S, advert(B, priority=0))[0]],
    )
    events = run(obs, items)
    assert kinds(events) == [
        ("new_router", 0),
        ("split_brain", 12 * S + 500 * MS),
        ("release", 14 * S + 500 * MS),
        ("split_brain_healed", 14 * S + 500 * MS),
    ]


def test_stale_master_by_tick_and_recovery() -> None:
    obs = Observer()
    run(obs, series(0, 6, S, advert(A)))  # last advert at 5 s
    deadline = 5 * S + STALE_V2_1S
    assert obs.tick(at(deadline)) == []  # strictly later than the interval
    stale = obs.tick(at(deadline + 1))
    assert kinds(stale) == [("stale", deadline)]
    assert obs.tick(at(60 * S)) == []  # once
    assert obs.snapshot(at(60 * S)).routers[0].status is Status.STALE
    back = run(obs, series(61 * S, 2, S, advert(A)))
    assert kinds(back) == [("stale_recovered", 61 * S)]
    assert obs.snapshot(at(62 * S)).routers[0].status is Status.OK


def test_stale_found_by_the_next_frame_without_ticks() -> None:
    """A replay without ticks reports the same stale event, at the same time."""
    obs = Observer()
    events = run(obs, [*series(0, 6, S, advert(A)), *series(20 * S, 1, S, advert(A))])
    assert kinds(events) == [
        ("new_router", 0),
        ("stale", 5 * S + STALE_V2_1S),
        ("stale_recovered", 20 * S),
    ]


def test_stale_status_without_tick() -> None:
    obs = Observer()
    run(obs, series(0, 6, S, advert(A)))
    assert obs.snapshot(at(5 * S + STALE_V2_1S)).routers[0].status is Status.OK
    assert obs.snapshot(at(5 * S + STALE_V2_1S + 1)).routers[0].status is Status.STALE


def _mismatches(events: list) -> list[FieldChange]:  # type: ignore[type-arg]
    return [e for e in events if isinstance(e, FieldChange) and e.kind == "mismatch"]


def test_auth_mismatch_reported_once() -> None:
    obs = Observer()
    good = advert(A, auth=Auth.SIMPLE, auth_data=b"secret\x00\x00")
    bad = advert(B, priority=100, auth=Auth.SIMPLE, auth_data=b"wrong\x00\x00\x00")
    items = merge(
        series(0, 30, S, good),
        [series(5 * S + 500 * MS, 1, S, bad)[0]],
        [series(15 * S + 500 * MS, 1, S, bad)[0]],
    )
    events = run(obs, items)
    (mm,) = _mismatches(events)
    assert mm.time == at(5 * S + 500 * MS) and mm.field == "auth"
    assert mm.old.startswith("simple(pw#") and mm.new.startswith("simple(pw#")
    assert mm.old != mm.new and "secret" not in mm.detail  # passwords only as fingerprints
    assert (mm.ip, mm.other_ip) == (A, B)
    r = obs.snapshot(at(29 * S)).routers[0]
    assert r.status is Status.MISMATCH and r.mismatches[0].startswith("auth:")


def test_interval_mismatch_once_and_detail_has_both_values() -> None:
    obs = Observer()
    items = merge(
        series(0, 30, S, advert(A)),
        series(5 * S + 500 * MS, 3, 7 * S, advert(B, priority=100, interval_cs=200)),
    )
    events = run(obs, items)
    (mm,) = _mismatches(events)
    assert (mm.field, mm.old, mm.new) == ("advert_interval", "1000 ms", "2000 ms")
    assert "1000 ms" in mm.detail and "2000 ms" in mm.detail
    assert [str(e.kind) for e in events].count("split_brain") == 0


def test_version_change_of_one_sender_is_a_mismatch() -> None:
    obs = Observer()
    events = run(obs, [*series(0, 3, S, advert(A)), *series(3 * S, 3, S, advert(A, version=3))])
    (mm,) = _mismatches(events)
    assert (mm.field, mm.old, mm.new, mm.other_ip) == ("version", "2", "3", None)
    assert mm.time == at(3 * S)


def test_matching_config_is_ok() -> None:
    obs = Observer()
    items = merge(
        series(0, 11, S, advert(A)), series(10 * S + 3_609_575, 3, S, advert(B, priority=100))
    )
    events = run(obs, items)
    assert _mismatches(events) == []
    assert obs.snapshot(at(15 * S)).routers[0].status is Status.OK


def split_kinds(events: list) -> list[tuple[str, int]]:  # type: ignore[type-arg]
    return [k for k in kinds(events) if k[0].startswith("split_brain")]


def test_election_overlap_at_different_intervals_is_not_split_brain() -> None:
    # A (priority 150) advertises every 3 s, B (100) every 1 s. B starts at 9.1 s and,
    # as RFC 5798 6.4.3 has it, stands down when it hears A's next advert at 12 s: it sent
    # 3 adverts in the meantime (a common span of 2 s), which is an election, not a split.
    obs = Observer()
    items = merge(
        series(0, 11, 3 * S, advert(A, priority=150, interval_cs=300)),
        series(9 * S + 100 * MS, 3, S, advert(B, priority=100)),
    )
    events = run(obs, items)
    events += obs.tick(at(31 * S))
    assert split_kinds(events) == []
    assert obs.snapshot(at(30 * S)).routers[0].split_brain is None


def test_split_brain_at_different_intervals_waits_for_the_larger_interval() -> None:
    # The same pair, but B never stands down: both advertise past A's 3 s interval.
    obs = Observer()
    b_start = 9 * S + 100 * MS
    items = merge(
        series(0, 11, 3 * S, advert(A, priority=150, interval_cs=300)),
        series(b_start, 22, S, advert(B, priority=100)),  # 9.1 .. 30.1
    )
    early = run(obs, [c for c in items if c.time < at(b_start + 3 * S)])
    assert split_kinds(early) == []
    events = run(obs, [c for c in items if c.time >= at(b_start + 3 * S)])
    # At A's advert at 15 s both have advertised since 9.1 s up to 14.1 s: 5 s > 3 s.
    assert split_kinds(events)[0] == ("split_brain", 15 * S)
    sb = next(e for e in events if isinstance(e, SplitBrain))
    assert (sb.ips, sb.since) == ((A, B), at(b_start))


def test_split_brain_after_a_release_counts_from_the_new_run() -> None:
    # B releases (priority 0) and half a second later advertises again: its new run
    # starts then, not at its first advert before the release.
    obs = Observer()
    items = merge(
        series(0, 31, S, advert(A, priority=150)),
        series(10 * S + 500 * MS, 4, S, advert(B, priority=100)),  # 10.5 .. 13.5
        [series(14 * S + 500 * MS, 1, S, advert(B, priority=0))[0]],
        series(15 * S, 10, S, advert(B, priority=100)),  # 15.0 .. 24.0
    )
    events = run(obs, items)
    # The second split: both advertising since 15.0; with both adverts of 17.0 in, the
    # common span is 17 - 15 = 2 s, past one interval (at 16.0 it was exactly one).
    assert split_kinds(events)[:3] == [
        ("split_brain", 12 * S + 500 * MS),
        ("split_brain_healed", 14 * S + 500 * MS),
        ("split_brain", 17 * S),
    ]
    second = [e for e in events if isinstance(e, SplitBrain)][2]
    assert second.since == at(15 * S)
