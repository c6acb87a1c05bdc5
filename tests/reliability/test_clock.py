"""Wall-clock steps never move timers: the node runtime and its scheduler run on monotonic time.

Proven with an injected ManualClock whose wall clock is stepped (as NTP or `date -s`
would) while the monotonic one runs on; the machine's own clock is never touched.
"""

from __future__ import annotations

import asyncio

from hatui.clock import SystemClock
from hatui.runtime.node import Node
from hatui.runtime.serve import AsyncioScheduler
from tests.runtime.test_node import ManualScheduler, advert, make_node

HOUR_US = 3_600_000_000


def _script(node: Node, sched: ManualScheduler, steps: dict[int, int]) -> list[tuple[int, str]]:
    """Run a node 3 s (alone, then a higher peer, then silence); step the wall clock as told.

    Returns every side effect with the monotonic time it ran at."""
    seen: list[tuple[int, str]] = []
    io = node.io
    for name in ("send_advert", "add_vips", "remove_vips", "garp", "notify"):
        orig = getattr(io, name)

        def rec(*args: object, _name: str = name, _orig: object = orig) -> None:
            seen.append((node.clock.mono_us(), _name))
            _orig(*args)  # type: ignore[operator]

        setattr(io, name, rec)
    clock = sched.clock
    start = clock.mono_us()
    node.start()
    for t in range(0, 3_000_000, 10_000):
        if t in steps:
            clock.step_wall(steps[t])
        if 1_000_000 <= t < 1_500_000 and t % 100_000 == 0:
            node.on_frame("eth0", advert("192.0.2.12", 200), False)
        sched.run_until(start + t)
    return seen


def test_wall_clock_steps_do_not_move_node_timers() -> None:
    node_a, _, sched_a = make_node(150)
    calm = _script(node_a, sched_a, {})
    node_b, _, sched_b = make_node(150)
    # Forward an hour, back two hours, forward a day, back to where it was.
    steps = {
        200_000: HOUR_US,
        700_000: -2 * HOUR_US,
        1_200_000: 24 * HOUR_US,
        2_000_000: -22 * HOUR_US,
    }
    stepped = _script(node_b, sched_b, steps)
    assert calm == stepped
    kinds = [k for _, k in calm]
    # The script did something worth comparing: master, demoted, master again.
    assert kinds.count("add_vips") == 2 and kinds.count("remove_vips") == 1, kinds
    assert sched_b.clock.wall_us() != sched_a.clock.wall_us()


def test_the_asyncio_scheduler_uses_the_monotonic_clock() -> None:
    """AsyncioScheduler hands monotonic µs to loop.call_at: they must be one time base."""

    async def skew() -> float:
        loop = asyncio.get_running_loop()
        return abs(loop.time() - SystemClock().mono_us() / 1e6)

    assert asyncio.run(skew()) < 0.05

    async def fires() -> float:
        loop = asyncio.get_running_loop()
        clock = SystemClock()
        done = asyncio.Event()
        at = clock.mono_us() + 50_000
        AsyncioScheduler(loop).call_at(at, done.set)  # type: ignore[arg-type]
        await asyncio.wait_for(done.wait(), 2)
        return (clock.mono_us() - at) / 1000

    late_ms = asyncio.run(fires())
    assert 0 <= late_ms < 50, late_ms
