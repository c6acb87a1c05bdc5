"""Events the observer emits: frozen records of what changed on the wire, and when."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hatui.codec.frames import Family, Protocol, RejectReason
from hatui.types import WallUs


class EventKind(StrEnum):
    NEW_ROUTER = "new_router"
    MASTER_CHANGE = "master_change"
    PRIORITY_CHANGE = "priority_change"
    INTERVAL_CHANGE = "interval_change"
    VIPS_CHANGE = "vips_change"
    RELEASE = "release"
    STALE = "stale"
    STALE_RECOVERED = "stale_recovered"
    SPLIT_BRAIN = "split_brain"
    SPLIT_BRAIN_HEALED = "split_brain_healed"
    MISMATCH = "mismatch"
    VIP_FOREIGN_MAC = "vip_foreign_mac"
    ARP_OWNER_CHANGE = "arp_owner_change"
    OWNER_CLAIM = "owner_claim"  # a sender starts advertising priority 255 on a live VRID
    NEAR_FAILOVER = "near_failover"  # the master fell silent 2+ intervals and stayed master
    CARP_SEEN = "carp_seen"
    GLBP_SEEN = "glbp_seen"
    REJECTED = "rejected"


class Cause(StrEnum):
    """Why mastership moved (also labels the first term of a router's master history)."""

    FIRST = "first"  # the first master the observer saw: no failover
    TIMEOUT = "timeout"  # the old master went silent for its Master_Down_Interval
    RELEASE = "release"  # the old master sent priority 0 (RFC 5798 6.4.3)
    PREEMPT = "preempt"  # a higher priority took over while the old master still advertised


class Reason(StrEnum):
    """RFC 8347 new-master-reason, then hatui's own names for the rest."""

    NOT_MASTER = "not-master"  # RFC 8347: no master change (the first master heard, a backup)
    PRIORITY = "priority"  # RFC 8347: master on priority alone (the address owner, at once)
    PREEMPTED = "preempted"  # RFC 8347: a higher priority displaced a master still advertising
    NO_RESPONSE = "no-response"  # RFC 8347: the master fell silent for Master_Down_Interval
    RELEASED = "released"  # the master sent priority 0 (shutdown, operator release)
    FAULT = "fault"  # a node leaves MASTER for FAULT (link down, a weight-0 tracker)
    OPERATOR = "operator"  # a node's operator paused it (no priority 0 advert)
    SYNC_GROUP = "sync-group"  # a node followed its vrrp_sync_group


REASON_OF_CAUSE = {
    Cause.FIRST: Reason.NOT_MASTER,
    Cause.TIMEOUT: Reason.NO_RESPONSE,
    Cause.RELEASE: Reason.RELEASED,
    Cause.PREEMPT: Reason.PREEMPTED,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One observation. `vrid` (and interface, family) are None for global events."""

    time: WallUs
    kind: EventKind
    interface: str | None = None
    family: Family | None = None
    vrid: int | None = None
    detail: str = ""
    protocol: Protocol = Protocol.VRRP  # what the event is about (JSON: always present)


@dataclass(frozen=True, slots=True, kw_only=True)
class RouterEvent(Event):
    """new_router, release, stale, stale_recovered: about one sender of one router."""

    ip: str
    mac: str
    priority: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MasterChange(Event):
    """A failover. `gap_us` is new_first_advert - old_last_advert (negative in a preempt race)."""

    from_ip: str
    from_mac: str
    to_ip: str
    to_mac: str
    old_last_advert: WallUs
    new_first_advert: WallUs
    gap_us: int
    cause: Cause
    # What the RFC expects the gap to be for this cause (Master_Down_Interval of the new
    # master's priority for a timeout, its Skew_Time after a release; None for a preempt).
    # Information only: implementations differ (FRR, Cisco) and the wire decides.
    rfc_us: int | None = None
    why: str = ""  # the evidence, one line (observe/reason.py)
    from_priority: int | None = None  # the old master's last advertised priority
    to_priority: int | None = None  # the new master's first

    @property
    def reason(self) -> Reason:
        """RFC 8347's new-master-reason for this change."""
        return REASON_OF_CAUSE[self.cause]


@dataclass(frozen=True, slots=True, kw_only=True)
class NearFailover(Event):
    """The master missed two or more adverts in a row and stayed master: how close the
    backups came. `master_down_us` is the Master_Down_Interval of the highest backup
    heard (else of the master's own priority: the shortest any lower backup could run)."""

    ip: str
    mac: str
    priority: int
    last_advert: WallUs  # its advert before the silence
    silence_us: int  # from that advert to the next
    master_down_us: int

    @property
    def margin_us(self) -> int:
        """How far short of a takeover the silence stopped."""
        return self.master_down_us - self.silence_us


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldChange(Event):
    """priority/interval/vips change of the master, or a mismatch between or within senders."""

    field: str
    old: str
    new: str
    ip: str
    other_ip: str | None = None  # the second sender of a mismatch between senders


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitBrain(Event):
    """split_brain / split_brain_healed: two senders both claiming mastership of one VRID."""

    ips: tuple[str, str]
    since: WallUs


@dataclass(frozen=True, slots=True, kw_only=True)
class VipEvent(Event):
    """vip_foreign_mac / arp_owner_change: who answers ARP or ND for a virtual IP."""

    ip: str
    mac: str
    old_mac: str | None = None
    expected_mac: str | None = None  # the master's MAC when the answer is foreign
    gratuitous: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CarpSeen(Event):
    """The first CARP advert of a vhid: the same protocol number, never read as VRRP."""

    vhid: int
    ip: str
    mac: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GlbpSeen(Event):
    """The first GLBP message of a group: Cisco's load-balancing protocol, labelled only."""

    group: int
    ip: str
    mac: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RejectedSeen(Event):
    """A rejected frame (rate limited per reason); `count` is the running total for it."""

    reason: RejectReason
    count: int
    ip: str | None = None
