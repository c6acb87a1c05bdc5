"""Time units shared by every layer: integer microseconds, floats only at the edges."""

from typing import NewType

# Monotonic microseconds: deadlines and timers. Never compared with wall time.
MonoUs = NewType("MonoUs", int)
# Wall-clock microseconds since the epoch: capture timestamps, JSON times.
WallUs = NewType("WallUs", int)

US_PER_S = 1_000_000
US_PER_MS = 1_000
US_PER_CS = 10_000


def us_to_s(us: int) -> float:
    """Microseconds to float seconds, for JSON and display only."""
    return us / US_PER_S


def us_to_ms(us: int) -> float:
    """Microseconds to float milliseconds, for JSON and display only."""
    return us / US_PER_MS


def s_to_us(seconds: float) -> int:
    """Float seconds (from flags or config) to integer microseconds, rounded."""
    return round(seconds * US_PER_S)
