"""The node's status for its consoles is built in slices of the loop's time: a timer due
meanwhile waits for one slice, not for 255 rows."""

from __future__ import annotations

import asyncio
import json

from hatui.clock import ManualClock
from hatui.runtime.control import SLICE_US, NodeControl
from hatui.types import MonoUs
from tests.runtime.test_node import many

ROW_US = 40  # what building one row costs, as the ticking clock tells it


class TickingClock(ManualClock):
    """A manual clock that moves ROW_US each time it is read: work that takes time."""

    def mono_us(self) -> MonoUs:
        self.advance(ROW_US)
        return super().mono_us()


def test_the_status_yields_to_the_loop_every_slice_and_lists_every_instance() -> None:
    node, _io, sched = many(255)
    node.start()
    sched.run_until(1_000_000 + 2_000_000)
    clock = TickingClock(mono=sched.clock.mono_us())
    control = NodeControl(node, None, clock, "/nonexistent/control.sock")

    async def build() -> tuple[bytes, int]:
        turns = 0
        done = asyncio.Event()

        def tick() -> None:  # another callback: runs only when the build yields
            nonlocal turns
            turns += 1
            if not done.is_set():
                asyncio.get_running_loop().call_soon(tick)

        asyncio.get_running_loop().call_soon(tick)
        try:
            return await control.node_status_json(), turns
        finally:
            done.set()

    line, turns = asyncio.run(build())
    doc = json.loads(line)
    assert [i["name"] for i in doc["instances"]] == [f"VI_{k}" for k in range(1, 256)]
    assert all(i["state"] == "MASTER" for i in doc["instances"])
    # 255 rows at 40 us is 10.2 ms: a turn every SLICE_US, so about 68 turns; at least
    # half that (one turn for the whole status would hold a due advert 10 ms).
    assert turns >= 255 * ROW_US // SLICE_US // 2
