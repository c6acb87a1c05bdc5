"""Actions a Router asks the runtime to perform, returned in the order they must run."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from hatui.observe.events import Reason
from hatui.vrrp.spec import Vip
from hatui.vrrp.state import State


class DiscardReason(StrEnum):
    """Why a received advert was dropped by the router (the runtime counts them)."""

    AUTH = "auth"  # RFC 3768 7.1: auth type or password differs
    INTERVAL = "interval"  # RFC 3768 7.1: v2 advert interval differs from ours
    VERSION = "version"
    VRID = "vrid"
    FAMILY = "family"
    OWN = "own"  # our own advert looped back
    LOWER_PRIORITY = "lower_priority"  # RFC 5798 6.4.2: a backup discards it (preempt on)
    NOT_RUNNING = "not_running"  # heard in Initialize
    UNICAST_SRC = "unicast_src"  # keepalived check_unicast_src: source is not a peer
    LENGTH = "length"  # bytes after the RFC message (Cisco's MD5 TLV): the observer's only


class LogLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, kw_only=True)
class SendAdvert:
    """Send one ADVERTISEMENT with this priority (0: the master is leaving)."""

    priority: int
    interval_cs: int
    addresses: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AddVips:
    vips: tuple[Vip, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveVips:
    vips: tuple[Vip, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SendGarp:
    """Send `count` rounds of gratuitous ARPs (IPv4) or unsolicited NAs (IPv6), one per VIP
    a round, back to back. With `garp_interval` the Router spaces the rounds itself: one
    round per action, the next from its GARP_ROUND timer."""

    vips: tuple[Vip, ...]
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Notify:
    """Run the notify scripts for a state: MASTER, BACKUP, FAULT or STOP."""

    state: str
    priority: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """A state change, for the log and the UI. `reason` (RFC 8347's new-master-reason,
    docs/json.md) and `why` (the evidence, one line) annotate it: equality is old, new
    and cause."""

    old: State
    new: State
    cause: str
    reason: Reason = field(default=Reason.NOT_MASTER, compare=False)
    why: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class WantMaster:
    """A sync group member's Master_Down_Timer expired: it asks its group to go MASTER.

    keepalived (vrrp_sync_can_goto_master) moves a group to MASTER only once every member
    wants to, preferring BACKUP to thrashing; the runtime answers with SyncGroupChanged.
    """

    cause: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NearFailover:
    """A backup's Master_Down_Timer was within one advert interval of expiry when the
    master's advert reset it: how close this node came to taking over."""

    ip: str  # the master heard
    priority: int
    silence_us: int  # since the master's advert before this one
    master_down_us: int  # the Master_Down_Interval the timer ran
    margin_us: int  # how far from expiry the timer was


@dataclass(frozen=True, slots=True, kw_only=True)
class Discard:
    """A received advert was dropped; `reason` is a counter key."""

    reason: DiscardReason
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Log:
    """Something worth a log line that is not a state change or a drop."""

    level: LogLevel
    message: str
    why: str = field(default="", compare=False)  # a priority change's evidence


Action = (
    SendAdvert
    | AddVips
    | RemoveVips
    | SendGarp
    | Notify
    | Transition
    | WantMaster
    | Discard
    | Log
    | NearFailover
)
