"""Clocks: the system's (monotonic for timers, wall for stamps) and a manual one for tests."""

from __future__ import annotations

import time
from typing import Protocol

from hatui.types import MonoUs, WallUs


class Clock(Protocol):
    def mono_us(self) -> MonoUs: ...
    def wall_us(self) -> WallUs: ...


class SystemClock:
    """Timers use the monotonic clock, so wall-clock steps never move them."""

    def mono_us(self) -> MonoUs:
        return MonoUs(time.monotonic_ns() // 1000)

    def wall_us(self) -> WallUs:
        return WallUs(time.time_ns() // 1000)


class ManualClock:
    """A clock tests, replays and screenshots move by hand."""

    def __init__(self, mono: int = 0, wall: int = 1_700_000_000_000_000) -> None:
        self._mono = mono
        self._wall = wall

    def mono_us(self) -> MonoUs:
        return MonoUs(self._mono)

    def wall_us(self) -> WallUs:
        return WallUs(self._wall)

    def advance(self, us: int) -> None:
        self._mono += us
        self._wall += us

    def step_wall(self, us: int) -> None:
        """Move only the wall clock, as an NTP step or an operator's `date -s` would."""
        self._wall += us
