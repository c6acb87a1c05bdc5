"""Exact Skew_Time and Master_Down_Interval figures (RFC 3768 6.1, RFC 5798 6.1)."""

from __future__ import annotations

import pytest

from hatui.vrrp.timing import cs_to_us, master_down_us, skew_us

S = 1_000_000


def test_v2_one_second_priority_100() -> None:
    assert skew_us(100, S, version=2) == 609_375
    assert master_down_us(100, S, version=2) == 3_609_375


def test_v2_skew_is_whole_seconds_over_256_at_any_interval() -> None:
    # RFC 3768 6.1 and keepalived's VRRP_TIMER_SKEW_CALC: v2 does not scale by the interval.
    assert skew_us(100, 2 * S, version=2) == 609_375
    assert master_down_us(100, 2 * S, version=2) == 6_609_375  # keepalived measured 6609.5 ms
    assert master_down_us(150, 5 * S, version=2) == 15_414_062
    # v3 scales: the same figures differ there.
    assert skew_us(100, 2 * S, version=3) == 1_218_750
    assert master_down_us(100, 2 * S, version=3) == 7_218_750


def test_v3_hundred_ms_priority_100() -> None:
    assert skew_us(100, 100_000, version=3) == 60_937  # 60,937.5 truncated
    assert master_down_us(100, 100_000, version=3) == 360_937


def test_higher_priority_waits_less() -> None:
    assert master_down_us(150, S, version=2) == 3_414_062
    assert master_down_us(254, S, version=3) < master_down_us(1, S, version=3)
    assert skew_us(255, S, version=2) == 3_906


def test_centiseconds() -> None:
    assert cs_to_us(100) == S
    assert cs_to_us(1) == 10_000


@pytest.mark.parametrize(("priority", "interval"), [(-1, 1), (256, 1), (100, 0)])
@pytest.mark.parametrize("version", [2, 3])
def test_nonsense_raises(priority: int, interval: int, version: int) -> None:
    with pytest.raises(ValueError):
        skew_us(priority, interval, version=version)
