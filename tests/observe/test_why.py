"""Why each failover happened, as the wire shows it: RFC 8347's reason and the evidence."""

from __future__ import annotations

from hatui.observe.events import MasterChange, Reason
from hatui.observe.observer import Observer
from hatui.observe.report import snapshot_to_json

from .factory import MS, A, B, S, advert, at, merge, run, series

# T0 (factory) is 22:13:20 UTC.
# RFC 3768 6.1 for a priority-100 backup at 1 s: 3 s + (256 - 100) / 256 s.
DOWN_100_MS = 3000 + (256 - 100) * 1000 / 256  # 3609.375 ms


def only_change(events: list) -> MasterChange:  # type: ignore[type-arg]
    (mc,) = [e for e in events if isinstance(e, MasterChange)]
    return mc


def test_priority_fall_then_preempt_names_the_fall_and_its_delay() -> None:
    """The issue's case: the master's tracked script fails, its priority falls 150 -> 90,
    and the 120 backup preempts it 266 ms later."""
    obs = Observer()
    fall = 10 * S
    take = fall + 266 * MS
    items = merge(
        series(0, 10, S, advert(A, priority=150)),
        series(fall, 2, 100 * MS, advert(A, priority=90)),
        series(take, 5, S, advert(B, priority=120)),
    )
    mc = only_change(run(obs, items))
    assert mc.reason is Reason.PREEMPTED
    assert mc.why == (
        f"eth0 ipv4 vrid 51: {A} priority 150 -> 90 at 22:13:30.000, below {B}'s 120:"
        " preempted, 266.0 ms later"
    )
    doc = snapshot_to_json(obs.snapshot(at(take + S)))
    (f,) = doc["failovers"]  # type: ignore[misc]
    assert (f["reason"], f["why"]) == ("preempted", mc.why)
    (ev,) = [e for e in doc["events"] if e["kind"] == "master_change"]  # type: ignore[union-attr]
    assert (ev["reason"], ev["why"]) == ("preempted", mc.why)


def test_silence_is_no_response_with_missed_intervals_and_the_rfc_figure() -> None:
    obs = Observer()
    take = 9 * S + 3_609_375 + 500
    items = merge(
        series(0, 10, S, advert(A, priority=150)),
        series(take, 3, S, advert(B, priority=100)),
    )
    mc = only_change(run(obs, items))
    assert mc.reason is Reason.NO_RESPONSE
    assert mc.why == (
        f"eth0 ipv4 vrid 51: {A} (priority 150) silent after its last advert at 22:13:29.000,"
        f" 3 intervals missed; {B} (100) took over after 3609.9 ms: no-response,"
        f" RFC Master_Down_Interval {DOWN_100_MS:.1f} ms (+0.5)"
    )


def test_priority_zero_is_released_against_skew_time() -> None:
    obs = Observer()
    bye = 5 * S
    take = bye + 609_375  # RFC 3768 Skew_Time of priority 100: 156/256 s
    items = merge(
        series(0, 5, S, advert(A, priority=150)),
        [series(bye, 1, S, advert(A, priority=0))[0]],
        series(take, 3, S, advert(B, priority=100)),
    )
    mc = only_change(run(obs, items))
    assert mc.reason is Reason.RELEASED
    assert mc.why == (
        f"eth0 ipv4 vrid 51: {A} sent priority 0 at 22:13:25.000; {B} (100) took over"
        " 609.4 ms later: released, RFC Skew_Time 609.4 ms (+0.0)"
    )


def test_higher_newcomer_is_preempted_without_a_fall() -> None:
    obs = Observer()
    items = merge(
        series(0, 5, S, advert(B, priority=100)),
        series(4 * S + 300 * MS, 3, S, advert(A, priority=150)),
    )
    mc = only_change(run(obs, items))
    assert mc.reason is Reason.PREEMPTED
    assert mc.why == f"eth0 ipv4 vrid 51: {A} priority 150 above master {B}'s 100: preempted"
    doc = snapshot_to_json(obs.snapshot(at(8 * S)))
    (r,) = doc["routers"]  # type: ignore[misc]
    assert [h["reason"] for h in r["history"]] == ["not-master", "preempted"]


def test_two_missed_adverts_are_one_near_failover_and_no_failover() -> None:
    """v3 at 0.1 s: the master's adverts at 1.1 s and 1.2 s are lost; the next, 300 ms
    after the last one heard, ends the silence. The backup (100) would have waited
    3 * 100 + (256 - 100) * 100 / 256 ms (RFC 5798 6.1)."""
    obs = Observer()
    iv = 100 * MS
    items = merge(
        series(0, 1, S, advert(B, priority=100, version=3, interval_cs=10)),  # B speaks first
        series(2 * S, 10, iv, advert(A, priority=150, version=3, interval_cs=10)),
        series(2 * S + 12 * iv, 10, iv, advert(A, priority=150, version=3, interval_cs=10)),
    )
    events = run(obs, items)
    near = [e for e in events if e.kind == "near_failover"]
    assert len(near) == 1
    (n,) = near
    assert (n.ip, n.silence_us, n.time) == (A, 3 * iv, at(2 * S + 12 * iv))
    assert n.master_down_us == 300_000 + (256 - 100) * 100_000 // 256 == 360_937
    assert n.margin_us == 60_937
    assert "2 adverts missed" in n.detail
    assert [e for e in events if isinstance(e, MasterChange)][-1].to_ip == A  # A's election
    snap = obs.snapshot(at(2 * S + 22 * iv))
    assert snap.routers[0].near_failovers == 1
    ev = [e for e in snapshot_to_json(snap)["events"] if e["kind"] == "near_failover"]  # type: ignore[union-attr]
    assert ev[0]["silence_ms"] == 300.0 and ev[0]["margin_ms"] == 60.937


def test_one_missed_advert_is_not_a_near_failover_in_both_paths() -> None:
    """A gap of two intervals (one advert lost) is ordinary loss. The fast path (identical
    frames) and the slow path (a changed frame) both judge the same gap."""
    iv = 100 * MS
    for second in (150, 151):  # 151: the priority differs, so the slow path runs
        obs = Observer()
        items = merge(
            series(0, 10, iv, advert(A, priority=150, version=3, interval_cs=10)),
            series(11 * iv, 1, iv, advert(A, priority=second, version=3, interval_cs=10)),
            series(14 * iv, 1, iv, advert(A, priority=second, version=3, interval_cs=10)),
        )
        events = run(obs, items)
        near = [e for e in events if e.kind == "near_failover"]
        assert [e.silence_us for e in near] == [3 * iv], second  # 11 -> 14: two missed
