"""The serving node's cost per advert on its steady path, without a lab or sockets.

255 VRRPv3 masters at 0.1 s in one Node with RealNodeIO's advert memo (the senders are
fakes that send nothing), either on a manual clock as fast as Python runs them, or with
`--loop` on the real precise event loop and clock (2,550 adverts/s, so the figure also
holds the wake-ups' cost). Prints CPU microseconds per advert per repeat; the machine
is shared, so compare the best of several, or count instructions under
`valgrind --tool=callgrind` over two lengths (`--seconds`) and take the difference.

    python bench/bench_node.py [--seconds 20] [--repeats 5] [--loop]
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hatui.clock import Clock, ManualClock, SystemClock
from hatui.runtime.node import Node, Scheduler
from hatui.runtime.nodeio import RealNodeIO
from hatui.runtime.serve import AsyncioScheduler, precise_event_loop
from hatui.types import MonoUs
from hatui.vrrp.spec import NodeSpec, Vip
from tests.runtime.test_node import many_specs


class Nothing:
    """Stands in for every adapter: sends, announces and installs nothing."""

    src_ip = "192.0.2.11"
    interface = "eth0"

    def send(self, payload: bytes, dst: str) -> bool:
        return True

    def announce(self, address: str) -> None:
        pass

    def add(self, vip: Vip) -> bool:
        return True

    def remove(self, vip: object) -> bool:
        return True

    def install(self, items: object) -> None:
        pass


class Handle:
    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Manual:
    """Runs callbacks as it moves the manual clock to them."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.queue: list[tuple[int, int, Callable[[], None], Handle]] = []
        self.seq = itertools.count()

    def call_at(self, at: MonoUs, fn: Callable[[], None]) -> Handle:
        handle = Handle()
        heapq.heappush(self.queue, (at, next(self.seq), fn, handle))
        return handle

    def run_until(self, t: int) -> None:
        while self.queue and self.queue[0][0] <= t:
            at, _, fn, handle = heapq.heappop(self.queue)
            if not handle.cancelled:
                self.clock.advance(max(0, at - self.clock.mono_us()))
                fn()
        self.clock.advance(max(0, t - self.clock.mono_us()))


def node(clock: Clock, scheduler: Scheduler) -> Node:
    specs = many_specs(255, alike=True)
    io = RealNodeIO.__new__(RealNodeIO)  # no sockets: only its advert memo runs
    fake = Nothing()
    io.senders = {s.name: fake for s in specs}  # type: ignore[misc]
    io._encoded = {}
    io.notifier = None
    io.garps = {"eth0": fake}  # type: ignore[dict-item]
    io.addresses = {"eth0": fake}  # type: ignore[dict-item]
    io.routes = fake  # type: ignore[assignment]
    return Node(
        NodeSpec(instances=specs), io, clock, scheduler, {s.name: fake.src_ip for s in specs}
    )


def manual(seconds: float, repeats: int) -> None:
    clock = ManualClock(mono=1_000_000)
    sched = Manual(clock)
    n = node(clock, sched)
    n.start()
    sched.run_until(10_000_000)  # masters, their second GARP bursts done
    for _ in range(repeats):
        sent, cpu = n.counters["adverts_out"], time.process_time()
        sched.run_until(clock.mono_us() + int(seconds * 1e6))
        count = n.counters["adverts_out"] - sent
        print(f"{count} adverts  {(time.process_time() - cpu) / count * 1e6:.2f} µs/advert")


async def looped(seconds: float, repeats: int) -> None:
    n = node(SystemClock(), AsyncioScheduler(asyncio.get_running_loop()))
    n.start()
    await asyncio.sleep(6.0)  # masters, their second GARP bursts done
    for _ in range(repeats):
        sent, cpu, t0 = n.counters["adverts_out"], time.process_time(), time.monotonic()
        await asyncio.sleep(seconds)
        count, took = n.counters["adverts_out"] - sent, time.monotonic() - t0
        used = time.process_time() - cpu
        print(f"{count / took:.0f} adverts/s  CPU {100 * used / took:.1f}%  "
              f"{used / count * 1e6:.2f} µs/advert")  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--seconds", type=float, default=20.0, help="simulated (or real) time per repeat"
    )
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--loop", action="store_true", help="the real event loop and clock")
    args = p.parse_args()
    if args.loop:
        precise_event_loop().run_until_complete(looped(args.seconds, args.repeats))
    else:
        manual(args.seconds, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
