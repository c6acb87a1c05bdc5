"""Frozen snapshots of a router for the UI, `hatui ctl status` and tests."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hatui.types import MonoUs
from hatui.vrrp.priority import TrackerStatus
from hatui.vrrp.state import State


class TimerKind(StrEnum):
    """The router's timers; the order here breaks ties between timers due at one instant."""

    PREEMPT_DELAY = "preempt_delay"  # keepalived: end of the preempt delay
    MASTER_DOWN = "master_down"  # RFC 5798 6.2 Master_Down_Timer (backup)
    ADVERT = "advert"  # RFC 5798 6.2 Adver_Timer (master)
    GARP = "garp"  # keepalived garp_master_delay: the second burst after becoming master
    GARP_REFRESH = "garp_refresh"  # keepalived garp_master_refresh: periodic bursts
    GARP_LOWER = "garp_lower"  # keepalived garp_lower_prio_delay: after a lower advert
    GARP_ROUND = "garp_round"  # keepalived garp_interval: the next spaced round of a burst


TIMER_ORDER = {kind: i for i, kind in enumerate(TimerKind)}


@dataclass(frozen=True, slots=True, kw_only=True)
class HeardAdvert:
    """The last advert that passed the receive checks."""

    ip: str
    priority: int
    interval_us: int
    at: MonoUs


@dataclass(frozen=True, slots=True, kw_only=True)
class RouterStatus:
    name: str
    vrid: int
    version: int
    family: str
    primary_ip: str
    state: State
    state_since: MonoUs | None
    state_cause: str
    base_priority: int
    override: int | None
    effective_priority: int
    trackers: tuple[TrackerStatus, ...]
    faults: tuple[str, ...]  # what holds (or would hold) the instance in FAULT
    link_up: bool
    hold: bool  # operator release: never take over until resume
    paused: bool  # operator pause: no adverts, no VIPs, never take over until resume
    vips_held: bool
    master_ip: str | None  # ourselves when MASTER, else the last advertiser (None after priority 0)
    last_advert: HeardAdvert | None
    master_adver_interval_us: int
    skew_us: int
    master_down_interval_us: int
    preempt_until: MonoUs | None
    next_deadline: MonoUs | None
    next_timer: TimerKind | None
