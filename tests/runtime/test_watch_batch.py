"""Captures read a bounded batch per wake-up, so a flood cannot hold the loop: a node's
small (its timers wait for a read), a watcher's large (fewer wake-ups)."""

from __future__ import annotations

import asyncio
import itertools

from hatui.adapters.capture import Packet
from hatui.clock import ManualClock, SystemClock
from hatui.codec.build import build_vrrp_frame
from hatui.observe.observer import Observer
from hatui.runtime.nodecap import READ_BATCH as NODE_READ_BATCH
from hatui.runtime.nodecap import NodeCapture
from hatui.runtime.watch import READ_BATCH, Watch
from hatui.types import WallUs


class QueuedCapture:
    """A capture socket with `n` frames queued in the kernel."""

    interface = "eth0"

    def __init__(self, n: int) -> None:
        frame = build_vrrp_frame(
            src_mac="02:00:00:00:00:12", src_ip="192.0.2.12", vrid=7, addresses=("192.0.2.7",)
        )
        self.queue = [Packet(WallUs(1_000 + k), frame, False) for k in range(n)]

    def read_batch(self, limit: int = 512) -> list[Packet]:
        out, self.queue = self.queue[:limit], self.queue[limit:]
        return out


def test_a_node_reads_a_small_batch_per_wake_up_and_sees_every_frame() -> None:
    seen: list[tuple[str, object, bool]] = []
    node = NodeCapture(
        (), lambda interface, frame, outgoing: seen.append((interface, frame, outgoing))
    )
    cap = QueuedCapture(3 * NODE_READ_BATCH + 5)
    node._on_readable(cap)  # type: ignore[arg-type]
    assert len(seen) == NODE_READ_BATCH and len(cap.queue) == 2 * NODE_READ_BATCH + 5
    while cap.queue:
        node._on_readable(cap)  # type: ignore[arg-type]
    assert len(seen) == 3 * NODE_READ_BATCH + 5 and node.read == len(seen)
    interface, frame, outgoing = seen[0]
    assert interface == "eth0" and getattr(frame, "vrid", None) == 7 and outgoing is False


def test_a_watcher_reads_larger_batches() -> None:
    watch = Watch(interfaces=["eth0"], observer=Observer(), clock=ManualClock())
    cap = QueuedCapture(READ_BATCH + 1)
    watch._on_readable(cap)  # type: ignore[arg-type]
    assert watch.stats.read == READ_BATCH and len(cap.queue) == 1


class PacedCapture(QueuedCapture):
    """Records when each read happened (the loop's clock) and how much it returned."""

    def __init__(self, n: int) -> None:
        super().__init__(n)
        self.reads: list[tuple[float, int]] = []

    def read_batch(self, limit: int = 512) -> list[Packet]:
        out = super().read_batch(limit)
        self.reads.append((asyncio.get_running_loop().time(), len(out)))
        return out

    def statistics(self) -> tuple[int, int]:
        return 0, 0

    def close(self) -> None:
        pass


async def test_a_paced_watch_reads_what_queued_every_period_and_a_backlog_at_once() -> None:
    """A LAN view's watch does not wake per frame: it reads on its period, and a full
    batch means more is queued, read on at once (one batch per callback)."""
    watch = Watch(interfaces=["eth0"], observer=Observer(), clock=SystemClock(), read_every_s=0.05)
    cap = PacedCapture(3 * READ_BATCH + 7)
    watch._captures = [cap]  # type: ignore[list-item]
    stop = asyncio.Event()
    start = asyncio.get_running_loop().time()
    task = asyncio.create_task(watch.run(stop))
    await asyncio.sleep(0.35)
    stop.set()
    await task
    paced = cap.reads[:-1]  # the last one is the read at stop
    assert [n for _, n in paced[:4]] == [READ_BATCH] * 3 + [7]
    assert paced[0][0] - start >= 0.05  # nothing before the first period
    assert paced[3][0] - paced[0][0] < 0.12  # the backlog at once, not a batch a period
    assert watch.stats.read == 3 * READ_BATCH + 7
    # Then nothing queued: one read a period, never more often.
    idle = [t for t, _ in paced[4:]]
    assert 1 <= len(idle) <= 6
    assert all(b - a >= 0.049 for a, b in itertools.pairwise([paced[3][0], *idle]))
