"""Immutable views of the observer's model: what the UI, headless output and JSON read."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from hatui.codec.frames import ChecksumForm, Family, Protocol
from hatui.observe.events import REASON_OF_CAUSE, Cause, Event, EventKind, MasterChange, Reason
from hatui.types import WallUs


class Status(StrEnum):
    """A router's health; when several apply the first listed wins."""

    SPLIT_BRAIN = "split_brain"
    STALE = "stale"
    MISMATCH = "mismatch"
    OK = "ok"


@dataclass(frozen=True, slots=True, kw_only=True)
class SenderView:
    """One address heard advertising for a router, with its last advert's fields."""

    ip: str
    mac: str
    virtual_mac: bool
    priority: int
    adverts: int
    first_seen: WallUs
    last_seen: WallUs
    interval_cs: int
    vips: tuple[str, ...]
    auth: str  # VRRP: an Auth value; HSRP: "none", "text", "md5"; CARP: "hmac"
    auth_type: int  # v2's wire auth type (the number behind Auth.UNKNOWN)
    version: int
    advertising: bool  # an advert within the last 1.5 intervals, priority not 0
    state: str = ""  # HSRP: the sender's state ("active", "standby", "speak", ...)


@dataclass(frozen=True, slots=True, kw_only=True)
class MasterTerm:
    """A stretch of time one sender was master; `until` is None for the current one."""

    ip: str
    mac: str
    since: WallUs
    until: WallUs | None
    cause: Cause


@dataclass(frozen=True, slots=True, kw_only=True)
class Failover:
    """A master change with the silence (or overlap, if negative) between the two masters."""

    interface: str
    family: Family
    vrid: int
    from_ip: str
    from_mac: str
    to_ip: str
    to_mac: str
    old_last_advert: WallUs
    new_first_advert: WallUs
    gap_us: int
    cause: Cause
    rfc_us: int | None = None  # the RFC's expected gap for this cause (information only)
    protocol: Protocol = Protocol.VRRP
    why: str = ""  # the wire's evidence, one line (observe/reason.py)
    from_priority: int | None = None  # the old master's last advertised priority
    to_priority: int | None = None  # the new master's first

    @property
    def reason(self) -> Reason:
        """RFC 8347's new-master-reason for this failover."""
        return REASON_OF_CAUSE[self.cause]

    def event(self, detail: str) -> MasterChange:
        """The master_change event that reports this failover, at the new master's first
        advert: one place for the fields both carry, whatever the protocol."""
        return MasterChange(
            time=self.new_first_advert,
            kind=EventKind.MASTER_CHANGE,
            interface=self.interface,
            family=self.family,
            vrid=self.vrid,
            protocol=self.protocol,
            from_ip=self.from_ip,
            from_mac=self.from_mac,
            to_ip=self.to_ip,
            to_mac=self.to_mac,
            old_last_advert=self.old_last_advert,
            new_first_advert=self.new_first_advert,
            gap_us=self.gap_us,
            cause=self.cause,
            rfc_us=self.rfc_us,
            why=self.why,
            from_priority=self.from_priority,
            to_priority=self.to_priority,
            detail=detail,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RouterView:
    """One virtual router: (interface, family, VRID) and what its master advertises."""

    interface: str
    family: Family
    vrid: int
    version: int
    master_ip: str
    master_mac: str
    virtual_mac: bool  # the master sends from 00:00:5e:00:01:VRID (keepalived use_vmac)
    priority: int
    interval_cs: int
    vips: tuple[str, ...]
    auth: str  # as SenderView.auth
    auth_type: int
    unicast: bool
    dst_ip: str
    unicast_peers: tuple[str, ...]  # every unicast destination the master sent to
    checksum_form: ChecksumForm | None  # None: not VRRP
    adverts: int
    first_seen: WallUs
    last_seen: WallUs
    master_since: WallUs
    master_last_advert: WallUs
    skew_us: int
    master_down_us: int
    stale_after_us: int
    adverts_per_s: float
    intervals_us: tuple[int, ...]
    senders: tuple[SenderView, ...]
    history: tuple[MasterTerm, ...]
    status: Status
    mismatches: tuple[str, ...]
    split_brain: tuple[str, str] | None
    protocol: Protocol = Protocol.VRRP
    hsrp: HsrpInfo | None = None  # HSRP's own terms
    carp: CarpInfo | None = None  # CARP's own terms
    near_failovers: int = 0  # the master silent 2+ intervals, no takeover (events.NearFailover)


class VipClaim(NamedTuple):
    """One VIP as a router advertises it: the router's master, VRID and protocol."""

    vip: str
    master: str
    vrid: int
    protocol: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HsrpInfo:
    """What an HSRP group adds to a router row: timers, the standby, the expected MAC."""

    hello_ms: int
    hold_ms: int
    vmac: str  # the group's virtual MAC (v1 0000.0c07.acXX, v2 0000.0c9f.fXXX, v6 0005.73a0.0XXX)
    state: str  # the active router's state as it says (else the leading speaker's)
    standby_ip: str | None
    standby_mac: str | None
    standby_priority: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CarpInfo:
    """What a CARP group adds: advbase (s), advskew and the master's demotion counter."""

    advbase: int
    advskew: int
    demote: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ArpView:
    """Who answers ARP / ND for an address, and how it announced itself."""

    interface: str
    ip: str
    mac: str
    first_seen: WallUs
    last_seen: WallUs
    gratuitous: bool  # the last answer was gratuitous (GARP / unsolicited NA)
    garps: int
    garp_bursts: int
    owner_changes: int
    vip: bool  # some router advertises this address
    virtual_mac: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CarpView:
    """A CARP group heard on the wire (labelled, never treated as VRRP)."""

    interface: str
    family: Family
    vhid: int
    ip: str
    mac: str
    advbase: int
    advskew: int
    adverts: int
    first_seen: WallUs
    last_seen: WallUs
    demote: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Counters:
    """Frames fed, by what they were.
    frames == vrrp + arp + nd + carp + hsrp + glbp + sum(rejected)."""

    frames: int
    vrrp: int
    arp: int
    nd: int
    carp: int
    rejected: dict[str, int]
    hsrp: int = 0
    glbp: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ObserverSnapshot:
    """Everything the observer knows at `time`, sorted for stable display."""

    time: WallUs
    routers: tuple[RouterView, ...]
    failovers: tuple[Failover, ...]
    events: tuple[Event, ...]
    arp: tuple[ArpView, ...]
    carp: tuple[CarpView, ...]
    counters: Counters
