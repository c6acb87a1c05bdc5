"""garp_interval: the Router spaces a burst's rounds with its own GARP_ROUND timer.

keepalived.conf(5): garp_interval is the "delay between gratuitous ARP messages sent on an
interface". Without it a burst is one action of `count` rounds back to back.
"""

from __future__ import annotations

from hatui.types import MonoUs
from hatui.vrrp.actions import AddVips, RemoveVips, SendGarp
from hatui.vrrp.inputs import AdvertReceived, Reconfigure, TimerFired
from hatui.vrrp.inputs import SendGarp as SendGarpCommand
from hatui.vrrp.spec import GarpSpec, Vip
from hatui.vrrp.state import State
from hatui.vrrp.status import TimerKind

from .factory import VIPS, advert, master, spec

GAP = 30_000
SPACED = GarpSpec(master_delay_us=0, master_repeat=3, interval_us=GAP)


def garps(actions: list[object]) -> list[SendGarp]:
    return [a for a in actions if isinstance(a, SendGarp)]


def rounds(r: object, start: int, until: int) -> list[tuple[int, SendGarp]]:
    """Fire the router's timers up to `until`; each GARP action with its time."""
    out: list[tuple[int, SendGarp]] = []
    while True:
        at = r.deadline()  # type: ignore[attr-defined]
        if at is None or at > until:
            return out
        out += [(at - start, g) for g in garps(r.handle(TimerFired(), at))]  # type: ignore[attr-defined]


def test_unspaced_burst_is_one_action_of_all_rounds() -> None:
    r, t0 = master(spec(garp=GarpSpec(master_delay_us=0, master_repeat=5)))
    assert TimerKind.GARP_ROUND not in {r.status(t0).next_timer}
    assert rounds(r, t0, t0 + 900_000) == []


def test_spaced_rounds_come_from_the_router_one_interval_apart() -> None:
    r, t0 = master(spec(garp=SPACED))
    assert rounds(r, t0, t0 + 900_000) == [
        (GAP, SendGarp(vips=VIPS, count=1)),
        (2 * GAP, SendGarp(vips=VIPS, count=1)),
    ]


def test_a_burst_asked_while_rounds_are_pending_queues_behind_them() -> None:
    r, t0 = master(spec(garp=SPACED))
    assert r.handle(SendGarpCommand(), MonoUs(t0 + 1)) == []  # 2 rounds still pending
    got = rounds(r, t0, t0 + 900_000)
    assert [at for at, _ in got] == [GAP * k for k in range(1, 6)]


def test_a_burst_asked_after_the_rounds_ended_starts_at_once() -> None:
    r, t0 = master(spec(garp=SPACED))
    rounds(r, t0, t0 + 3 * GAP)
    now = MonoUs(t0 + 4 * GAP)
    assert r.handle(SendGarpCommand(), now) == [SendGarp(vips=VIPS, count=1)]
    assert [at for at, _ in rounds(r, now, now + 900_000)] == [GAP, 2 * GAP]


def test_leaving_master_drops_the_pending_rounds() -> None:
    r, t0 = master(spec(garp=SPACED, priority=100))
    out = r.handle(AdvertReceived(advert=advert(priority=200)), MonoUs(t0 + 1))
    assert r.state is State.BACKUP and RemoveVips(vips=VIPS) in out
    assert rounds(r, t0, t0 + 2 * GAP + 1) == []


def test_a_reload_that_removes_a_vip_never_announces_it_again() -> None:
    extra = Vip(address="192.0.2.101", prefixlen=24)
    r, t0 = master(spec(garp=SPACED, vips=(*VIPS, extra)))
    out = r.handle(Reconfigure(spec=spec(garp=SPACED, vips=VIPS)), MonoUs(t0 + 1))
    assert RemoveVips(vips=(extra,)) in out
    assert [g.vips for _, g in rounds(r, t0, t0 + 900_000)] == [VIPS, VIPS]


def test_a_reload_that_adds_a_vip_announces_it_behind_the_pending_rounds() -> None:
    extra = Vip(address="192.0.2.101", prefixlen=24)
    r, t0 = master(spec(garp=SPACED))
    out = r.handle(Reconfigure(spec=spec(garp=SPACED, vips=(*VIPS, extra))), MonoUs(t0 + 1))
    assert AddVips(vips=(extra,)) in out and garps(out) == []
    got = [g.vips for _, g in rounds(r, t0, t0 + 900_000)]
    assert got == [VIPS, VIPS, (extra,), (extra,), (extra,)]
