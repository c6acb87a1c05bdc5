"""Captures read a bounded batch per wake-up, so a flood cannot hold the loop: a node's
small (its timers wait for a read), a watcher's large (fewer wake-ups)."""

from __future__ import annotations

from hatui.adapters.capture import Packet
from hatui.clock import ManualClock
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
