"""Mastership follows the wire, not RFC arithmetic: implementations that take over early
(FRR's whole-centisecond Skew_Time), late, or on their own timers (Cisco, keepalived's
down_timer_adverts) are credited at the advert that shows the takeover. The RFC's wait is
reported beside the gap, as information."""

from __future__ import annotations

from hatui.observe.events import Cause, MasterChange
from hatui.observe.observer import Observer
from hatui.observe.report import snapshot_to_json

from .factory import MS, A, B, C, S, advert, at, merge, run, series

RFC_DOWN_V3_100 = 3 * S + (256 - 100) * S // 256  # 3609375 us at v3 1 s, priority 100


def _changes(obs: Observer, items: list) -> list[MasterChange]:  # type: ignore[type-arg]
    return [e for e in run(obs, items) if isinstance(e, MasterChange)]


def test_frr_takes_over_before_the_rfc_interval_credited_at_its_first_advert() -> None:
    """FRR vrrpd: Skew_Time 600 ms at priority 100 (centiseconds), so its backup speaks
    9.4 ms before RFC 5798's Master_Down_Interval; that first advert is the takeover."""
    obs = Observer()
    takeover = 10 * S + 3 * S + 600 * MS
    items = merge(
        series(0, 11, S, advert(A, version=3, priority=150)),
        series(takeover, 5, S, advert(B, version=3, priority=100)),
    )
    (mc,) = _changes(obs, items)
    assert (mc.from_ip, mc.to_ip, mc.cause) == (A, B, Cause.TIMEOUT)
    assert mc.new_first_advert == at(takeover)
    assert mc.gap_us == 3_600_000
    assert mc.rfc_us == RFC_DOWN_V3_100
    assert "took over 9.4 ms before the RFC Master_Down_Interval" in mc.detail
    (f,) = snapshot_to_json(obs.snapshot(at(takeover + 4 * S)))["failovers"]  # type: ignore[misc]
    assert f["gap_ms"] == 3600.0 and f["rfc_gap_ms"] == 3609.375
    assert f["rfc_delta_ms"] == -9.375


def test_late_takeover_is_a_timeout_with_the_delay_reported() -> None:
    """keepalived with down_timer_adverts 5: the backup waits 5 intervals, not 3."""
    obs = Observer()
    takeover = 10 * S + 5 * S + 609_375
    items = merge(
        series(0, 11, S, advert(A, priority=150)),
        series(takeover, 3, S, advert(B, priority=100)),
    )
    (mc,) = _changes(obs, items)
    assert (mc.cause, mc.gap_us, mc.rfc_us) == (Cause.TIMEOUT, 5_609_375, 3_609_375)
    assert "took over 2000.0 ms after the RFC Master_Down_Interval" in mc.detail


def test_lower_priority_speaking_after_silence_is_the_new_master() -> None:
    """A backup whose own timers fired (Cisco millisecond timers, lost adverts) is master
    on the wire even though RFC arithmetic says the old master could still be alive."""
    obs = Observer()
    takeover = 10 * S + 2 * S  # 2 s of silence: past 1.5 intervals, short of 3.6 s
    items = merge(
        series(0, 11, S, advert(A, priority=150)),
        series(takeover, 3, S, advert(B, priority=100)),
    )
    (mc,) = _changes(obs, items)
    assert (mc.to_ip, mc.cause, mc.gap_us) == (B, Cause.TIMEOUT, 2 * S)
    assert "1609.4 ms before" in mc.detail


def test_master_within_one_and_a_half_intervals_is_still_alive() -> None:
    """At 1.4 intervals of silence the master still counts: a lower priority that speaks
    then is a backup heard, not a takeover; a higher one preempts."""
    obs = Observer()
    items = merge(
        series(0, 11, S, advert(A, priority=150)),
        [series(10 * S + 1400 * MS, 1, S, advert(B, priority=100))[0]],
        series(11 * S, 3, S, advert(A, priority=150)),
    )
    assert _changes(obs, items) == []
    obs = Observer()
    items = merge(
        series(0, 11, S, advert(A, priority=150)),
        series(10 * S + 1400 * MS, 3, S, advert(C, priority=200)),
    )
    (mc,) = _changes(obs, items)
    assert (mc.to_ip, mc.cause, mc.rfc_us) == (C, Cause.PREEMPT, None)
    assert "before the RFC" not in mc.detail and "after the RFC" not in mc.detail


def test_release_cause_comes_from_priority_zero_with_skew_beside_it() -> None:
    """FRR releases too: its backup waits 600 ms, not RFC 5798's 609.4 ms, after priority 0."""
    obs = Observer()
    release = 10 * S + 500 * MS
    items = merge(
        series(0, 11, S, advert(A, version=3, priority=150)),
        [series(release, 1, S, advert(A, version=3, priority=0))[0]],
        series(release + 600 * MS, 3, S, advert(B, version=3, priority=100)),
    )
    (mc,) = _changes(obs, items)
    assert (mc.cause, mc.gap_us, mc.rfc_us) == (Cause.RELEASE, 600 * MS, 609_375)
    assert "took over 9.4 ms before the RFC Skew_Time" in mc.detail


def test_v2_at_two_seconds_uses_v2_skew_for_the_information() -> None:
    """v2 Skew_Time is (256 - priority) / 256 s whatever the interval; v3 scales it."""
    obs = Observer()
    takeover = 20 * S + 6 * S + 609_375
    items = merge(
        series(0, 11, 2 * S, advert(A, priority=150, interval_cs=200)),
        series(takeover, 3, 2 * S, advert(B, priority=100, interval_cs=200)),
    )
    (mc,) = _changes(obs, items)
    assert (mc.cause, mc.gap_us, mc.rfc_us) == (Cause.TIMEOUT, 6_609_375, 6_609_375)
    assert "on the RFC Master_Down_Interval" in mc.detail
    obs = Observer()
    takeover = 20 * S + 6 * S + 1_218_750  # v3 at 2 s: Skew_Time doubles with the interval
    items = merge(
        series(0, 11, 2 * S, advert(A, version=3, priority=150, interval_cs=200)),
        series(takeover, 3, 2 * S, advert(B, version=3, priority=100, interval_cs=200)),
    )
    (mc,) = _changes(obs, items)
    assert (mc.gap_us, mc.rfc_us) == (7_218_750, 7_218_750)
