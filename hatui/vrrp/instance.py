"""What one VRRP instance knows between inputs, and every read of it.

The variables of RFC 5798 6.1 and 6.2 (priority, Master_Adver_Interval, the timers) and
keepalived's (trackers, preempt_delay, sync group, operator hold and pause), set from
the spec at start and on a reload; the values derived from them (effective priority,
Skew_Time, Master_Down_Interval, faults, what a takeover would say); the status
snapshot. The rules that change them, and the actions they return, are the
Router's (machine.py), which is an Instance.
"""

from __future__ import annotations

import ipaddress

from hatui.codec.frames import VrrpAdvert
from hatui.types import MonoUs
from hatui.vrrp import actions as act
from hatui.vrrp.preempt import PreemptDelay
from hatui.vrrp.priority import OWNER_PRIORITY, TrackerStatus, Tracking, effective_priority
from hatui.vrrp.receive import ip_key
from hatui.vrrp.spec import InstanceSpec, Vip
from hatui.vrrp.state import State
from hatui.vrrp.status import TIMER_ORDER, HeardAdvert, RouterStatus, TimerKind
from hatui.vrrp.timing import master_down_us, skew_us
from hatui.vrrp.validate import validate
from hatui.vrrp.why import PriorityChange, Takeover, takeover


class Instance:
    """One instance's variables and their reads; the Router handles its inputs."""

    def __init__(self, spec: InstanceSpec, *, primary_ip: str) -> None:
        validate(spec, primary_ip)
        self._spec = spec
        self._primary_ip = str(ipaddress.ip_address(primary_ip))
        self._primary_key = ip_key(primary_ip)
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
        self._preempt = PreemptDelay(self._timers)
        # The lower-priority master whose adverts we are discarding to preempt it, until
        # an advert resets our Master_Down_Timer again: says why the timer ran out.
        self._preempting: HeardAdvert | None = None
        # This BACKUP term's Master_Down_Timer was last armed by a master's advert, not by
        # entering BACKUP: only then is a late advert a near failover (an election is not).
        self._master_heard = False
        self._wants_master = False  # sync group: our Master_Down_Timer expired
        self._group_fault: str | None = None  # sync group: FAULT imposed by another member
        self._change: PriorityChange | None = None  # the last priority change: a why

    def _respec(self, spec: InstanceSpec) -> None:
        """A reload: the variables the spec gives, each tracker keeping its last result."""
        validate(spec, self._primary_ip)
        self._spec = spec
        self._all_vips = spec.vips + spec.excluded_vips
        self._addresses = tuple(v.address for v in spec.vips)
        self._tracking.respec(spec)

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

    # -- derived values -----------------------------------------------------------------

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

    def _faults(self) -> tuple[str, ...]:
        group = () if self._group_fault is None else (self._group_fault,)
        return self.own_faults + group

    @property
    def _name(self) -> str:
        return self._spec.name

    def _takeover(self, now: MonoUs) -> Takeover:
        return takeover(
            self._name, now, local=self._effective(), heard=self._last_advert,
            preempting=self._preempting, change=self._change, skew_us=self._skew(),
            master_down_us=self._master_down_interval(), after=self._cause,
        )  # fmt: skip

    def _near_failover(self, advert: VrrpAdvert, now: MonoUs) -> act.NearFailover | None:
        """A master's advert that came with the Master_Down_Timer within one interval of
        expiry: how long the master was silent, and the margin left."""
        due = self._timers.get(TimerKind.MASTER_DOWN)
        if not self._master_heard or due is None or due - now >= self._master_adver_interval_us:
            return None
        down = self._master_down_interval()
        return act.NearFailover(
            ip=advert.src_ip,
            priority=advert.priority,
            silence_us=down - (due - now),
            master_down_us=down,
            margin_us=due - now,
        )

    # -- status -----------------------------------------------------------------------

    def status(self, now: MonoUs) -> RouterStatus:
        """A frozen snapshot; `now` is accepted for symmetry with handle() and future ages."""
        del now
        nxt = min(((t, TIMER_ORDER[k], k) for k, t in self._timers.items()), default=None)
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
            preempt_until=self._preempt.until,
            next_deadline=None if nxt is None else nxt[0],
            next_timer=None if nxt is None else nxt[2],
        )
