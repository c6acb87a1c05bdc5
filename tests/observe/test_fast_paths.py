"""The observer's steady-state fast paths (VRRP and CARP through RouterRules.heard, HSRP
through HsrpModel.steady) change nothing: a capture fed with the codec's shared frame
objects (memo hits: the identity test), with a fresh object per frame (memo misses: the
field comparison, or the general path where a fast path tests identity only) and with
every fast path turned off (the general path alone) gives the same document and events."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

import pytest

from hatui.codec.decode import clear_cache, decode
from hatui.codec.frames import Captured, Protocol, VrrpAdvert
from hatui.observe.events import Event, EventKind
from hatui.observe.hsrp import HsrpModel
from hatui.observe.observer import Observer
from hatui.observe.report import event_to_json, snapshot_to_json
from hatui.observe.routers import RouterRules
from hatui.observe.state import RouterState, SenderState
from hatui.types import WallUs
from tests.corpus import scenarios

from .factory import MS, T0, A, S, advert, carp, merge, series

Heard = Callable[[RouterRules, RouterState, VrrpAdvert, int, list[Event], SenderState | None], bool]
_HEARD: Heard = RouterRules.heard


def _general_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every advert and hello takes the general path: the fast paths always decline."""

    def general(
        self: RouterRules,
        r: RouterState,
        frame: VrrpAdvert,
        t: int,
        ev: list[Event],
        s: SenderState | None,
    ) -> bool:
        return False if s is None else _HEARD(self, r, frame, t, ev, s)

    monkeypatch.setattr(RouterRules, "heard", general)
    monkeypatch.setattr(HsrpModel, "steady", lambda *_: False)


def _count_fast(monkeypatch: pytest.MonkeyPatch) -> Counter[Protocol]:
    """Count, per protocol, the adverts the steady-state path took."""
    taken: Counter[Protocol] = Counter()

    def counting(
        self: RouterRules,
        r: RouterState,
        frame: VrrpAdvert,
        t: int,
        ev: list[Event],
        s: SenderState | None,
    ) -> bool:
        fast = _HEARD(self, r, frame, t, ev, s)
        if fast and s is None:
            taken[r.protocol] += 1
        return fast

    monkeypatch.setattr(RouterRules, "heard", counting)
    return taken


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
            clear_cache()  # a fresh object per frame: no identity
        frame = decode(data)
        if frame is not None:
            events += obs.feed(Captured(time=WallUs(t), interface="eth0", frame=frame))
    last = WallUs(frames[-1][0] + 5_000_000)
    events += obs.tick(last)
    doc = snapshot_to_json(obs.snapshot(last))
    return json.dumps({"doc": doc, "events": [event_to_json(e) for e in events]}, sort_keys=True)


def test_shared_fresh_and_general_frames_give_the_same_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frames = _mixed()
    with monkeypatch.context() as m:
        taken = _count_fast(m)
        shared = _feed(frames, shared=True)
    # Not vacuous: VRRP and CARP repeats took the one steady-state path.
    assert taken[Protocol.VRRP] >= 10 and taken[Protocol.CARP] >= 10
    assert shared == _feed(frames, shared=False)
    with monkeypatch.context() as m:
        _general_only(m)
        assert shared == _feed(frames, shared=True)
    doc = json.loads(shared)["doc"]
    assert {r["protocol"] for r in doc["routers"]} == {"vrrp", "hsrp", "carp"}
    assert len(doc["failovers"]) == 13


def _near_capture() -> list[Captured]:
    """A VRRP master and a CARP master each silent for two and a half of their
    intervals and back (a near failover each), and a VRRP master that released
    (priority 0) saying so again 3.5 s later: a priority-0 master's gap is no near
    failover (nothing waits to take over from it). One object per distinct frame, as
    the codec gives."""
    vrrp, released, vhid7 = advert(A), advert(A, vrid=52, priority=0), carp(7)
    return merge(
        series(0, 5, S, vrrp),  # vrid 51, 1 s
        series(7 * S, 2, S, vrrp),  # 3 s after its advert at 4 s
        series(0, 5, S, advert(A, vrid=52)),
        series(5 * S, 1, S, released),
        series(8500 * MS, 1, S, released),
        series(0, 5, S, vhid7),  # advbase 1
        series(6600 * MS, 2, S, vhid7),  # 2.6 s after its advert at 4 s
    )


def _near_events(capture: list[Captured], *, shared: bool) -> list[tuple[str, int, int]]:
    obs = Observer()
    out: list[Event] = []
    for c in capture:
        out += obs.feed(c if shared else replace(c, frame=replace(c.frame)))
    return [
        (e.protocol.value, e.vrid, e.time - T0) for e in out if e.kind is EventKind.NEAR_FAILOVER
    ]


@pytest.mark.parametrize("path", ["shared", "fresh", "general"])
def test_near_failovers_alike_on_every_path(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if path == "general":
        _general_only(monkeypatch)
        taken: Counter[Protocol] = Counter()
    else:
        taken = _count_fast(monkeypatch)
    got = _near_events(_near_capture(), shared=path != "fresh")
    assert got == [("carp", 7, 6600 * MS), ("vrrp", 51, 7 * S)]
    # A memo hit and a miss take the one steady-state path alike: every repeat but the
    # priority change (VRRP 11 of 14 adverts, CARP 6 of 7), the near failovers with them.
    want = {} if path == "general" else {Protocol.VRRP: 11, Protocol.CARP: 6}
    assert dict(taken) == want
