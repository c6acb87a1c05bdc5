"""The observer's mutable per-router and per-sender records (internal; views are in model)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from hatui.codec.frames import Auth, ChecksumForm, Family, Protocol, VrrpAdvert, is_virtual_mac
from hatui.observe.events import Cause
from hatui.observe.model import MasterTerm, SenderView
from hatui.observe.rules import active_us, ip_rank
from hatui.types import WallUs

RouterKey = tuple[str, Family, int]
_NEVER_NEAR = 1 << 62


@dataclass(slots=True, kw_only=True)
class SenderState:
    """One source address heard for a router: its last advert and counts."""

    ip: str
    rank: int
    mac: str
    priority: int
    interval_cs: int
    addresses: tuple[str, ...]
    vips: tuple[str, ...]  # sorted: VIP lists compare as sets
    version: int
    auth: Auth
    auth_data: bytes
    auth_type: int
    dst_ip: str
    checksum_form: ChecksumForm
    adverts: int
    first_seen: int
    last_seen: int
    run_start: int  # first advert of the current advertising run
    copies: int = 0  # extra copies of one advert, one per unicast peer (keepalived)
    peers: tuple[str, ...] = ()  # unicast destinations seen, bounded

    @classmethod
    def start(cls, frame: VrrpAdvert, t: int) -> SenderState:
        return cls(
            ip=frame.src_ip,
            rank=ip_rank(frame.src_ip),
            mac=frame.link.src_mac,
            priority=frame.priority,
            interval_cs=frame.interval_cs,
            addresses=frame.addresses,
            vips=tuple(sorted(frame.addresses)),
            version=frame.version,
            auth=frame.auth,
            auth_data=frame.auth_data,
            auth_type=frame.auth_type,
            dst_ip=frame.dst_ip,
            checksum_form=frame.checksum_form,
            adverts=0,
            first_seen=t,
            last_seen=t,
            run_start=t,
        )

    def advertising(self, now: int) -> bool:
        """Priority not 0 and an advert within the last 1.5 intervals."""
        return self.priority > 0 and now - self.last_seen <= active_us(self.interval_cs)

    def run_end(self) -> int:
        """When the current run ends if no further advert arrives."""
        return self.last_seen + active_us(self.interval_cs)

    def view(self, now: int) -> SenderView:
        return SenderView(
            ip=self.ip,
            mac=self.mac,
            virtual_mac=is_virtual_mac(self.mac),
            priority=self.priority,
            adverts=self.adverts,
            first_seen=WallUs(self.first_seen),
            last_seen=WallUs(self.last_seen),
            interval_cs=self.interval_cs,
            vips=self.vips,
            auth=self.auth,
            auth_type=self.auth_type,
            version=self.version,
            advertising=self.advertising(now),
        )


@dataclass(slots=True, kw_only=True)
class FailoverRecord:
    """A failover, mutable for a short while: an old master's last advert may land after
    the new master's first (a preempt race), which moves old_last_advert and the gap."""

    key: RouterKey
    from_ip: str
    from_mac: str
    to_ip: str
    to_mac: str
    old_last_advert: int
    new_first_advert: int
    cause: Cause
    rfc_us: int | None = None  # the RFC's wait for this cause, as information
    protocol: Protocol = Protocol.VRRP
    why: str = ""
    from_priority: int | None = None  # the old master's last advertised priority
    to_priority: int | None = None  # the new master's first


@dataclass(slots=True, kw_only=True)
class RouterState:
    """One (interface, family, VRID): its senders, the master, and health flags."""

    key: RouterKey
    vmac: str
    master: SenderState
    senders: dict[str, SenderState]
    first_seen: int
    last_seen: int
    rate: deque[int]
    intervals: deque[int]
    history: deque[MasterTerm]
    term_since: int
    term_cause: Cause = Cause.FIRST
    adverts: int = 0
    # The master's address while the steady-state fast path applies, else None.
    fast_ip: str | None = None
    # The last frame object found equal to the master's fields (the codec shares one
    # object per identical frame): an identity test then replaces nine comparisons.
    fast_frame: VrrpAdvert | None = None
    stale: bool = False
    contended: bool = False  # another sender is advertising too
    split: tuple[str, str] | None = None
    split_since: int = 0
    mismatches: tuple[str, ...] = ()
    reported: dict[tuple[str, ...], None] = field(default_factory=dict)
    last_failover: FailoverRecord | None = None
    checked_until: int = 0  # runs that ended before this were already accounted for
    stale_after: int = 0  # the master's stale threshold, cached for the deadline scan
    protocol: Protocol = Protocol.VRRP  # VRRP, or CARP fed through the same rules
    # The master's last priority change in its term (old, new, when): the why of a preempt.
    fall: tuple[int, int, int] | None = None
    near: int = 0  # near failovers: the master silent 2+ intervals, no takeover
    near_after: int = _NEVER_NEAR  # the master's gap that is a near failover, cached

    @property
    def label(self) -> str:
        """How details name the router: "eth0 ipv4 vrid 51", "eth0 ipv4 carp vhid 7"."""
        if self.protocol is Protocol.CARP:
            return f"{self.key[0]} {self.key[1]} carp vhid {self.key[2]}"
        return f"{self.key[0]} {self.key[1]} vrid {self.key[2]}"
