"""Deferred effects (GARP rounds, notifications) run in the gaps between a node's timers.

The manual clock stands still unless something advances it, so `CostIO` charges each
send its time: a wake-up that does too much then makes the next timer late, as it would
on a real machine.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from hatui.runtime import node as node_mod
from hatui.vrrp import actions as act
from hatui.vrrp import inputs as inp
from hatui.vrrp.spec import InstanceSpec, Vip
from tests.runtime.test_node import (
    VIP,
    FakeIO,
    ManualScheduler,
    NamedIO,
    advert,
    make_node,
    many,
)

ADVERT_COST_US = 20
GARP_COST_US = 40  # per VIP and round


@dataclass
class CostIO(NamedIO):
    def send_advert(self, spec: InstanceSpec, primary_ip: str, advert: act.SendAdvert) -> None:
        super().send_advert(spec, primary_ip, advert)
        assert self.clock is not None
        self.clock.advance(ADVERT_COST_US)

    def garp(self, spec: InstanceSpec, vips: tuple[Vip, ...]) -> None:
        super().garp(spec, vips)
        assert self.clock is not None
        self.clock.advance(GARP_COST_US * len(vips))


def costly(count: int, interval_us: int = 100_000) -> tuple[node_mod.Node, CostIO, ManualScheduler]:
    node, named, sched = many(count, interval_us, alike=True)
    io = CostIO(clock=named.clock)
    node.io = io
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


def test_without_a_gap_each_wake_up_still_runs_one_deferred_effect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A timeline whose timers never leave EFFECT_MARGIN_US free still announces every
    VIP: a wake-up runs one deferred round when none ran for EFFECT_STARVE_US (16
    masters in step wake up 10 times a second; 160 rounds and 16 notifications take
    18 s)."""
    monkeypatch.setattr(node_mod, "EFFECT_MARGIN_US", 10_000_000)
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
    monkeypatch.setattr(node_mod, "EFFECT_MARGIN_US", 10_000_000)
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
    monkeypatch.setattr(node_mod, "EFFECT_MARGIN_US", 10_000_000)  # one effect a wake-up
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
    monkeypatch.setattr(node_mod, "EFFECT_MARGIN_US", 10_000_000)  # no gap would do
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
    monkeypatch.setattr(node_mod, "EFFECT_MARGIN_US", 10_000_000)
    vips = tuple(Vip(address=f"198.51.100.{k}", prefixlen=24) for k in range(1, 41))
    node, io, sched = make_node(priority=100, vips=vips)
    node.start()
    sched.run_until(1_470_000)  # the wake-up after the takeover's: the first part only
    assert [len(v) for v in announced(io)] == [node_mod.GARP_PART]
    sched.run_until(30_000_000)  # both bursts, one part a wake-up (10 a second)
    assert [len(v) for v in announced(io)] == [16, 16, 8] * 10
    assert node.counters["garp_rounds"] == 10 == node.instance_stats("VI_1")["garp_rounds"]
    sent = announced(io)
    rounds = [sent[k] + sent[k + 1] + sent[k + 2] for k in range(0, len(sent), 3)]
    assert all(sorted(r, key=str) == sorted(vips, key=str) for r in rounds)
