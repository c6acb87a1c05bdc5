"""The advert rate walks only the ends of the window, and equals the plain formula."""

from __future__ import annotations

from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from hatui.observe.rules import RATE_WINDOW_US
from hatui.observe.views import _rate


def plain(stamps: list[int], now: int) -> float:
    recent = [x for x in stamps if now - RATE_WINDOW_US < x <= now]
    span = recent[-1] - recent[0] if len(recent) >= 2 else 0
    return (len(recent) - 1) * 1_000_000 / span if span > 0 else 0.0


@settings(max_examples=300)
@given(
    st.lists(st.integers(0, 3 * RATE_WINDOW_US), max_size=60), st.integers(0, 3 * RATE_WINDOW_US)
)
def test_rate_equals_the_plain_formula(stamps: list[int], now: int) -> None:
    stamps.sort()
    assert _rate(deque(stamps), now) == plain(stamps, now)


def test_rate_of_a_steady_master() -> None:
    stamps = deque(range(0, 10_000_000, 100_000))  # every 0.1 s for 10 s
    assert _rate(stamps, 9_900_000) == 10.0
