"""One instance's gratuitous ARP/NA bursts: when each is due and how its rounds are spaced.

keepalived's garp_* settings: a burst of garp_master_repeat on becoming master, another
garp_master_delay later (GARP), one every garp_master_refresh (GARP_REFRESH), and on
hearing a lower priority a garp_lower_prio_repeat burst and another garp_lower_prio_delay
later (GARP_LOWER). Without garp_interval a burst's rounds go back to back in one action;
with it, one round now and the rest from the GARP_ROUND timer, at least garp_interval
apart: a burst that starts while another's rounds are pending queues behind them
(keepalived spaces every GARP an interface sends).
"""

from __future__ import annotations

from collections import deque

from hatui.types import MonoUs
from hatui.vrrp.actions import Action, SendGarp
from hatui.vrrp.spec import GarpSpec, Vip
from hatui.vrrp.status import TimerKind


class GarpSchedule:
    """The bursts of one instance. Its timers are the Router's own (one table, one
    deadline); the Router clears them on every state change, and then calls `clear`."""

    __slots__ = ("_garp", "_rounds", "_timers", "_vips")

    def __init__(
        self, timers: dict[TimerKind, MonoUs], garp: GarpSpec, vips: tuple[Vip, ...]
    ) -> None:
        self._timers = timers
        self._garp = garp
        self._vips = vips  # every VIP the instance holds as master
        self._rounds: deque[tuple[Vip, ...]] = deque()  # garp_interval: rounds still due

    def respec(self, garp: GarpSpec, vips: tuple[Vip, ...]) -> None:
        """A reload: new settings and VIPs for the bursts to come."""
        self._garp = garp
        self._vips = vips

    def on_master(self, now: MonoUs) -> list[Action]:
        """Becoming master: the first burst, and the timers of the second and the refresh."""
        garp = self._garp
        out = self.burst(garp.master_repeat, now)
        if garp.master_delay_us > 0:
            self._arm(TimerKind.GARP, now, garp.master_delay_us)
        if garp.refresh_us > 0:
            self._arm(TimerKind.GARP_REFRESH, now, garp.refresh_us)
        return out

    def on_lower(self, now: MonoUs) -> list[Action]:
        """A master heard a lower priority: a burst now and, after a delay, another."""
        garp = self._garp
        if not garp.lower_repeat:
            return []
        out = self.burst(garp.lower_repeat, now)
        if garp.lower_delay_us:
            self._arm(TimerKind.GARP_LOWER, now, garp.lower_delay_us)
        return out

    def fire(self, kind: TimerKind, now: MonoUs) -> list[Action]:
        """One of the GARP timers ran out (the Router has removed it)."""
        garp = self._garp
        match kind:
            case TimerKind.GARP:
                return self.burst(garp.master_repeat, now)
            case TimerKind.GARP_REFRESH:
                self._arm(TimerKind.GARP_REFRESH, now, garp.refresh_us)
                return self.burst(garp.refresh_repeat, now)
            case TimerKind.GARP_LOWER:
                return self.burst(garp.lower_repeat, now) if garp.lower_repeat else []
            case TimerKind.GARP_ROUND:
                vips = self._rounds.popleft()
                if self._rounds:
                    self._arm(TimerKind.GARP_ROUND, now, garp.interval_us)
                return [SendGarp(vips=vips, count=1)]
            case _:
                raise AssertionError(f"{kind} is not a GARP timer")

    def burst(self, count: int, now: MonoUs, vips: tuple[Vip, ...] | None = None) -> list[Action]:
        """A burst of `count` rounds for `vips` (default: all), shaped by garp_interval."""
        vips = self._vips if vips is None else vips
        interval = self._garp.interval_us
        if interval <= 0:
            return [SendGarp(vips=vips, count=count)]
        rounds = self._rounds
        pending = bool(rounds)
        rounds.extend([vips] * count)
        if pending or not rounds:
            return []  # behind the pending rounds: the GARP_ROUND timer is armed
        first = rounds.popleft()
        if rounds:
            self._arm(TimerKind.GARP_ROUND, now, interval)
        return [SendGarp(vips=first, count=1)]

    def drop(self, gone: tuple[Vip, ...]) -> None:
        """Pending rounds never announce a VIP that is gone."""
        kept = [tuple(v for v in r if v not in gone) for r in self._rounds]
        self._rounds = deque(r for r in kept if r)
        if not self._rounds:
            self._timers.pop(TimerKind.GARP_ROUND, None)

    def clear(self) -> None:
        self._rounds.clear()

    def _arm(self, kind: TimerKind, now: MonoUs, after_us: int) -> None:
        self._timers[kind] = MonoUs(now + after_us)
