"""Deferred effects (GARP rounds, notifications) run in the gaps between a node's timers,
and timers that neither advertise nor take over wait for the adverts (TIMER_BUDGET_US).

The manual clock stands still unless something advances it, so `CostIO` charges each
send, netlink request and such timer its time: a wake-up that does too much then makes
the next timer late, as it would on a real machine.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import pytest

from hatui.clock import ManualClock
from hatui.runtime import node as node_mod
from hatui.runtime import pacing
from hatui.types import MonoUs
from hatui.vrrp import actions as act
from hatui.vrrp import inputs as inp
from hatui.vrrp.spec import GarpSpec, InstanceSpec, Vip
from hatui.vrrp.state import State
from tests.runtime.test_node import (
    VIP,
    FakeIO,
    ManualScheduler,
    NamedIO,
    advert,
    make_node,
    many,
    many_specs,
    stall,
)

ADVERT_COST_US = 20
GARP_COST_US = 40  # per VIP and round
TIMER_COST_US = 20  # a timer other than an advert's, run through the state machine
ADD_VIPS_COST_US = 300  # a netlink round trip


@dataclass
class CostIO(NamedIO):
    def send_advert(self, spec: InstanceSpec, primary_ip: str, advert: act.SendAdvert) -> None:
        super().send_advert(spec, primary_ip, advert)
        assert self.clock is not None
        self.clock.advance(ADVERT_COST_US)

    def add_vips(self, spec: InstanceSpec, vips: tuple[Vip, ...]) -> None:
        super().add_vips(spec, vips)
        assert self.clock is not None
        self.clock.advance(ADD_VIPS_COST_US)

    def garp(self, spec: InstanceSpec, vips: tuple[Vip, ...]) -> None:
        super().garp(spec, vips)
        assert self.clock is not None
        self.clock.advance(GARP_COST_US * len(vips))


def costly(
    count: int, interval_us: int = 100_000, *, specs: tuple[InstanceSpec, ...] = ()
) -> tuple[node_mod.Node, CostIO, ManualScheduler]:
    specs = specs or many_specs(count, interval_us, alike=True)
    clock = ManualClock(mono=1_000_000)
    io, sched = CostIO(clock=clock), ManualScheduler(clock)
    ips = {s.name: "192.0.2.11" for s in specs}
    node = node_mod.Node(node_mod.NodeSpec(instances=specs), io, clock, sched, ips)
    process = node._process

    def charged(one: node_mod._Instance, event: inp.Input, at: MonoUs | None = None) -> None:
        if isinstance(event, inp.TimerFired) and not one.router.urgent_due(clock.mono_us()):
            clock.advance(TIMER_COST_US)
        process(one, event, at)

    node._process = charged  # type: ignore[method-assign]
    return node, io, sched


def worst_deviation(sent: list[tuple[str, int]], since: int, interval: int) -> int:
    by_name: dict[str, list[int]] = {}
    for name, t in sent:
        if t >= since:
            by_name.setdefault(name, []).append(t)
    return max(
        abs(b - a - interval) for times in by_name.values() for a, b in itertools.pairwise(times)
    )


def garps(io: FakeIO) -> int:
    return len(announced(io))


def announced(io: FakeIO) -> list[tuple[Vip, ...]]:
    """The VIPs of each `garp` call, in order."""
    return [v for k, v in io.log if k == "garp" and isinstance(v, tuple)]


def test_255_takeovers_second_garp_bursts_never_hold_an_advert() -> None:
    """255 masters' second bursts (5 s after the takeover, 1,275 rounds of 40 us) come
    due within 32 ms: they go out in the gaps between the advert groups, all of them,
    and no advert moves by more than a round."""
    node, io, sched = costly(255)
    node.start()
    sched.run_until(1_500_000)
    first = garps(io)
    assert first == 255 * 5
    sched.run_until(8_000_000)
    assert garps(io) == 2 * 255 * 5
    # Over the second bursts; run at once they held the groups after them 3 ms and more.
    assert worst_deviation(io.sent, 2_000_000, 100_000) <= 300


def test_a_cluster_of_due_timers_waits_for_the_adverts_behind_it() -> None:
    """A takeover that ran late (a 40 ms stall) sets its masters' GARP-delay timers from
    one `now`: 5 s on they fall due together, 20 us each through the state machine. A
    wake-up runs them for TIMER_BUDGET_US after its adverts, the rest at the next: no
    advert moves by more than 0.3 ms (run in one go they held the groups behind them
    2.8 ms; the wake-ups for the rest sent adverts up to ADVERT_SLACK_US early while no
    advert was due), and every round is still announced."""
    node, io, sched = costly(255)
    stall(sched, io.clock, 1_360_000, 40_000)  # the Master_Down timers all run late
    node.start()
    sched.run_until(8_000_000)
    assert garps(io) == 2 * 255 * 5
    assert worst_deviation(io.sent, 2_000_000, 100_000) <= 300


def test_an_instance_held_behind_other_timers_sends_its_advert_on_time() -> None:
    """255 masters in 16 advert phases 2 ms apart, with GARP delays chosen so that every
    second burst falls due within 16 us, the last phase's first: the queue of timers
    takes 5 ms, across the next phases, which wait at its end. An instance in it whose
    advert falls due goes first, with its advert: no advert waits for the queue (at its
    turn in it, they went up to 5 ms late)."""
    phases = 255 // pacing.ADVERT_GROUP + 1

    def delay(k: int) -> int:
        phase = k // pacing.ADVERT_GROUP
        return 5_000_000 - phase * pacing.GROUP_STEP_US + (phases - phase)

    specs = tuple(
        replace(s, garp=GarpSpec(master_delay_us=delay(k)))
        for k, s in enumerate(many_specs(255, alike=True))
    )
    node, io, sched = costly(255, specs=specs)
    node.start()
    sched.run_until(8_000_000)
    assert garps(io) == 2 * 255 * 5
    assert worst_deviation(io.sent, 2_000_000, 100_000) <= 300


def test_a_takeover_is_never_held(monkeypatch: pytest.MonkeyPatch) -> None:
    """Master_Down is as urgent as an advert: with no budget left for held timers, 40
    takeovers still run in their own wake-ups, not one at a time in wake-ups after them
    (on this free clock, several at one instant)."""
    monkeypatch.setattr(pacing, "TIMER_BUDGET_US", -1)
    node, _, sched = many(40, alike=True)
    on_timer, at = node.pacer._on_timer, []

    def stamped() -> None:
        at.append(node.clock.mono_us())
        on_timer()

    node.pacer._on_timer = stamped  # type: ignore[method-assign]
    node.start()
    sched.run_until(2_000_000)
    assert {r.state for r in node.status().routers} == {State.MASTER}
    assert len(at) == len(set(at))


def test_with_no_budget_each_wake_up_still_runs_one_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """TIMER_BUDGET_US spent before any held timer ran: one runs regardless, so the
    held GARP delays of the stalled takeover all end (one a wake-up), every second burst
    goes out, and no wake-up comes round again without progress (a spin)."""
    monkeypatch.setattr(pacing, "TIMER_BUDGET_US", -1)
    node, io, sched = costly(255)
    stall(sched, io.clock, 1_360_000, 40_000)
    on_timer, wakes = node.pacer._on_timer, [0]

    def counted() -> None:
        wakes[0] += 1
        assert wakes[0] < 50_000, "spinning"
        on_timer()

    node.pacer._on_timer = counted  # type: ignore[method-assign]
    node.start()
    sched.run_until(8_000_000)
    assert garps(io) == 2 * 255 * 5


def test_without_a_gap_each_wake_up_still_runs_one_deferred_effect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A timeline whose timers never leave EFFECT_MARGIN_US free still announces every
    VIP: a wake-up runs one deferred round when none ran for EFFECT_STARVE_US (16
    masters in step wake up 10 times a second; 160 rounds and 16 notifications take
    18 s)."""
    monkeypatch.setattr(pacing, "EFFECT_MARGIN_US", 10_000_000)
    node, io, sched = costly(16)
    node.start()
    sched.run_until(10_000_000)
    assert 16 * 5 // 2 < garps(io) < 2 * 16 * 5  # one a wake-up: under way, not done
    sched.run_until(25_000_000)
    assert garps(io) == 2 * 16 * 5
    assert worst_deviation(io.sent, 1_500_000, 100_000) <= 100


def test_a_forced_effect_runs_only_after_a_starve_period_with_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Masters at 20 ms with no gap free: a forced round every third wake-up (60 ms, the
    first past EFFECT_STARVE_US since the last), never one every wake-up."""
    monkeypatch.setattr(pacing, "EFFECT_MARGIN_US", 10_000_000)
    node, io, sched = costly(16, 20_000)
    node.start()
    sched.run_until(2_000_000)

    def ran() -> int:  # deferred effects run: start-up's notifications, then the rounds
        return sum(1 for kind, _ in io.log if kind in ("garp", "notify"))

    before = ran()
    sched.run_until(3_000_000)
    assert 0 < before < 16 + 16 * 5 + 16
    assert 14 <= ran() - before <= 18  # 1 s / 60 ms; every wake-up would be 50


def test_a_master_demoted_before_its_rounds_run_announces_no_more_and_notifies_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rounds still waiting when the VIPs go are dropped (never announce an address this
    node no longer holds); notifications keep their order behind the ones waiting."""
    monkeypatch.setattr(pacing, "EFFECT_MARGIN_US", 10_000_000)  # one effect a wake-up
    node, io, sched = make_node(priority=100)
    node.start()
    sched.run_until(1_400_000)  # Master_Down (1.36 s): MASTER; its effects all wait...
    assert garps(io) == 0
    sched.run_until(1_470_000)  # ...and the next wake-up, 100 ms on, runs one
    notified = [v for k, v in io.log if k == "notify"]
    assert notified == ["BACKUP"]  # at start-up; MASTER waits behind four rounds
    assert ("add", (VIP,)) in io.log and garps(io) == 1
    node.on_frame("eth0", advert("192.0.2.12", 200), False)  # a better master: BACKUP
    assert ("remove", (VIP,)) in io.log
    assert [v for k, v in io.log if k == "notify"] == notified  # behind MASTER's
    node.shutdown()
    assert garps(io) == 1
    assert [v for k, v in io.log if k == "notify"] == ["BACKUP", "MASTER", "BACKUP", "STOP"]


def test_with_nothing_waiting_an_operators_garp_goes_out_before_the_command_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Outside a wake-up, with nothing waiting, effects run at once, whatever the timers:
    the operator's "announce again" is done when `command` returns."""
    monkeypatch.setattr(pacing, "EFFECT_MARGIN_US", 10_000_000)  # no gap would do
    node, io, sched = make_node(priority=100)
    node.start()
    sched.run_until(8_000_000)  # both bursts long done
    io.log.clear()
    node.command("VI_1", inp.SendGarp())
    assert io.log == [("garp", (VIP,))] * 5


def test_a_round_of_many_vips_goes_in_parts_and_counts_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """40 VIPs: each round is three items (16, 16, 8), one a wake-up when no gap is free;
    `garp_rounds` counts rounds, not parts."""
    monkeypatch.setattr(pacing, "EFFECT_MARGIN_US", 10_000_000)
    vips = tuple(Vip(address=f"198.51.100.{k}", prefixlen=24) for k in range(1, 41))
    node, io, sched = make_node(priority=100, vips=vips)
    node.start()
    sched.run_until(1_470_000)  # the wake-up after the takeover's: the first part only
    assert [len(v) for v in announced(io)] == [pacing.GARP_PART]
    sched.run_until(30_000_000)  # both bursts, one part a wake-up (10 a second)
    assert [len(v) for v in announced(io)] == [16, 16, 8] * 10
    assert node.counters["garp_rounds"] == 10 == node.instance_stats("VI_1")["garp_rounds"]
    sent = announced(io)
    rounds = [sent[k] + sent[k + 1] + sent[k + 2] for k in range(0, len(sent), 3)]
    assert all(sorted(r, key=str) == sorted(vips, key=str) for r in rounds)


FORTY = tuple(Vip(address=f"198.51.100.{v}", prefixlen=24) for v in range(1, 41))


def spaced_node() -> tuple[node_mod.Node, FakeIO, ManualScheduler, list[int]]:
    """One master, 40 VIPs, keepalived's garp_interval at 30 ms: 3 rounds, no second burst."""
    node, io, sched = make_node(
        priority=100,
        vips=FORTY,
        garp=GarpSpec(master_delay_us=0, master_repeat=3, interval_us=30_000),
    )
    at: list[int] = []
    garp = io.garp

    def stamped(spec: InstanceSpec, vips: tuple[Vip, ...]) -> None:
        at.append(node.clock.mono_us())
        garp(spec, vips)

    io.garp = stamped  # type: ignore[method-assign]
    return node, io, sched, at


def test_spaced_rounds_come_back_at_their_times_in_parts_that_fit_a_gap() -> None:
    """Each of the 3 rounds goes in parts of 16, 16 and 8 VIPs (a round of 40 at once is
    a millisecond in front of whatever timer comes next), the later ones 30 and 60 ms
    after the first, and each counts once."""
    node, io, sched, at = spaced_node()
    node.start()
    sched.run_until(2_000_000)
    assert [len(v) for v in announced(io)] == [16, 16, 8] * 3
    assert [v for part in announced(io)[:3] for v in part] == list(FORTY)
    assert at[3] - at[0] >= 30_000 and at[6] - at[0] >= 60_000
    assert at[6] - at[3] == 30_000
    assert node.status().counters["garp_rounds"] == 3


def test_a_master_demoted_between_spaced_rounds_announces_no_more() -> None:
    """Demoted after the second round: the third, still to come, never goes out."""
    node, io, sched, at = spaced_node()
    node.start()
    sched.run_until(1_375_000)  # the takeover (1.36 s) and its first round
    assert len(at) == 3
    sched.run_until(at[0] + 45_000)  # and the second, 30 ms on
    assert len(at) == 6
    node.on_frame("eth0", advert("192.0.2.12", 200), False)  # a better master: BACKUP
    sched.run_until(at[0] + 200_000)  # the third was due at 60 ms; Master_Down is ~360
    assert len(at) == 6 and ("remove", FORTY) in io.log
