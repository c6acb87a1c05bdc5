"""The observer's steady-state fast paths (VRRP, HSRP, CARP) change nothing: a capture
fed with the codec's shared frame objects (memo hits take the fast paths) and fed with a
fresh object per frame (never the fast paths) gives the same document and events."""

from __future__ import annotations

import json

from hatui.codec.decode import clear_cache, decode
from hatui.codec.frames import Captured
from hatui.observe.observer import Observer
from hatui.observe.report import event_to_json, snapshot_to_json
from hatui.types import WallUs
from tests.corpus import scenarios


def _mixed() -> list[tuple[int, bytes]]:
    """Every corpus capture at once, on one LAN (their groups do not collide)."""
    frames = [f for build in scenarios.SCENARIOS.values() for f in build()]
    return sorted(frames, key=lambda f: f[0])


def _feed(frames: list[tuple[int, bytes]], *, shared: bool) -> str:
    clear_cache()
    obs = Observer()
    events = []
    for t, data in frames:
        if not shared:
            clear_cache()  # a fresh object per frame: no identity, no fast path
        frame = decode(data)
        if frame is not None:
            events += obs.feed(Captured(time=WallUs(t), interface="eth0", frame=frame))
    last = WallUs(frames[-1][0] + 5_000_000)
    events += obs.tick(last)
    doc = snapshot_to_json(obs.snapshot(last))
    return json.dumps({"doc": doc, "events": [event_to_json(e) for e in events]}, sort_keys=True)


def test_shared_and_fresh_frames_give_the_same_document() -> None:
    frames = _mixed()
    shared = _feed(frames, shared=True)
    assert shared == _feed(frames, shared=False)
    doc = json.loads(shared)["doc"]
    assert {r["protocol"] for r in doc["routers"]} == {"vrrp", "hsrp", "carp"}
    assert len(doc["failovers"]) == 13
