"""One VRRP instance as a sans-IO state machine: inputs and `now` in, ordered actions out.

Rules (RFC 5798 section 6 as updated by RFC 9568 for v3, RFC 3768 section 6 for v2,
plus keepalived's behaviour where the RFCs leave room):

INIT (6.4.1)   Startup: priority 255 (address owner) -> MASTER at once; a fault
               condition -> FAULT; otherwise -> BACKUP with Master_Down_Timer =
               Master_Down_Interval, even with `state MASTER` (keepalived always starts
               BACKUP and waits). Adverts heard in INIT are discarded.
BACKUP (6.4.2) Master_Down_Timer fires -> MASTER. Advert priority 0 -> Master_Down_Timer
               = Skew_Time. Priority >= ours, or preempt off, or inside keepalived's
               preempt_delay -> reset Master_Down_Timer (v3: learn Master_Adver_Interval
               first). Lower priority with preempt on -> discard, so the timer runs out
               and we preempt. preempt_delay (keepalived vrrp_state_backup): the first
               lower-priority advert heard in BACKUP starts it; priority >= ours stops
               it; entering BACKUP clears it.
MASTER (6.4.3) Adver_Timer fires -> advertise, re-arm. Priority 0 -> advertise at once,
               re-arm. Higher priority, or equal priority from a numerically higher
               primary address -> BACKUP (v3: learn the interval; keepalived
               higher_prio_send_advert: one advert first). Lower (or equal from a lower
               address) -> RFC 9568 6.4.3 / keepalived: advertise at once (unless
               lower_prio_no_advert), a garp_lower_prio_repeat burst and another after
               garp_lower_prio_delay, Notify MASTER_RX_LOWER_PRI; stay MASTER.
Receive (7.1)  v2: auth type and simple password must match ours, interval must equal
               ours, else Discard. v3: interval mismatch and (both) address list mismatch
               are logged once per sender and change, and the advert is still processed.
FAULT          keepalived: link down (unless dont_track_primary), unicast without a peer
               (unicast_fault_no_peer), or a weight-0 tracked object failing; from MASTER the
               VIPs go without a priority 0 advert. When every fault clears -> BACKUP
               (the owner -> MASTER).
Shutdown       MASTER sends priority 0 (6.4.3) and drops VIPs; every state -> INIT, Notify STOP.
Sync group     keepalived vrrp_sync_group (vrrp_sync.c): a member's Master_Down_Timer
               does not make it MASTER; it asks the group (WantMaster) and re-arms the
               timer, and goes MASTER only when the group agrees (SyncGroupChanged naming
               itself). SyncGroupChanged MASTER from another member: BACKUP -> MASTER.
               BACKUP: MASTER -> BACKUP, or leave a FAULT the group imposed. FAULT: a
               fault condition ("sync group G: VI_1 is in FAULT") until the group's BACKUP.
Operator       SetPriority/AdjustPriority override the base priority. Release: MASTER
               sends priority 0 and drops VIPs, then hold BACKUP (no Master_Down_Timer)
               until Resume. Pause: the same without the priority 0 advert, so peers take
               over after Master_Down_Interval. Resume clears override, hold and pause.

Ordering: entering MASTER = Transition, SendAdvert, AddVips, SendGarp, Notify; leaving
MASTER = Transition, [SendAdvert(0)], RemoveVips, Notify.

GARP           Every burst is the Router's: garp_master_delay (GARP), garp_master_refresh
               (GARP_REFRESH), garp_lower_prio_delay (GARP_LOWER) and, with
               garp_interval, the spaced rounds of any burst (GARP_ROUND, at least
               garp_interval apart; a burst asked meanwhile queues behind).

Fast path      For runtimes that pace many instances (hatui/runtime/pacing.py's FastPath):
               `deadline`, `only_advert_due`, `urgent_due` read the timers without
               firing them, and `advert_fired` is `handle(TimerFired(), now)` for a master
               whose lone Adver_Timer is due, returning its advert without an action
               list. Each is exactly what `handle` would do (tests/vrrp/test_advert_fired.py).
"""

from __future__ import annotations

import ipaddress
from collections import deque
from typing import assert_never

from hatui.codec.frames import VrrpAdvert
from hatui.observe.events import Reason
from hatui.types import MonoUs
from hatui.vrrp import actions as act
from hatui.vrrp import inputs as inp
from hatui.vrrp import receive
from hatui.vrrp.priority import OWNER_PRIORITY, TrackerStatus, Tracking, effective_priority
from hatui.vrrp.spec import InstanceSpec, Vip, live_change
from hatui.vrrp.state import State
from hatui.vrrp.status import HeardAdvert, RouterStatus, TimerKind
from hatui.vrrp.timing import cs_to_us, master_down_us, skew_us
from hatui.vrrp.validate import validate
from hatui.vrrp.why import PriorityChange, ms, track_text

# The allow-list: any other change is a bug in this module, not a network event.
TRANSITIONS: frozenset[tuple[State, State]] = frozenset(
    {
        (State.INIT, State.BACKUP),
        (State.INIT, State.MASTER),
        (State.INIT, State.FAULT),
        (State.BACKUP, State.MASTER),
        (State.BACKUP, State.FAULT),
        (State.BACKUP, State.INIT),
        (State.MASTER, State.BACKUP),
        (State.MASTER, State.FAULT),
        (State.MASTER, State.INIT),
        (State.FAULT, State.BACKUP),
        (State.FAULT, State.MASTER),  # the address owner leaving FAULT
        (State.FAULT, State.INIT),
    }
)
_TIMER_ORDER = {kind: i for i, kind in enumerate(TimerKind)}
NOTIFY_STOP = "STOP"
NOTIFY_RX_LOWER = "MASTER_RX_LOWER_PRI"  # keepalived's event, not a state
MAX_LOGGED_SENDERS = 256


class Router:
    """One VRRP instance. Feed it `handle(input, now)`; run what it returns, in order."""

    def __init__(self, spec: InstanceSpec, *, primary_ip: str) -> None:
        validate(spec, primary_ip)
        self._spec = spec
        self._primary_ip = str(ipaddress.ip_address(primary_ip))
        self._primary_key = int(ipaddress.ip_address(primary_ip))
        self._all_vips: tuple[Vip, ...] = spec.vips + spec.excluded_vips
        self._addresses = tuple(v.address for v in spec.vips)
        self._tracking = Tracking(spec)
        self._state = State.INIT
        self._since: MonoUs | None = None
        self._cause = "not started"
        self._override: int | None = None
        self._hold = False
        self._paused = False
        self._link_up = True
        self._vips_held = False
        self._timers: dict[TimerKind, MonoUs] = {}
        self._master_adver_interval_us = spec.advert_int_us
        self._last_advert: HeardAdvert | None = None
        self._preempt_until: MonoUs | None = None
        # The lower-priority master whose adverts we are discarding to preempt it, until
        # an advert resets our Master_Down_Timer again: says why the timer ran out.
        self._preempting: HeardAdvert | None = None
        self._logged: dict[str, tuple[str, ...]] = {}
        self._wants_master = False  # sync group: our Master_Down_Timer expired
        self._group_fault: str | None = None  # sync group: FAULT imposed by another member
        self._advert_memo: tuple[int, InstanceSpec, act.SendAdvert] | None = None
        self._change: PriorityChange | None = None  # the last priority change: a why
        # garp_interval: the rounds still to send, each from a GARP_ROUND timer.
        self._rounds: deque[tuple[Vip, ...]] = deque()

    @property
    def spec(self) -> InstanceSpec:
        return self._spec

    @property
    def primary_ip(self) -> str:
        return self._primary_ip

    @property
    def state(self) -> State:
        return self._state

    @property
    def wants_master(self) -> bool:
        """A sync group member whose Master_Down_Timer expired, waiting for the group."""
        return self._wants_master

    @property
    def own_faults(self) -> tuple[str, ...]:
        """Fault conditions of this instance itself, not the one its sync group imposed."""
        link = () if self._link_up else ("link down",)
        peer = ("unicast_fault_no_peer: no unicast peer",) if self._spec.fault_no_peer else ()
        return link + peer + tuple(f"tracked {f} fails" for f in self._tracking.faults())

    @property
    def group_fault(self) -> bool:
        return self._group_fault is not None

    @property
    def master_ip(self) -> str | None:
        """Ourselves when MASTER, else the last advertiser (None after its priority 0)."""
        heard = self._last_advert
        if self._state is State.MASTER:
            return self._primary_ip
        if heard is not None and heard.priority > 0:
            return heard.ip
        return None

    @property
    def trackers(self) -> tuple[TrackerStatus, ...]:
        return self._tracking.statuses()

    @property
    def effective_priority(self) -> int:
        """Base priority, operator override and trackers combined (what adverts carry)."""
        return self._effective()

    # -- the fast path (see the module docstring) ---------------------------------------

    def deadline(self) -> MonoUs | None:
        """The earliest pending timer; call `handle(TimerFired(), now)` once it passes."""
        timers = self._timers
        if len(timers) == 1:  # a master between GARP bursts: the common case
            for at in timers.values():
                return at
        return min(timers.values(), default=None)

    def only_advert_due(self, until: MonoUs) -> bool:
        """True when the Adver_Timer is the only timer due by `until`: the runtime may
        then send this advert a little early, with the others of its wake-up."""
        timers = self._timers
        if len(timers) == 1:  # a master between GARP bursts: the common case
            return TimerKind.ADVERT in timers
        return TimerKind.ADVERT in timers and all(
            t > until for k, t in timers.items() if k is not TimerKind.ADVERT
        )

    def urgent_due(self, until: MonoUs) -> bool:
        """True when the Adver_Timer or the Master_Down_Timer is due by `until`: what a
        runtime must not hold behind other routers' GARP bursts or preempt-delay ends."""
        timers = self._timers
        at = timers.get(TimerKind.ADVERT)
        if at is not None and at <= until:
            return True
        at = timers.get(TimerKind.MASTER_DOWN)
        return at is not None and at <= until

    def advert_fired(self, now: MonoUs) -> act.SendAdvert | None:
        """`handle(TimerFired(), now)` in short for a master whose Adver_Timer is its only
        timer and is due: re-arm it and return the advert, the one action that call
        returns. None in every other case (another timer pending, nothing due): then
        call `handle`. Saves the runtime an action list per advert."""
        timers = self._timers
        if len(timers) != 1:
            return None
        at = timers.get(TimerKind.ADVERT)
        if at is None or at > now:
            return None
        # As _fire_timers -> _on_timer(ADVERT): the interval is > 0, so nothing else is due.
        timers[TimerKind.ADVERT] = MonoUs(now + self._spec.advert_int_us)
        return self._advert(self._effective())

    # -- inputs -----------------------------------------------------------------------

    def handle(self, event: inp.Input, now: MonoUs) -> list[act.Action]:
        """Apply one input at time `now`; the actions come back in the order they must run."""
        match event:
            case inp.TimerFired():
                return self._fire_timers(now)
            case inp.AdvertReceived(advert=advert):
                return self._on_advert(advert, now)
            case inp.Startup():
                return self._startup(now)
            case inp.Shutdown():
                if self._state is State.INIT:
                    return []
                if self._state is State.MASTER:
                    why = f"{self._name}: shutdown: priority 0 advert sent, VIPs removed"
                    return self._enter(
                        State.INIT, now, "shutdown", priority0=True, reason=Reason.RELEASED, why=why
                    )
                return self._enter(State.INIT, now, "shutdown")
            case inp.LinkChanged(up=up):
                if up == self._link_up:
                    return []
                if self._spec.dont_track_primary:
                    message = f"link {'up' if up else 'down'} ignored (dont_track_primary)"
                    return [_log(act.LogLevel.INFO, message)]
                self._link_up = up
                return self._reassess_fault(now, "link up" if up else "link down")
            case inp.TrackChanged():
                return self._on_track(event, now)
            case inp.SyncGroupChanged():
                return self._on_group(event, now)
            case inp.SetPriority(value=value):
                return self._set_override(value, now, f"operator set priority {value}")
            case inp.AdjustPriority(delta=delta):
                start = self._spec.priority if self._override is None else self._override
                value = max(1, min(254, start + delta))
                return self._set_override(value, now, f"operator adjust priority {delta:+d}")
            case inp.Release():
                return self._release(now)
            case inp.Pause():
                return self._pause(now)
            case inp.Resume():
                return self._resume(now)
            case inp.SendGarp():
                if self._state is not State.MASTER:
                    return [_log(act.LogLevel.WARNING, "gratuitous ARP not sent: not master")]
                return self._burst(self._spec.garp.master_repeat, now)
            case inp.Reconfigure(spec=spec):
                return self._reconfigure(spec, now)
            case _:
                assert_never(event)

    def _startup(self, now: MonoUs) -> list[act.Action]:
        if self._state is not State.INIT:
            return [_log(act.LogLevel.WARNING, f"startup ignored: already {self._state}")]
        faults = self._faults()
        if faults:
            return self._enter(State.FAULT, now, f"startup: {faults[0]}")
        if self._is_owner() and self._may_take_over():
            why = f"{self._name}: address owner (priority 255): master at startup"
            return self._enter(State.MASTER, now, "startup", reason=Reason.PRIORITY, why=why)
        return self._enter(State.BACKUP, now, "startup")

    # -- timers -----------------------------------------------------------------------

    def _fire_timers(self, now: MonoUs) -> list[act.Action]:
        out: list[act.Action] = []
        timers = self._timers
        while True:
            if len(timers) == 1:  # one timer (a master's Adver_Timer, mostly): no sort
                ((kind, t),) = timers.items()
                if t > now:
                    return out
            else:
                due = [(t, _TIMER_ORDER[k], k) for k, t in timers.items() if t <= now]
                if not due:
                    return out
                _, _, kind = min(due)
            del timers[kind]
            out += self._on_timer(kind, now)

    def _on_timer(self, kind: TimerKind, now: MonoUs) -> list[act.Action]:
        garp = self._spec.garp
        match kind:
            case TimerKind.MASTER_DOWN:
                if self._spec.sync_group is not None:
                    # keepalived vrrp_sync_can_goto_master: ask, and retry after another
                    # Master_Down_Interval while the other members still hear a master.
                    self._wants_master = True
                    self._arm_master_down(now)
                    return [act.WantMaster(cause=self._takeover_cause(now))]
                return self._take_over(now)
            case TimerKind.ADVERT:
                self._arm(TimerKind.ADVERT, now, self._spec.advert_int_us)
                return [self._advert(self._effective())]
            case TimerKind.GARP:
                return self._burst(garp.master_repeat, now)
            case TimerKind.GARP_REFRESH:
                self._arm(TimerKind.GARP_REFRESH, now, garp.refresh_us)
                return self._burst(garp.refresh_repeat, now)
            case TimerKind.GARP_LOWER:
                return self._burst(garp.lower_repeat, now) if garp.lower_repeat else []
            case TimerKind.GARP_ROUND:
                vips = self._rounds.popleft()
                if self._rounds:
                    self._arm(TimerKind.GARP_ROUND, now, garp.interval_us)
                return [act.SendGarp(vips=vips, count=1)]
            case TimerKind.PREEMPT_DELAY:
                return [_log(act.LogLevel.INFO, "preempt delay over")]
            case _:
                assert_never(kind)

    def _takeover_cause(self, now: MonoUs) -> str:
        """What made our Master_Down_Timer run out, as it happened: a release, a
        preemption (we discarded a lower master's adverts), or a silent master."""
        heard = self._last_advert
        if heard is not None and heard.priority == 0:
            return f"master {heard.ip} released (priority 0)"
        if self._preempting is not None:
            low = self._preempting
            return f"master_down timer: preempting {low.ip} (priority {low.priority})"
        if heard is not None:
            silent_ms = (now - heard.at) / 1000
            return f"master_down timer: no advert from {heard.ip} for {silent_ms:.0f} ms"
        return "master_down timer"

    def _take_over(self, now: MonoUs) -> list[act.Action]:
        """Enter MASTER as the Master_Down_Timer ran out, with the reason and evidence."""
        cause = self._takeover_cause(now)
        name, local, heard = self._name, self._effective(), self._last_advert
        mdi = self._master_down_interval()
        if heard is not None and heard.priority == 0:
            reason = Reason.RELEASED
            why = (
                f"{name}: {heard.ip} sent priority 0; took over {ms(now - heard.at)} ms later"
                f" (Skew_Time {ms(self._skew())} ms): released, priority {local}"
            )
        elif self._preempting is not None:
            low, reason = self._preempting, Reason.PREEMPTED
            ch = self._change
            rise = ""
            if ch is not None and ch.after > ch.before and ch.after > low.priority:
                rise = f"{ch.text()}, "
            why = (
                f"{name}: {rise}priority {local} above {low.ip}'s {low.priority}: preempted"
                f" after Master_Down_Interval {ms(mdi)} ms"
            )
        elif heard is not None:
            reason = Reason.NO_RESPONSE
            why = (
                f"{name}: no advert from {heard.ip} (priority {heard.priority}) for"
                f" {ms(now - heard.at)} ms, Master_Down_Interval {ms(mdi)} ms: no-response,"
                f" priority {local}"
            )
        else:
            reason = Reason.NO_RESPONSE
            why = (
                f"{name}: no master heard for Master_Down_Interval {ms(mdi)} ms after"
                f" {self._cause}: no-response, priority {local}"
            )
        return self._enter(State.MASTER, now, cause, reason=reason, why=why)

    def _preempted_why(self, advert: VrrpAdvert, local: int, now: MonoUs) -> str:
        """Why a higher advert displaces us: our own priority fall in this term, if any."""
        name, ch = self._name, self._change
        since = self._since
        if ch is not None and ch.after < ch.before and since is not None and ch.at >= since:
            return (
                f"{name}: {ch.text()}, below {advert.src_ip}'s {advert.priority}: preempted,"
                f" {ms(now - ch.at)} ms"
            )
        if advert.priority == local:
            return f"{name}: {advert.src_ip} has our priority {local}, higher address: preempted"
        return (
            f"{name}: {advert.src_ip} advertises priority {advert.priority}, above ours"
            f" {local}: preempted"
        )

    @property
    def _name(self) -> str:
        return self._spec.name

    def _arm(self, kind: TimerKind, now: MonoUs, after_us: int) -> None:
        self._timers[kind] = MonoUs(now + after_us)

    def _arm_master_down(self, now: MonoUs) -> None:
        if self._may_take_over():
            self._arm(TimerKind.MASTER_DOWN, now, self._master_down_interval())

    # -- adverts ----------------------------------------------------------------------

    def _on_advert(self, advert: VrrpAdvert, now: MonoUs) -> list[act.Action]:
        if self._state is State.INIT:
            detail = f"advert from {advert.src_ip} before startup"
            return [act.Discard(reason=act.DiscardReason.NOT_RUNNING, detail=detail)]
        dropped = receive.check(self._spec, self._primary_ip, advert)
        if dropped is not None:
            return [dropped]
        out = self._mismatch_logs(advert)
        self._last_advert = HeardAdvert(
            ip=advert.src_ip,
            priority=advert.priority,
            interval_us=cs_to_us(advert.interval_cs),
            at=now,
        )
        match self._state:
            case State.BACKUP:
                return out + self._backup_advert(advert, now)
            case State.MASTER:
                return out + self._master_advert(advert, now)
            case State.FAULT:
                return out  # listen only: the status shows who is master
            case State.INIT:
                raise AssertionError("handled above")
            case _:
                assert_never(self._state)

    def _backup_advert(self, advert: VrrpAdvert, now: MonoUs) -> list[act.Action]:
        local = self._effective()
        if advert.priority == 0:
            # RFC 5798 6.4.2: the master is leaving; take over after Skew_Time only.
            if self._may_take_over():
                self._arm(TimerKind.MASTER_DOWN, now, self._skew())
            return []
        out = self._preempt_delay(advert, local, now)
        # keepalived: a delay not yet started also holds (it starts just above).
        in_preempt_delay = self._preempt_until is not None and now < self._preempt_until
        if not self._spec.preempt or in_preempt_delay or advert.priority >= local:
            if self._spec.version == 3:
                # RFC 5798 6.4.2: a v3 backup adopts the master's interval.
                self._master_adver_interval_us = cs_to_us(advert.interval_cs)
            self._wants_master = False  # a master is alive: keepalived's wantstate BACKUP
            self._preempting = None
            due = self._timers.get(TimerKind.MASTER_DOWN)
            down = self._master_down_interval()
            self._arm_master_down(now)
            if due is not None and due - now < self._master_adver_interval_us:
                # The timer was within one interval of expiry: a near failover.
                near = act.NearFailover(
                    ip=advert.src_ip,
                    priority=advert.priority,
                    silence_us=down - (due - now),
                    master_down_us=down,
                    margin_us=due - now,
                )
                return [*out, near]
            return out
        self._preempting = self._last_advert
        detail = f"priority {advert.priority} from {advert.src_ip}, ours {local}"
        return [*out, act.Discard(reason=act.DiscardReason.LOWER_PRIORITY, detail=detail)]

    def _preempt_delay(self, advert: VrrpAdvert, local: int, now: MonoUs) -> list[act.Action]:
        """Start preempt_delay at the first lower-priority master heard; a master of our
        priority or more stops it (keepalived 2.2.7 vrrp_state_backup)."""
        delay = self._spec.preempt_delay_us
        if not delay or not self._spec.preempt:
            return []
        if advert.priority >= local:
            if self._preempt_until is None:
                return []
            self._preempt_until = None
            self._timers.pop(TimerKind.PREEMPT_DELAY, None)
            return [_log(act.LogLevel.INFO, "preempt delay stopped: master priority >= ours")]
        if self._preempt_until is not None:
            return []
        self._preempt_until = MonoUs(now + delay)
        self._timers[TimerKind.PREEMPT_DELAY] = self._preempt_until
        message = (
            f"preempt delay started ({delay / 1e6:g} s): lower priority master "
            f"{advert.src_ip} ({advert.priority}), ours {local}"
        )
        return [_log(act.LogLevel.INFO, message)]

    def _master_advert(self, advert: VrrpAdvert, now: MonoUs) -> list[act.Action]:
        local = self._effective()
        if advert.priority == 0:
            # RFC 5798 6.4.3: a leaving peer; answer at once so backups keep quiet.
            self._arm(TimerKind.ADVERT, now, self._spec.advert_int_us)
            return [self._advert(local)]
        higher = advert.priority > local
        if higher or (advert.priority == local and _ip_key(advert.src_ip) > self._primary_key):
            if self._spec.version == 3:
                self._master_adver_interval_us = cs_to_us(advert.interval_cs)
            if higher:
                cause = f"higher priority advert from {advert.src_ip}"
            else:
                cause = f"equal priority advert from higher address {advert.src_ip}"
            # keepalived higher_prio_send_advert: our GARPs were the last the LAN heard.
            last = [self._advert(local)] if self._spec.higher_prio_send_advert else []
            why = self._preempted_why(advert, local, now)
            return last + self._enter(State.BACKUP, now, cause, reason=Reason.PREEMPTED, why=why)
        return self._lower_advert(advert, local, now)

    def _lower_advert(self, advert: VrrpAdvert, local: int, now: MonoUs) -> list[act.Action]:
        """RFC 9568 6.4.3, keepalived vrrp_state_master_rx: a lower master or backup
        spoke; reassert at once rather than wait for the timer."""
        garp = self._spec.garp
        quiet = self._spec.lower_prio_no_advert
        message = f"lower priority {advert.priority} advert from {advert.src_ip}, ours {local}" + (
            "" if quiet else ": reasserting mastership"
        )
        out: list[act.Action] = [_log(act.LogLevel.INFO, message)]
        if not quiet:
            out.append(self._advert(local))
        if garp.lower_repeat:
            out += self._burst(garp.lower_repeat, now)
            if garp.lower_delay_us:
                self._arm(TimerKind.GARP_LOWER, now, garp.lower_delay_us)
        out.append(act.Notify(state=NOTIFY_RX_LOWER, priority=local))
        return out

    def _mismatch_logs(self, advert: VrrpAdvert) -> list[act.Action]:
        heard = self._last_advert
        # keepalived skip_check_adv_addr: the same master's addresses were checked already.
        same = self._spec.skip_check_adv_addr and heard is not None and heard.ip == advert.src_ip
        found = receive.mismatches(self._spec, advert, check_addresses=not same)
        # Log each difference once per sender until it changes, not once a second.
        if self._logged.get(advert.src_ip, ()) == found:
            return []
        if len(self._logged) >= MAX_LOGGED_SENDERS:
            self._logged.clear()  # spoofed senders must not grow memory without bound
        self._logged[advert.src_ip] = found
        return [_log(act.LogLevel.WARNING, m) for m in found]

    # -- faults and priority ----------------------------------------------------------

    def _on_track(self, event: inp.TrackChanged, now: MonoUs) -> list[act.Action]:
        before = self._effective()
        old_faults = self._faults()
        old = self._tracking.get(event.kind, event.name)
        status = self._tracking.update(event)
        if status is None or old is None:
            return [_log(act.LogLevel.WARNING, f"{event.kind} {event.name} is not tracked")]
        verb = "recovers" if event.ok else "fails"
        cause = f"tracked {event.kind} {event.name} {verb}"
        what = track_text(event, old, status)
        out = self._priority_log(before, cause, now, what)
        if self._faults() != old_faults:
            out += self._reassess_fault(now, cause, f"{self._name}: {what}")
        return out

    def _faults(self) -> tuple[str, ...]:
        group = () if self._group_fault is None else (self._group_fault,)
        return self.own_faults + group

    # -- sync group -------------------------------------------------------------------

    def _on_group(self, event: inp.SyncGroupChanged, now: MonoUs) -> list[act.Action]:
        match event.state:
            case State.MASTER:
                if self._state is not State.BACKUP:
                    return []  # already MASTER; FAULT and INIT do not follow
                if event.member == self._spec.name:
                    # The group agreed to our own request (WantMaster).
                    if not self._wants_master or not self._may_take_over():
                        return []
                    return self._take_over(now)
                if not self._may_take_over():
                    message = f"not following {event.cause}: operator hold or pause"
                    return [_log(act.LogLevel.WARNING, message)]
                return self._follow(State.MASTER, now, event.cause)
            case State.BACKUP:
                if self._group_fault is not None:
                    self._group_fault = None
                    return self._reassess_fault(now, event.cause)
                if self._state is State.MASTER:
                    return self._follow(State.BACKUP, now, event.cause)
                return []
            case State.FAULT:
                self._group_fault = event.cause
                return self._reassess_fault(now, event.cause)
            case State.INIT:
                raise AssertionError("SyncGroupChanged rejects INIT at construction")
            case _:
                assert_never(event.state)

    def _follow(self, new: State, now: MonoUs, cause: str) -> list[act.Action]:
        why = f"{self._name}: {cause}"
        return self._enter(new, now, cause, reason=Reason.SYNC_GROUP, why=why)

    def _reassess_fault(self, now: MonoUs, cause: str, why: str = "") -> list[act.Action]:
        faulty = bool(self._faults())
        why = why or f"{self._name}: {cause}"
        if faulty and self._state in (State.BACKUP, State.MASTER):
            why += f" -> FAULT, priority {self._effective()}"
            return self._enter(State.FAULT, now, cause, reason=Reason.FAULT, why=why)
        if not faulty and self._state is State.FAULT:
            if self._is_owner() and self._may_take_over():
                why += " -> address owner (priority 255): master"
                return self._enter(State.MASTER, now, cause, reason=Reason.PRIORITY, why=why)
            return self._enter(State.BACKUP, now, cause, why=why)
        return []

    def _set_override(self, value: int | None, now: MonoUs, cause: str) -> list[act.Action]:
        before = self._effective()
        self._override = value
        return self._priority_log(before, cause, now, cause)

    def _priority_log(self, before: int, cause: str, now: MonoUs, what: str) -> list[act.Action]:
        # A master's next advert carries the new priority; a backup's Skew_Time and
        # Master_Down_Interval are computed from it on the next reset.
        after = self._effective()
        if after == before:
            return []
        self._change = PriorityChange(what=what, before=before, after=after, at=now)
        message = f"priority {before} -> {after} ({cause})"
        why = f"{self._name}: {self._change.text()}"
        out: list[act.Action] = [act.Log(level=act.LogLevel.INFO, message=message, why=why)]
        if self._spec.notify_priority_changes and self._state is not State.INIT:
            # keepalived send_instance_priority_notifies: a FIFO line, no script.
            state = "MASTER_PRIORITY" if self._state is State.MASTER else "BACKUP_PRIORITY"
            out.append(act.Notify(state=state, priority=after))
        return out

    def _effective(self) -> int:
        return effective_priority(self._spec.priority, self._override, self._tracking.total())

    def _is_owner(self) -> bool:
        return self._effective() == OWNER_PRIORITY

    def _may_take_over(self) -> bool:
        return not (self._hold or self._paused)

    def _skew(self) -> int:
        return skew_us(
            self._effective(), self._master_adver_interval_us, version=self._spec.version
        )

    def _master_down_interval(self) -> int:
        return master_down_us(
            self._effective(), self._master_adver_interval_us, version=self._spec.version
        )

    # -- operator ---------------------------------------------------------------------

    def _release(self, now: MonoUs) -> list[act.Action]:
        self._hold = True
        if self._state is State.MASTER:
            why = f"{self._name}: operator release: priority 0 advert sent, holding BACKUP"
            return self._enter(
                State.BACKUP, now, "operator release", priority0=True,
                reason=Reason.RELEASED, why=why,
            )  # fmt: skip
        self._timers.pop(TimerKind.MASTER_DOWN, None)
        return [_log(act.LogLevel.INFO, "operator release: holding until resume")]

    def _pause(self, now: MonoUs) -> list[act.Action]:
        self._paused = True
        if self._state is State.MASTER:
            why = (
                f"{self._name}: operator pause: adverts stop without priority 0; peers take"
                " over after their Master_Down_Interval"
            )
            return self._enter(State.BACKUP, now, "operator pause", reason=Reason.OPERATOR, why=why)
        self._timers.pop(TimerKind.MASTER_DOWN, None)
        return [_log(act.LogLevel.INFO, "operator pause: not taking over until resume")]

    def _resume(self, now: MonoUs) -> list[act.Action]:
        self._hold = False
        self._paused = False
        out = self._set_override(None, now, "operator resume")
        if self._state is State.BACKUP:
            if self._is_owner():
                cause = "operator resume (address owner)"
                why = f"{self._name}: {cause}: priority 255, master at once"
                return out + self._enter(State.MASTER, now, cause, reason=Reason.PRIORITY, why=why)
            if TimerKind.MASTER_DOWN not in self._timers:
                self._arm_master_down(now)
        return out

    # -- entering a state -------------------------------------------------------------

    def _enter(
        self,
        new: State,
        now: MonoUs,
        cause: str,
        *,
        priority0: bool = False,
        reason: Reason | None = None,
        why: str = "",
    ) -> list[act.Action]:
        """The one place a state changes: the ordered actions of leaving and entering.
        `reason` defaults to fault for FAULT, else not-master; `why` to the cause."""
        old = self._state
        if (old, new) not in TRANSITIONS:
            raise AssertionError(f"transition {old} -> {new} is not allowed")
        if reason is None:
            reason = Reason.FAULT if new is State.FAULT else Reason.NOT_MASTER
        why = why or f"{self._name}: {cause}, priority {self._effective()}"
        out: list[act.Action] = [
            act.Transition(old=old, new=new, cause=cause, reason=reason, why=why)
        ]
        if old is State.MASTER:
            if priority0:
                # RFC 5798 6.4.3 (shutdown) / operator release: backups wait only Skew_Time.
                out.append(self._advert(0))
            out.append(act.RemoveVips(vips=self._all_vips))
            self._vips_held = False
        self._timers.clear()
        self._rounds.clear()
        self._wants_master = False
        self._preempting = None
        self._state = new
        self._since = now
        self._cause = cause
        priority = self._effective()
        match new:
            case State.MASTER:
                garp = self._spec.garp
                out += [self._advert(priority), act.AddVips(vips=self._all_vips)]
                out += self._burst(garp.master_repeat, now)
                self._vips_held = True
                self._arm(TimerKind.ADVERT, now, self._spec.advert_int_us)
                if garp.master_delay_us > 0:
                    self._arm(TimerKind.GARP, now, garp.master_delay_us)
                if garp.refresh_us > 0:
                    self._arm(TimerKind.GARP_REFRESH, now, garp.refresh_us)
            case State.BACKUP:
                self._arm_master_down(now)
                self._preempt_until = None  # keepalived: a new BACKUP starts it afresh
            case State.FAULT | State.INIT:
                pass
            case _:
                assert_never(new)
        notify = NOTIFY_STOP if new is State.INIT else new.value
        out.append(act.Notify(state=notify, priority=priority))
        return out

    def _advert(self, priority: int) -> act.SendAdvert:
        # A master sends the same advert every interval: one frozen object per priority
        # and config, so the runtime's encoded-bytes memo is hit by identity.
        memo = self._advert_memo
        if memo is not None and memo[0] == priority and memo[1] is self._spec:
            return memo[2]
        advert = act.SendAdvert(
            priority=priority, interval_cs=self._spec.advert_int_cs, addresses=self._addresses
        )
        self._advert_memo = (priority, self._spec, advert)
        return advert

    def _burst(
        self, count: int, now: MonoUs, vips: tuple[Vip, ...] | None = None
    ) -> list[act.Action]:
        """A burst of `count` GARP rounds for `vips` (default: all). Without garp_interval
        the rounds go back to back in one action; with it, one round now and the rest from
        the GARP_ROUND timer, at least garp_interval apart: a burst that starts while
        another's rounds are pending queues behind them (keepalived spaces every GARP an
        interface sends)."""
        vips = self._all_vips if vips is None else vips
        interval = self._spec.garp.interval_us
        if interval <= 0:
            return [act.SendGarp(vips=vips, count=count)]
        rounds = self._rounds
        pending = bool(rounds)
        rounds.extend([vips] * count)
        if pending or not rounds:
            return []  # behind the pending rounds: the GARP_ROUND timer is armed
        first = rounds.popleft()
        if rounds:
            self._arm(TimerKind.GARP_ROUND, now, interval)
        return [act.SendGarp(vips=first, count=1)]

    def _drop_rounds(self, gone: tuple[Vip, ...]) -> None:
        """Pending rounds never announce a VIP that is gone."""
        kept = [tuple(v for v in r if v not in gone) for r in self._rounds]
        self._rounds = deque(r for r in kept if r)
        if not self._rounds:
            self._timers.pop(TimerKind.GARP_ROUND, None)

    def _reconfigure(self, new: InstanceSpec, now: MonoUs) -> list[act.Action]:
        """keepalived's reload of an unchanged-identity instance: state, timers and held
        VIPs stay (no priority 0, no VIP flap, no GARP for VIPs already held). A new
        priority goes out in the next advert and the RFC rules do the rest: a backup now
        outranking its master discards that master's adverts and preempts it."""
        if not live_change(self._spec, new):
            raise ValueError(f"{new.name}: reload changes its identity; restart the instance")
        validate(new, self._primary_ip)
        old_vips = self._all_vips
        before = self._effective()
        self._spec = new
        self._all_vips = new.vips + new.excluded_vips
        self._addresses = tuple(v.address for v in new.vips)
        self._tracking.respec(new)
        after = self._effective()
        why = ""
        if after != before:
            self._change = PriorityChange(what="reload", before=before, after=after, at=now)
            why = f"{self._name}: {self._change.text()}"
        out: list[act.Action] = [act.Log(level=act.LogLevel.INFO, message="reloaded", why=why)]
        if self._vips_held:
            gone = tuple(v for v in old_vips if v not in self._all_vips)
            added = tuple(v for v in self._all_vips if v not in old_vips)
            if gone:
                out.append(act.RemoveVips(vips=gone))
                self._drop_rounds(gone)
            if added:
                out.append(act.AddVips(vips=added))
                out += self._burst(self._spec.garp.master_repeat, now, added)
        return out + self._reassess_fault(now, "reload", why)

    # -- status -----------------------------------------------------------------------

    def status(self, now: MonoUs) -> RouterStatus:
        """A frozen snapshot; `now` is accepted for symmetry with handle() and future ages."""
        del now
        nxt = min(((t, _TIMER_ORDER[k], k) for k, t in self._timers.items()), default=None)
        heard = self._last_advert
        master_ip = self.master_ip
        return RouterStatus(
            name=self._spec.name,
            vrid=self._spec.vrid,
            version=self._spec.version,
            family=self._spec.family.value,
            primary_ip=self._primary_ip,
            state=self._state,
            state_since=self._since,
            state_cause=self._cause,
            base_priority=self._spec.priority,
            override=self._override,
            effective_priority=self._effective(),
            trackers=self._tracking.statuses(),
            faults=self._faults(),
            link_up=self._link_up,
            hold=self._hold,
            paused=self._paused,
            vips_held=self._vips_held,
            master_ip=master_ip,
            last_advert=heard,
            master_adver_interval_us=self._master_adver_interval_us,
            skew_us=self._skew(),
            master_down_interval_us=self._master_down_interval(),
            preempt_until=self._preempt_until,
            next_deadline=None if nxt is None else nxt[0],
            next_timer=None if nxt is None else nxt[2],
        )


def _log(level: act.LogLevel, message: str) -> act.Log:
    return act.Log(level=level, message=message)


def _ip_key(address: str) -> int:
    # The codec hands us valid addresses; garbage still must not raise out of a pure layer.
    try:
        return int(ipaddress.ip_address(address))
    except ValueError:
        return -1
