"""The node runtime: drives one Router per instance with frames, timers, links and commands.

After every input the actions run in order through `NodeIO` (sockets, netlink, scripts)
and one timer is re-armed at the earliest deadline of all routers, as aioquic's
protocol adapter does. The scheduler and the I/O are injected, so tests drive a node
with a manual clock and fake I/O, and the runtime decides nothing itself.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Protocol, assert_never

from hatui.clock import Clock
from hatui.codec.frames import Family, Frame, Rejected, VrrpAdvert
from hatui.errors import RuntimeFault
from hatui.types import MonoUs, WallUs
from hatui.vrrp import actions as act
from hatui.vrrp import inputs as inp
from hatui.vrrp.group import SyncGroup, member_view
from hatui.vrrp.machine import Router
from hatui.vrrp.spec import InstanceSpec, NodeSpec, SyncGroupSpec, Vip, live_change, same_config
from hatui.vrrp.state import State
from hatui.vrrp.status import RouterStatus
from hatui.vrrp.validate import validate

log = logging.getLogger(__name__)

# How early an advert may go out to share a wake-up with another: far below any timer a
# peer runs on (Master_Down_Interval is at least 3 advert intervals), and below the 2 ms
# jitter keepalived itself shows at 255 instances.
ADVERT_SLACK_US = 1_000
LATE_ON_GRID_US = 10_000  # a late Master_Down still runs at its deadline up to this
# At most ADVERT_GROUP adverts in step (deadlines within ADVERT_SLACK_US), the groups
# GROUP_STEP_US apart: Python spends tens of us per advert, so 255 in one burst would put
# the last one milliseconds after the first, by an amount that varies with the machine.
# Instances start in such groups; adverts that fell into step later (a mass takeover
# after a stall, a reload) beyond the first ADVERT_GROUP move one step on, once.
ADVERT_GROUP = 16
GROUP_STEP_US = 2_000  # more than ADVERT_SLACK_US, so the groups stay apart
# Effects that wait for the end of a wake-up, then for gaps between timers: 16 takeovers'
# GARP bursts (5 rounds each, again 5 s after the takeover by default) or notify scripts'
# forks cost milliseconds. 255 masters' second bursts come due within 32 ms of each other,
# 1,275 rounds, tens of milliseconds in all: run at once, they held adverts up to 7 ms.
_AFTER_ADVERTS = (act.SendGarp, act.Notify)
# Deferred effects stop this long before the next timer (a wake-up is ~0.15 ms late, a
# GARP round tens of us). One that waited EFFECT_STARVE_US with none run goes at the next
# wake-up regardless, so a timeline with no such gap still moves (one a wake-up).
EFFECT_MARGIN_US = 500
EFFECT_STARVE_US = 50_000
# Timers that neither advertise nor take over (GARP bursts' delay and refresh, the end of
# a preempt delay) cost tens of us each through the state machine. 255 masters' GARP-delay
# timers can come due at one instant (a takeover that ran late sets them all from one
# `now`): run together, 175 of them held the next advert group 2.7 ms (bench_scale
# --trace). A wake-up runs such timers for this long after its adverts; the rest wait, in
# deadline order, for the next wake-up, at once. Takeovers are not held: they are as
# urgent as adverts, and held ones ran so late (255 took ~0.3 s) that their masters'
# adverts lost the grid and spread over ~74 phases where 16 had been: twice the CPU.
TIMER_BUDGET_US = 200
GARP_PART = 16  # VIPs a deferred item announces: a few hundred us at most
_TIMER_FIRED = inp.TimerFired()  # frozen and empty: one will do


class NodeIO(Protocol):
    """The side effects a node performs; the real one wraps the adapters."""

    def send_advert(self, spec: InstanceSpec, primary_ip: str, advert: act.SendAdvert) -> None: ...
    def add_vips(self, spec: InstanceSpec, vips: tuple[Vip, ...]) -> None: ...
    def remove_vips(self, spec: InstanceSpec, vips: tuple[Vip, ...]) -> None: ...
    def garp(self, spec: InstanceSpec, vips: tuple[Vip, ...]) -> None: ...
    def notify(self, spec: InstanceSpec | SyncGroupSpec, state: str, priority: int) -> None: ...
    def open_instance(self, spec: InstanceSpec) -> str:
        """A reload added `spec`: open its sockets; returns its primary address."""
        ...

    def close_instance(self, spec: InstanceSpec) -> None: ...


class Handle(Protocol):
    def cancel(self) -> None: ...


class Scheduler(Protocol):
    """Calls `fn` once the monotonic clock reaches `at` (µs)."""

    def call_at(self, at: MonoUs, fn: Callable[[], None]) -> Handle: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeEvent:
    """Something the node did, for the log, the UI and `hatui ctl`."""

    time: WallUs
    instance: str
    kind: str  # transition | command | discard | log | error | near_failover
    detail: str
    state: str
    priority: int
    reason: str = ""  # a transition's RFC 8347 new-master-reason (docs/json.md)
    why: str = ""  # the evidence, one line: a transition's, a priority change's


@dataclass(frozen=True, slots=True, kw_only=True)
class LastTransition:
    """An instance's last state change: when (wall clock), what, and why."""

    time: WallUs
    old: str
    new: str
    cause: str
    reason: str
    why: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceHistory:
    """What an instance's transitions add to its status: the last one, counts by the
    state entered, near failovers (its Master_Down timer within an interval of expiry)."""

    last: LastTransition | None
    transitions: dict[str, int]
    near_failovers: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeStatus:
    routers: tuple[RouterStatus, ...]
    counters: dict[str, int]
    now: MonoUs
    histories: dict[str, InstanceHistory] = field(default_factory=dict)


class Counts(dict[str, int]):
    """Counters that read 0 until first counted, as a Counter does, and count at dict
    speed: Counter defines __delitem__ in Python, which sends every store through a
    Python slot wrapper (twice the cost of a dict's, three stores an advert)."""

    def __missing__(self, key: str) -> int:
        return 0


@dataclass(frozen=True, slots=True)
class _Deferred:
    """An effect waiting for a gap between timers: one GARP round, or a notification."""

    run: Callable[[], None]
    garp_of: _Instance | None = None  # a GARP round: dropped when its instance's VIPs go


@dataclass(eq=False)
class _Instance:
    router: Router
    garps: list[Handle] = field(default_factory=list)
    # Per instance, as keepalived's exporter reports them: advert_sent/_rcvd,
    # pri_zero_sent/_rcvd, become_master, release_master, garp_rounds, discard_<reason>.
    stats: Counts = field(default_factory=lambda: Counts())
    deadline: MonoUs | None = None  # the router's deadline as last entered in the heap
    last: LastTransition | None = None
    transitions: Counts = field(default_factory=lambda: Counts())  # by the state entered


class Node:
    """Every VRRP instance of one node, wired to injected I/O, clock and scheduler."""

    def __init__(
        self,
        spec: NodeSpec,
        io: NodeIO,
        clock: Clock,
        scheduler: Scheduler,
        primary_ips: dict[str, str],
    ) -> None:
        """`primary_ips` maps each instance name to the address its adverts come from."""
        self.spec = spec
        self.io = io
        self.clock = clock
        self.scheduler = scheduler
        self.counters = Counts()
        self.listeners: list[Callable[[NodeEvent], None]] = []
        self._instances: dict[str, _Instance] = {}
        self._by_key: dict[tuple[str, Family, int], _Instance] = {}
        for ispec in spec.instances:
            one = _Instance(Router(ispec, primary_ip=primary_ips[ispec.name]))
            self._instances[ispec.name] = one
            self._by_key[(ispec.interface, ispec.family, ispec.vrid)] = one
        self._groups = _sync_groups(spec)
        self.own_ips = frozenset(primary_ips.values())
        self._timer: Handle | None = None
        self._timer_at: MonoUs | None = None
        # Every router's deadline in one heap (stale entries skipped when they surface):
        # with 255 instances, scanning them all after each input cost 65 % of a core.
        self._due: list[tuple[MonoUs, int, _Instance]] = []
        # Due timers a wake-up left for the next (TIMER_BUDGET_US), oldest first; an
        # entry is stale, as in the heap, once its instance's deadline moved.
        self._held: deque[tuple[MonoUs, _Instance]] = deque()
        self._starts: list[Handle] = []
        self._seq = itertools.count()
        # Within a wake-up, announcements and notifications wait until its adverts are
        # all out, then run in the gaps before later timers (in order: while any wait,
        # later ones queue behind them).
        self._waking = False
        self._backlog: deque[_Deferred] = deque()
        self._progress_at = 0  # when a deferred effect last ran, or the first was queued
        self.running = False

    # -- inputs ---------------------------------------------------------------------

    def start(self, on_started: Callable[[], None] | None = None) -> None:
        """Start every instance, ADVERT_GROUP at one instant (keepalived's loop starts them
        at one `time_now`), the groups GROUP_STEP_US apart: instances with the same
        timing stay in step within a group, so one wake-up serves it, and the groups
        stay apart, so no wake-up sends 255 adverts in a row (a burst of several ms in
        Python, which an advert at its end would feel as jitter). All are started within
        255 / ADVERT_GROUP * GROUP_STEP_US (32 ms); `on_started` runs then."""
        self.running = True
        ones = list(self._instances.values())
        groups = [ones[i : i + ADVERT_GROUP] for i in range(0, len(ones), ADVERT_GROUP)]

        def start_group(k: int) -> None:
            if not self.running:
                return
            now = self.clock.mono_us()
            self._waking = True
            try:
                for one in groups[k]:
                    self._process(one, inp.Startup(), now)
            finally:
                self._waking = False
                self._drain(wake=True)
            self._rearm()
            if k + 1 == len(groups) and on_started is not None:
                on_started()

        if not groups:
            if on_started is not None:
                on_started()
            return
        start_group(0)
        t0 = self.clock.mono_us()
        for k in range(1, len(groups)):
            self._starts.append(
                self.scheduler.call_at(MonoUs(t0 + k * GROUP_STEP_US), partial(start_group, k))
            )

    def shutdown(self) -> None:
        """Every master sends priority 0 and drops its VIPs; notify_stop runs."""
        for handle in self._starts:  # instances not started yet stay in INIT
            handle.cancel()
        self._starts.clear()
        for one in self._instances.values():
            self._apply(one, inp.Shutdown())
        while self._backlog:  # the notifications still waiting, in order (no GARP is left)
            self._backlog.popleft().run()
        self.running = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def on_frame(self, interface: str, frame: Frame | Rejected, outgoing: bool) -> None:
        """A decoded frame from the capture: adverts for our instances go to their router."""
        if outgoing or type(frame) is not VrrpAdvert or not self.running:
            return
        if frame.src_ip in self.own_ips:
            self.counters["own"] += 1
            return
        one = self._by_key.get((interface, frame.family, frame.vrid))
        if one is not None:
            self.counters["adverts_in"] += 1
            one.stats["advert_rcvd"] += 1
            if frame.priority == 0:
                one.stats["pri_zero_rcvd"] += 1
            self._apply(one, inp.AdvertReceived(advert=frame))

    def command(self, instance: str, command: inp.OperatorCommand) -> None:
        """An operator command (TUI key or `hatui ctl`); unknown instance -> KeyError."""
        one = self._instances.get(instance)
        if one is None:
            raise KeyError(f"no instance named {instance!r}")
        self._emit(one, "command", type(command).__name__.lower())
        self._apply(one, command)

    def link(self, interface: str, up: bool) -> None:
        """The interface's carrier changed: its own instances see LinkChanged, trackers too."""
        for one in self._instances.values():
            spec = one.router.spec
            if spec.interface == interface:
                self._apply(one, inp.LinkChanged(up=up))
            if any(t.name == interface for t in spec.track_interfaces):
                self._apply(one, inp.TrackChanged(kind="interface", name=interface, ok=up))

    def track(
        self, kind: inp.TrackKind, name: str, ok: bool, value: int = 0, detail: str = ""
    ) -> None:
        """A tracked script, file or process reported; every instance tracking it hears it.
        `detail` is the evidence ("exit 1", "timed out after 2 s")."""
        change = inp.TrackChanged(kind=kind, name=name, ok=ok, value=value, detail=detail)
        for one in self._instances.values():
            if any(t.name == name for t in one.router.spec.tracked(kind)):
                self._apply(one, change)

    def reload(self, spec: NodeSpec) -> list[str]:
        """Run `spec` from now on, as keepalived reloads: unchanged instances are left
        alone, live changes keep state, VIPs and timers, instances whose identity on the
        wire changed restart, removed ones shut down (priority 0 if master), new ones start.
        Returns one line per change. New instances are checked and their sockets opened
        first: if that fails, it raises and nothing has changed."""
        old = {name: one.router.spec for name, one in self._instances.items()}
        new = {i.name: i for i in spec.instances}
        for name, ispec in new.items():
            if name in old and live_change(old[name], ispec):
                validate(ispec, self._instances[name].router.primary_ip)
        fresh: dict[str, _Instance] = {}
        try:
            for name, ispec in new.items():
                if name not in old:
                    fresh[name] = self._open(ispec)
        except BaseException:
            for one in fresh.values():
                self.io.close_instance(one.router.spec)
            raise
        changes = [f"{name}: added" for name in fresh]
        for name, ispec in old.items():
            if name not in new or not live_change(ispec, new[name]):
                self._close(name)
                changes.append(f"{name}: {'removed' if name not in new else 'restarted'}")
                if name in new:
                    fresh[name] = self._open(new[name])
        self.spec = spec
        self._groups = _sync_groups(spec)
        for name, ispec in new.items():
            kept = self._instances.get(name)
            if kept is not None and not same_config(kept.router.spec, ispec):
                self._process(kept, inp.Reconfigure(spec=ispec))
                changes.append(f"{name}: updated")
        self._rearm()
        self._instances.update(fresh)
        for one in fresh.values():
            s = one.router.spec
            self._by_key[(s.interface, s.family, s.vrid)] = one
        # Config order, as at start-up, so reports and status read the same after a reload.
        self._instances = {name: self._instances[name] for name in new}
        self.own_ips = self.own_ips | {one.router.primary_ip for one in fresh.values()}
        if self.running:
            for one in fresh.values():
                self._apply(one, inp.Startup())
        return changes

    def _open(self, ispec: InstanceSpec) -> _Instance:
        primary = self.io.open_instance(ispec)
        try:
            return _Instance(Router(ispec, primary_ip=primary))
        except BaseException:
            self.io.close_instance(ispec)
            raise

    def _close(self, name: str) -> None:
        """Shut one instance down (priority 0 if master, VIPs removed) and forget it."""
        one = self._instances[name]
        self._apply(one, inp.Shutdown())  # while its sync group can still find it
        del self._instances[name]
        spec = one.router.spec
        del self._by_key[(spec.interface, spec.family, spec.vrid)]
        for handle in one.garps:
            handle.cancel()
        one.deadline = None  # its heap entries are stale from now on
        self.io.close_instance(spec)

    # -- status ---------------------------------------------------------------------

    def status(self) -> NodeStatus:
        now = self.clock.mono_us()
        return NodeStatus(
            routers=tuple(one.router.status(now) for one in self._instances.values()),
            counters=dict(self.counters),
            now=now,
            histories={name: self.history(name) for name in self._instances},
        )

    def instance_stats(self, name: str) -> Counts:
        return self._instances[name].stats

    def history(self, name: str) -> InstanceHistory:
        one = self._instances[name]
        return InstanceHistory(
            last=one.last,
            transitions=dict(one.transitions),
            near_failovers=one.stats["near_failover"],
        )

    def states(self) -> dict[str, tuple[str, int]]:
        """Each instance's state and effective priority, cheaply (systemd's STATUS=)."""
        return {
            name: (str(one.router.state), one.router.effective_priority)
            for name, one in self._instances.items()
        }

    def instance_names(self) -> list[str]:
        return list(self._instances)

    def router(self, name: str) -> Router:
        return self._instances[name].router

    # -- the engine -----------------------------------------------------------------

    def _apply(self, one: _Instance, event: inp.Input) -> None:
        """Run one input (and its sync group's consequences), then re-arm the timer."""
        self._process(one, event)
        self._rearm()
        self._drain(wake=False)

    def _process(self, one: _Instance, event: inp.Input, at: MonoUs | None = None) -> None:
        """Run one input, then whatever the instance's sync group makes of it, in order.
        `at`: the time to run it at (an advert sent a little ahead of its deadline)."""
        now = self.clock.mono_us() if at is None else at
        if not self._groups:  # no sync group: nothing follows from it
            self._run_all(one, one.router.handle(event, now))
            self._track_deadline(one)
            return
        pending: deque[tuple[_Instance, inp.Input]] = deque([(one, event)])
        while pending:
            target, item = pending.popleft()
            actions = target.router.handle(item, now)
            self._run_all(target, actions)
            pending.extend(self._group_inputs(target, actions))
            self._track_deadline(target)

    def _run_all(self, one: _Instance, actions: Iterable[act.Action]) -> None:
        for action in actions:
            if type(action) in _AFTER_ADVERTS and (self._waking or self._backlog):
                self._defer(one, action)
                continue
            self._run_now(one, action)

    def _run_now(self, one: _Instance, action: act.Action) -> None:
        try:
            self._run(one, action)
        except Exception as exc:  # one failed effect must not stop the others
            self._failed(one, action, exc)

    def _defer(self, one: _Instance, action: act.Action) -> None:
        backlog = self._backlog
        if not backlog:
            self._progress_at = self.clock.mono_us()
        if not isinstance(action, act.SendGarp):
            backlog.append(_Deferred(partial(self._run_now, one, action)))
        elif action.interval_us > 0:  # the first round; the later ones at their times
            self._queue_round(one, action)
            backlog.append(_Deferred(partial(self._space_rounds, one, action), one))
        else:
            for _ in range(action.count):
                self._queue_round(one, action)

    def _queue_round(self, one: _Instance, action: act.SendGarp) -> None:
        """One round of `action`'s burst, in parts that fit a gap between timers."""
        vips = action.vips
        for k in range(0, len(vips), GARP_PART):
            part = partial(self._garp_part, one, action, vips[k : k + GARP_PART], k == 0)
            self._backlog.append(_Deferred(part, one))

    def _space_rounds(self, one: _Instance, action: act.SendGarp) -> None:
        """Rounds 2.. of a burst with `garp_interval`, each interval_us after the last: each
        queues for the gaps between timers when its time comes."""

        def due() -> None:
            self._defer(one, replace(action, count=1, interval_us=0))
            self._drain(wake=False)

        now = self.clock.mono_us()
        for k in range(1, action.count):
            one.garps.append(self.scheduler.call_at(MonoUs(now + k * action.interval_us), due))

    def _garp_part(
        self, one: _Instance, action: act.SendGarp, vips: tuple[Vip, ...], first: bool
    ) -> None:
        """Part of one round of `action`'s burst; the round counts once."""
        try:
            self.io.garp(one.router.spec, vips)
        except Exception as exc:
            self._failed(one, action, exc)
            return
        if first:
            self.counters["garp_rounds"] += 1
            one.stats["garp_rounds"] += 1

    def _drain(self, *, wake: bool) -> None:
        """Run deferred effects while the next timer is EFFECT_MARGIN_US away or more; at a
        wake-up (`wake`), one regardless if none has run for EFFECT_STARVE_US."""
        backlog, clock = self._backlog, self.clock
        forced = wake and clock.mono_us() - self._progress_at >= EFFECT_STARVE_US
        while backlog:
            if not forced:
                at = self._earliest()
                if at is not None and clock.mono_us() + EFFECT_MARGIN_US > at:
                    return
            forced = False
            backlog.popleft().run()
            self._progress_at = clock.mono_us()

    def _failed(self, one: _Instance, action: act.Action, exc: Exception) -> None:
        self.counters["io_errors"] += 1
        name, what = one.router.spec.name, type(action).__name__
        if isinstance(exc, RuntimeFault):  # an expected failure: its line says it
            log.error("%s: %s failed: %s", name, what, exc)
        else:
            log.exception("%s: %s failed", name, what)
        self._emit(one, "error", f"{what} failed: {exc}")

    def _send(self, one: _Instance, advert: act.SendAdvert) -> None:
        """Send one advert and count it (never deferred: adverts go first in a wake-up)."""
        router = one.router
        self.io.send_advert(router.spec, router.primary_ip, advert)
        self.counters["adverts_out"] += 1
        stats = one.stats
        stats["advert_sent"] += 1
        if advert.priority == 0:
            stats["pri_zero_sent"] += 1

    def _track_deadline(self, one: _Instance) -> None:
        at = one.router.deadline()
        if at != one.deadline:
            one.deadline = at
            if at is not None:
                heapq.heappush(self._due, (at, next(self._seq), one))

    def _earliest(self) -> MonoUs | None:
        """The earliest live deadline, dropping entries a later input superseded. A held
        timer is past due: the next wake-up comes at once."""
        due, held = self._due, self._held
        while due and due[0][0] != due[0][2].deadline:
            heapq.heappop(due)
        while held and held[0][0] != held[0][1].deadline:
            held.popleft()
        if held:
            return min(held[0][0], due[0][0]) if due else held[0][0]
        return due[0][0] if due else None

    def _group_inputs(
        self, one: _Instance, actions: list[act.Action]
    ) -> list[tuple[_Instance, inp.Input]]:
        entry = self._groups.get(one.router.spec.name)
        if entry is None:
            return []
        group, gspec = entry
        view = {m: member_view(self._instances[m].router) for m in group.members}
        step = group.follow(one.router.spec.name, actions, view)
        if step.entered is not None:
            log.info("sync group %s: %s", group.name, step.entered)
            self._effect(partial(self._notify_group, gspec, str(step.entered)))
        return [(self._instances[m], event) for m, event in step.inputs]

    def _notify_group(self, gspec: SyncGroupSpec, state: str) -> None:
        try:
            self.io.notify(gspec, state, 0)
        except Exception:
            self.counters["io_errors"] += 1
            log.exception("sync group %s: notify failed", gspec.name)

    def _effect(self, fn: Callable[[], None]) -> None:
        """Run `fn` now, or after the current wake-up's adverts and the effects before it."""
        if self._waking or self._backlog:
            if not self._backlog:
                self._progress_at = self.clock.mono_us()
            self._backlog.append(_Deferred(fn))
        else:
            fn()

    def _run(self, one: _Instance, action: act.Action) -> None:
        spec = one.router.spec
        match action:
            case act.SendAdvert():
                self._send(one, action)
            case act.AddVips(vips=vips):
                self.io.add_vips(spec, vips)
            case act.RemoveVips(vips=vips):
                for handle in one.garps:
                    handle.cancel()
                one.garps.clear()
                if any(d.garp_of is one for d in self._backlog):  # never announce a VIP gone
                    kept = [d for d in self._backlog if d.garp_of is not one]
                    self._backlog.clear()
                    self._backlog.extend(kept)
                self.io.remove_vips(spec, vips)
            case act.SendGarp():
                self._garp_burst(one, action)
            case act.Notify(state=state, priority=priority):
                self.io.notify(spec, state, priority)
            case act.Transition(old=old, new=new, cause=cause, reason=reason, why=why):
                if new is State.MASTER:
                    one.stats["become_master"] += 1
                elif old is State.MASTER:
                    one.stats["release_master"] += 1
                prio = one.router.effective_priority
                one.transitions[str(new)] += 1
                one.last = LastTransition(
                    time=self.clock.wall_us(),
                    old=str(old),
                    new=str(new),
                    cause=cause,
                    reason=str(reason),
                    why=why,
                )
                log.info(
                    "%s: %s -> %s (%s), priority %d [%s] why: %s",
                    spec.name, old, new, cause, prio, reason, why,
                )  # fmt: skip
                self._emit(one, "transition", f"{old} -> {new} ({cause})", str(reason), why)
            case act.WantMaster(cause=cause):
                log.debug("%s: asks its sync group for MASTER (%s)", spec.name, cause)
            case act.NearFailover():
                one.stats["near_failover"] += 1
                detail = (
                    f"near failover: no advert from {action.ip} (priority {action.priority})"
                    f" for {action.silence_us / 1000:.0f} ms, Master_Down timer"
                    f" {action.margin_us / 1000:.0f} ms from expiry (Master_Down_Interval"
                    f" {action.master_down_us / 1000:.0f} ms)"
                )
                log.info("%s: %s", spec.name, detail)
                self._emit(one, "near_failover", detail)
            case act.Discard(reason=reason, detail=detail):
                self.counters[f"discard_{reason}"] += 1
                one.stats[f"discard_{reason}"] += 1
                log.debug("%s: discarded advert: %s", spec.name, detail)
            case act.Log(level=level, message=message, why=why):
                log.log(
                    logging.WARNING if level == act.LogLevel.WARNING else logging.INFO,
                    "%s: %s%s",
                    spec.name,
                    message,
                    f" why: {why}" if why else "",
                )
                self._emit(one, "log", message, why=why)
            case _:
                assert_never(action)

    def _garp_burst(self, one: _Instance, action: act.SendGarp) -> None:
        """The first round of one gratuitous ARP/NA per VIP now; the others now too, or,
        spaced (`garp_interval`), at their times through the gaps between timers."""
        spec, rounds = one.router.spec, action.count if action.interval_us <= 0 else 1
        for _ in range(rounds):
            self.io.garp(spec, action.vips)
        self.counters["garp_rounds"] += rounds
        one.stats["garp_rounds"] += rounds
        if action.interval_us > 0:
            self._space_rounds(one, action)

    def _rearm(self) -> None:
        at = self._earliest()
        if at == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = at
        if at is not None:
            self._timer = self.scheduler.call_at(at, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        now = self.clock.mono_us()
        # GARP bursts and notifications that the due timers cause wait until every
        # advert of this wake-up is out, and then for the gaps between timers.
        horizon = MonoUs(now + ADVERT_SLACK_US)
        self._waking = True
        try:
            self._run_due(now, horizon)
        finally:  # an error must not leave effects waiting
            self._waking = False
            self._drain(wake=True)
        self._rearm()

    def _run_due(self, now: MonoUs, horizon: MonoUs) -> None:
        # Due routers in deadline order; one that fires again at once (a deadline still
        # <= now) comes round again. Router._fire_timers clears everything due, so each
        # router's new deadline is later than `now` and the loop ends. Adverts due within
        # ADVERT_SLACK_US go now too, each run at its own deadline (so its period stays
        # exact): masters with the same timing share one wake-up per interval.
        # A late timer also runs at its own deadline, so the wake-up's lateness does not
        # pile up into the period (a grid, 100.0 ms on average, not 100 + lateness), and
        # groups that a late wake-up serves together keep their own phases.
        # An advert later than half an interval (a stalled process) runs at `now`
        # instead, never as a burst of catch-up adverts; other timers beyond
        # LATE_ON_GRID_US too.
        # Other timers wait in `held` until the adverts are out, then run for
        # TIMER_BUDGET_US (one at least); a held instance whose advert (or Master_Down)
        # falls due runs first, so that never waits behind the queue.
        held = self._held
        if held:
            for at, one in list(held):
                if at == one.deadline and one.router.urgent_due(horizon):
                    self._fire(one, at, now)  # its entry goes stale: the deadline moves on
        step_at, in_step = 0, 0  # the adverts in step with the first at `step_at`
        groups, due, seq = self._groups, self._due, self._seq
        # The entry at the top is looked at in place: most leave it for a later deadline
        # of the same instance, which replaces it in one sift (heapreplace).
        while due:
            at, _, one = due[0]
            if at != one.deadline:  # superseded by a later input
                heapq.heappop(due)
                continue
            if at > horizon:
                break
            router = one.router
            if not router.only_advert_due(horizon):
                if at > now:
                    break  # a Master_Down or other timer: never early
                heapq.heappop(due)
                if router.urgent_due(now):  # a takeover (or an advert with others due)
                    self._fire(one, at, now)
                else:
                    held.append((at, one))  # its deadline stays: an input supersedes it
                continue
            if in_step == 0 or at > step_at + ADVERT_SLACK_US:
                if at > now:  # early only in step with one due: never for its own sake
                    break
                step_at, in_step = at, 0
            if in_step == ADVERT_GROUP:  # this one, once, a step later (a phase of its own)
                one.deadline = MonoUs(at + GROUP_STEP_US)
                heapq.heapreplace(due, (one.deadline, next(seq), one))
                continue
            in_step += 1
            spec = router.spec
            when = at if now - at < spec.advert_int_us // 2 else max(at, now)
            # The steady path: a master's Adver_Timer alone. Outside a sync group (whose
            # coordinator hears every member's every input) it needs no action list.
            if spec.name not in groups:
                sent = router.advert_fired(when)
                if sent is not None:
                    # The heap first, so whatever the send does finds it consistent.
                    one.deadline = router.deadline()
                    if one.deadline is None:
                        heapq.heappop(due)
                    else:
                        heapq.heapreplace(due, (one.deadline, next(seq), one))
                    try:
                        self._send(one, sent)
                    except Exception as exc:  # as _run_all: the timer runs on regardless
                        self._failed(one, sent, exc)
                    continue
            heapq.heappop(due)
            one.deadline = None
            self._process(one, _TIMER_FIRED, when)
        clock, first = self.clock, True
        stop = clock.mono_us() + TIMER_BUDGET_US
        while held and (first or clock.mono_us() < stop):
            at, one = held.popleft()
            if at == one.deadline:
                first = False
                self._fire(one, at, now)

    def _fire(self, one: _Instance, at: MonoUs, now: MonoUs) -> None:
        """Run an instance's due timers at their deadline `at` (on the grid, if late by
        less than LATE_ON_GRID_US) through the state machine."""
        one.deadline = None
        self._process(one, _TIMER_FIRED, at if now - at < LATE_ON_GRID_US else max(at, now))

    def _emit(
        self, one: _Instance, kind: str, detail: str, reason: str = "", why: str = ""
    ) -> None:
        event = NodeEvent(
            time=self.clock.wall_us(),
            instance=one.router.spec.name,
            kind=kind,
            detail=detail,
            state=str(one.router.state),
            priority=one.router.effective_priority,
            reason=reason,
            why=why,
        )
        for listener in self.listeners:
            listener(event)


def _sync_groups(spec: NodeSpec) -> dict[str, tuple[SyncGroup, SyncGroupSpec]]:
    """Each grouped instance's coordinator: the node's groups, members in config order."""
    declared = {g.name: g for g in spec.sync_groups}
    names = sorted({i.sync_group for i in spec.instances if i.sync_group is not None})
    out: dict[str, tuple[SyncGroup, SyncGroupSpec]] = {}
    for name in names:
        members = tuple(i.name for i in spec.instances if i.sync_group == name)
        gspec = declared.get(name) or SyncGroupSpec(name=name, members=members)
        group = SyncGroup(name, members)
        for member in members:
            out[member] = (group, gspec)
    return out
