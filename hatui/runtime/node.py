"""The node runtime: drives one Router per instance with frames, timers, links and commands.

After every input the actions run in order through `NodeIO` (sockets, netlink, scripts)
and one timer is re-armed at the earliest deadline of all routers, as aioquic's
protocol adapter does; when timers and effects run is the pacer's business
(runtime/pacing.py). The scheduler and the I/O are injected, so tests drive a node with
a manual clock and fake I/O, and the runtime decides nothing itself.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol, assert_never

from hatui.clock import Clock
from hatui.codec.frames import Family, Frame, Rejected, VrrpAdvert
from hatui.errors import RuntimeFault
from hatui.runtime.pacing import ADVERT_GROUP, GARP_PART, GROUP_STEP_US, Handle, Pacer, Scheduler
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

# Effects that wait for the wake-up's adverts, then for a gap between timers (pacing.py).
_AFTER_ADVERTS = (act.SendGarp, act.Notify)
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
    Python slot wrapper, and the steady path stores several counts an advert."""

    def __missing__(self, key: str) -> int:
        return 0


@dataclass(eq=False)
class _Instance:
    router: Router
    # Per instance, as keepalived's exporter reports them: advert_sent/_rcvd,
    # pri_zero_sent/_rcvd, become_master, release_master, garp_rounds, discard_<reason>.
    stats: Counts = field(default_factory=lambda: Counts())
    deadline: MonoUs | None = None  # the router's deadline as last entered in the heap
    last: LastTransition | None = None
    transitions: Counts = field(default_factory=lambda: Counts())  # by the state entered
    fast: bool = True  # outside a sync group: the pacer's fast path may serve it


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
        self._set_groups(spec)
        self.own_ips = frozenset(primary_ips.values())
        self.pacer: Pacer[_Instance] = Pacer(
            clock, scheduler, fire=self._fire, send=self._send, failed=self._failed
        )
        self._starts: list[Handle] = []
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
            with self.pacer.waking():
                for one in groups[k]:
                    self._process(one, inp.Startup(), now)
            self.pacer.rearm()
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
        self.pacer.flush()  # the notifications still waiting, in order (no GARP is left)
        self.running = False
        self.pacer.cancel()

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
        going = [n for n, ispec in old.items() if n not in new or not live_change(ispec, new[n])]
        # Every one shuts down while its sync group can still find all its members.
        for name in going:
            self._apply(self._instances[name], inp.Shutdown())
        for name in going:
            self._close(name)
            changes.append(f"{name}: {'removed' if name not in new else 'restarted'}")
            if name in new:
                fresh[name] = self._open(new[name])
        self.spec = spec
        self._set_groups(spec)
        for name, ispec in new.items():
            kept = self._instances.get(name)
            if kept is not None and not same_config(kept.router.spec, ispec):
                self._process(kept, inp.Reconfigure(spec=ispec))
                changes.append(f"{name}: updated")
        self.pacer.rearm()
        self._instances.update(fresh)
        for one in fresh.values():
            s = one.router.spec
            self._by_key[(s.interface, s.family, s.vrid)] = one
        # Config order, as at start-up, so reports and status read the same after a reload.
        self._instances = {name: self._instances[name] for name in new}
        self._set_groups(spec)  # the new instances' fast flags too
        self.own_ips = self.own_ips | {one.router.primary_ip for one in fresh.values()}
        if self.running:
            for one in fresh.values():
                self._apply(one, inp.Startup())
        return changes

    def _set_groups(self, spec: NodeSpec) -> None:
        self._groups = _sync_groups(spec)
        for name, one in self._instances.items():
            one.fast = name not in self._groups

    def _open(self, ispec: InstanceSpec) -> _Instance:
        primary = self.io.open_instance(ispec)
        try:
            return _Instance(Router(ispec, primary_ip=primary))
        except BaseException:
            self.io.close_instance(ispec)
            raise

    def _close(self, name: str) -> None:
        """Forget an instance that has shut down (priority 0 if master, VIPs removed)."""
        one = self._instances[name]
        del self._instances[name]
        spec = one.router.spec
        del self._by_key[(spec.interface, spec.family, spec.vrid)]
        self.pacer.drop(one)
        self.pacer.forget(one)
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
        self.pacer.rearm()
        self.pacer.drain(wake=False)

    def _process(self, one: _Instance, event: inp.Input, at: MonoUs | None = None) -> None:
        """Run one input, then whatever the instance's sync group makes of it, in order.
        `at`: the time to run it at (an advert sent a little ahead of its deadline)."""
        now = self.clock.mono_us() if at is None else at
        if not self._groups:  # no sync group: nothing follows from it
            self._run_all(one, one.router.handle(event, now))
            self.pacer.track(one)
            return
        pending: deque[tuple[_Instance, inp.Input]] = deque([(one, event)])
        while pending:
            target, item = pending.popleft()
            actions = target.router.handle(item, now)
            self._run_all(target, actions)
            pending.extend(self._group_inputs(target, actions))
            self.pacer.track(target)

    def _run_all(self, one: _Instance, actions: Iterable[act.Action]) -> None:
        for action in actions:
            if type(action) in _AFTER_ADVERTS and self.pacer.busy:
                self._defer(one, action)
                continue
            self._run_now(one, action)

    def _run_now(self, one: _Instance, action: act.Action) -> None:
        try:
            self._run(one, action)
        except Exception as exc:  # one failed effect must not stop the others
            self._failed(one, action, exc)

    def _defer(self, one: _Instance, action: act.Action) -> None:
        if not isinstance(action, act.SendGarp):
            self.pacer.defer(partial(self._run_now, one, action))
            return
        vips = action.vips
        for _ in range(action.count):  # each round in parts that fit a gap between timers
            for k in range(0, len(vips), GARP_PART):
                part = partial(self._announce, one, action, vips[k : k + GARP_PART], k == 0)
                self.pacer.defer(part, one)

    def _announce(
        self, one: _Instance, action: act.SendGarp, vips: tuple[Vip, ...], first: bool
    ) -> None:
        """One round of `action`'s burst, or a part of one (`first`: the part it counts
        with): the one path every gratuitous ARP / NA takes."""
        try:
            self.io.garp(one.router.spec, vips)
        except Exception as exc:
            self._failed(one, action, exc)
            return
        if first:
            self.counters["garp_rounds"] += 1
            one.stats["garp_rounds"] += 1

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
            self.pacer.effect(partial(self._notify_group, gspec, str(step.entered)))
        return [(self._instances[m], event) for m, event in step.inputs]

    def _notify_group(self, gspec: SyncGroupSpec, state: str) -> None:
        try:
            self.io.notify(gspec, state, 0)
        except Exception:
            self.counters["io_errors"] += 1
            log.exception("sync group %s: notify failed", gspec.name)

    def _run(self, one: _Instance, action: act.Action) -> None:
        spec = one.router.spec
        match action:
            case act.SendAdvert():
                self._send(one, action)
            case act.AddVips(vips=vips):
                self.io.add_vips(spec, vips)
            case act.RemoveVips(vips=vips):
                self.pacer.drop(one)  # never announce a VIP that is gone
                self.io.remove_vips(spec, vips)
            case act.SendGarp(vips=vips, count=count):
                for _ in range(count):
                    self._announce(one, action, vips, True)
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

    def _fire(self, one: _Instance, when: MonoUs) -> None:
        """The pacer's call: run an instance's due timers through its state machine."""
        self._process(one, _TIMER_FIRED, when)

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
