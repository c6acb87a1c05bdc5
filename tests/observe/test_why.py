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
