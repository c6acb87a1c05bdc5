"""Exact Skew_Time and Master_Down_Interval figures (RFC 3768 6.1, RFC 5798 6.1)."""

from __future__ import annotations

import pytest

from hatui.vrrp.timing import cs_to_us, master_down_us, skew_us


def test_v2_one_second_priority_100() -> None:
    assert skew_us(100, 1_000_000) == 609_375
    assert master_down_us(100, 1_000_000) == 3_609_375


def test_v3_hundred_ms_priority_100() -> None:
    assert skew_us(100, 100_000) == 60_937  # 60,937.5 truncated
    assert master_down_us(100, 100_000) == 360_937


def test_higher_priority_waits_less() -> None:
    assert master_down_us(150, 1_000_000) == 3_414_062
    assert master_down_us(254, 1_000_000) < master_down_us(1, 1_000_000)
    assert skew_us(255, 1_000_000) == 3_906


def test_centiseconds() -> None:
    assert cs_to_us(100) == 1_000_000
    assert cs_to_us(1) == 10_000


@pytest.mark.parametrize(("priority", "interval"), [(-1, 1), (256, 1), (100, 0)])
def test_nonsense_raises(priority: int, interval: int) -> None:
    with pytest.raises(ValueError):
        skew_us(priority, interval)
