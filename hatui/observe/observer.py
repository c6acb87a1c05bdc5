"""The observer: fed captured frames with their timestamps, it models the LAN's virtual
routers and reports what changes. Pure: time is always an input, so a pcap replays to
the same events, at the same times, that live capture gave."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import assert_never

from hatui.codec.frames import (
    ArpFrame,
    Captured,
    CarpAdvert,
    Family,
    Frame,
    GlbpHello,
    HsrpHello,
    HsrpState,
    NeighborAdvert,
    Protocol,
    Rejected,
    RejectReason,
    VrrpAdvert,
    virtual_mac,
)
from hatui.observe.carp import as_vrrp, carp_interval_us, carp_view, carp_vmac
from hatui.observe.events import (
    CarpSeen,
    Event,
    EventKind,
    GlbpSeen,
    RejectedSeen,
    VipEvent,
)
from hatui.observe.hsrp import HsrpModel
from hatui.observe.model import (
    CarpInfo,
    CarpView,
    Counters,
    Failover,
    ObserverSnapshot,
    RouterView,
    VipClaim,
)
from hatui.observe.ownership import ArpKey, ArpTable
from hatui.observe.routers import RouterRules
from hatui.observe.rules import RATE_WINDOW_US, REJECT_EVENT_EVERY_US, interval_us
from hatui.observe.state import RouterKey, RouterState, SenderState
from hatui.observe.views import router_view
from hatui.types import US_PER_MS, WallUs

_NEVER = 1 << 62  # a deadline that never comes
_CARP_SENDERS = 16  # exact intervals remembered per CARP group


def _no_vip(_key: RouterKey, _ip: str) -> None:
    """CARP adverts list no addresses: nothing to reference-count."""


_UNSPECIFIED_V4 = "0.0.0.0"  # ARP probes (RFC 5227) claim nothing


@dataclass(slots=True, kw_only=True)
class _Carp:
    ip: str
    mac: str
    advbase: int
    advskew: int
    adverts: int
    first_seen: int
    last_seen: int
    demote: int = 0
    master: CarpInfo | None = None  # the master's advbase, advskew and demotion
    # The last frame and what the rules were fed for it: the codec shares one object per
    # identical frame, so a repeat skips rebuilding both.
    frame: CarpAdvert | None = None
    advert: VrrpAdvert | None = None
    # Each sender's exact interval (advbase + advskew/256 s, in us; the rules see it in
    # centiseconds): the CARP wait beside a timeout's gap is three of them. Bounded.
    intervals: dict[str, int] = field(default_factory=dict)


class Observer:
    """A model of the LAN's virtual routers built from captured frames.

    `feed` takes one captured frame, `tick` tells it time passed without frames (stale
    masters, split brains healing), `snapshot` gives an immutable view. Memory stays flat:
    every history is a bounded deque, senders per router and ARP entries are capped.
    """

    def __init__(
        self,
        *,
        event_limit: int = 2000,
        history_limit: int = 64,
        sender_limit: int = 16,
        arp_limit: int = 256,
        carp_limit: int = 256,
    ) -> None:
        self._events: deque[Event] = deque(maxlen=event_limit)
        self._routers: dict[RouterKey, RouterState] = {}
        self._rules = RouterRules(
            history_limit=history_limit,
            sender_limit=sender_limit,
            failover_limit=event_limit,
            on_vip_added=self._vip_added,
            on_vip_removed=self._vip_removed,
        )
        self._vip_refs: dict[ArpKey, dict[RouterKey, int]] = {}
        self._arp = ArpTable(other_limit=arp_limit)
        self._carp: dict[tuple[str, Family, int], _Carp] = {}
        self._carp_limit = carp_limit
        # CARP groups run through the VRRP rules (observe/carp.py), in their own table so
        # a VHID never collides with a VRID of the same number.
        self._carp_routers: dict[RouterKey, RouterState] = {}
        # id(a group's last CARP frame) -> its record, router and interface (fast path)
        self._carp_fast: dict[int, tuple[_Carp, RouterState, str]] = {}
        self._carp_rules = RouterRules(
            history_limit=history_limit,
            sender_limit=sender_limit,
            failover_limit=event_limit,
            on_vip_added=_no_vip,
            on_vip_removed=_no_vip,
            protocol=Protocol.CARP,
            timeout_wait=self._carp_wait,
        )
        self._clock = -_NEVER  # latest time seen: frames never move the model backwards
        self._deadline = _NEVER  # a lower bound on every router's next deadline
        self._frames = 0
        self._vrrp = 0
        self._n_arp = 0
        self._nd = 0
        self._n_carp = 0
        self._hsrp = HsrpModel(group_limit=carp_limit, history_limit=history_limit,
                               failover_limit=event_limit)  # fmt: skip
        self._n_hsrp = 0
        self._glbp: set[tuple[str, Family, int]] = set()
        self._n_glbp = 0
        self._rejected: dict[str, int] = {r.value: 0 for r in RejectReason}
        self._reject_event_at: dict[RejectReason, int] = {}

    # -- inputs -------------------------------------------------------------------------

    def feed(self, item: Captured) -> list[Event]:
        """Account for one captured frame (or rejection); returns the events it caused."""
        return self.feed_frame(item.time, item.interface, item.frame)

    def feed_frame(self, at: WallUs, interface: str, frame: Frame | Rejected) -> list[Event]:
        """`feed` without the Captured wrapper: replay's loop runs once per record, and
        building the frozen wrapper costs about 0.4 us a frame, a third of the feed."""
        t: int = at
        if t < self._clock:
            t = self._clock  # out-of-order stamps (several interfaces) count as "now"
        else:
            self._clock = t
        self._frames += 1
        early = self._advance(t) if t > self._deadline else None
        if type(frame) is VrrpAdvert:
            r = self._routers.get((interface, frame.family, frame.vrid))
            if r is not None and frame.src_ip == r.fast_ip:
                m = r.master
                # Steady state: the master again, every field as before (RFC 5798 6.4.3:
                # only the master advertises). The codec memoises identical frames, so
                # the identity test usually settles it; else compare cheapest-first.
                same = frame is r.fast_frame
                if not same and (
                    frame.priority == m.priority
                    and frame.interval_cs == m.interval_cs
                    and frame.addresses == m.addresses
                    and frame.link.src_mac == m.mac
                    and frame.version == m.version
                    and frame.auth is m.auth
                    and frame.auth_type == m.auth_type
                    and frame.auth_data == m.auth_data
                    and frame.dst_ip == m.dst_ip
                    and frame.checksum_form is m.checksum_form
                ):
                    r.fast_frame = frame
                    same = True
                if same:
                    self._vrrp += 1
                    gap = t - m.last_seen
                    r.intervals.append(gap)
                    if gap >= r.near_after:  # two adverts missed: a near failover
                        near: list[Event] = [self._rules.near(r, gap, t)]
                        self._events.extend(near)
                        early = near if early is None else early + near
                    m.last_seen = t
                    m.adverts += 1
                    r.last_seen = t
                    r.adverts += 1
                    rate = r.rate
                    rate.append(t)
                    if rate[0] <= t - RATE_WINDOW_US:  # keep about one window (routers.py)
                        rate.popleft()
                    return early if early is not None else []
        elif type(frame) is HsrpHello and self._hsrp.steady(interface, frame, t):
            # Standbys say hello as often as actives: their repeats take this path too.
            self._n_hsrp += 1
            return early if early is not None else []
        elif type(frame) is CarpAdvert and self._carp_steady(interface, frame, t):
            self._n_carp += 1
            return early if early is not None else []
        out = self._dispatch(interface, frame, t)
        self._events.extend(out)
        if early is not None:
            early.extend(out)
            return early
        return out

    def tick(self, now: WallUs) -> list[Event]:
        """Time passed without frames: report stale masters and healed split brains.

        Events carry the instant their condition arose (a deadline), not `now`, so the
        tick rate never changes what is reported.
        """
        if now > self._deadline:
            return self._advance(now)
        return []

    # -- dispatch -----------------------------------------------------------------------

    def _dispatch(
        self,
        interface: str,
        frame: Frame | Rejected,
        t: int,
    ) -> list[Event]:
        match frame:
            case VrrpAdvert():
                self._vrrp += 1
                key = (interface, frame.family, frame.vrid)
                r = self._routers.get(key)
                if r is None:
                    r = self._rules.new_router(key, virtual_mac(frame.family, frame.vrid), frame, t)
                    self._routers[key] = r
                out = self._rules.advert(r, frame, t)
                self._lower_deadline(r, t)
                return out
            case ArpFrame():
                self._n_arp += 1
                # Replies and gratuitous ARPs say who holds sender_ip; plain requests do not.
                if (frame.op == 2 or frame.gratuitous) and frame.sender_ip != _UNSPECIFIED_V4:
                    return self._answer(
                        interface, frame.sender_ip, frame.sender_mac, t, frame.gratuitous
                    )
                return []
            case NeighborAdvert():
                self._nd += 1
                mac = frame.target_mac if frame.target_mac is not None else frame.link.src_mac
                return self._answer(interface, frame.target_ip, mac, t, frame.gratuitous)
            case CarpAdvert():
                self._n_carp += 1
                return self._carp_advert(interface, frame, t)
            case HsrpHello():
                self._n_hsrp += 1
                out = self._hsrp.hello(interface, frame, t)
                if frame.state is HsrpState.ACTIVE:  # only an active router turns stale
                    self._deadline = min(self._deadline, t + frame.hold_ms * US_PER_MS)
                return out
            case GlbpHello():
                self._n_glbp += 1
                return self._glbp_hello(interface, frame, t)
            case Rejected():
                return self._reject(interface, frame, t)
            case _:
                assert_never(frame)

    def _carp_advert(self, interface: str, frame: CarpAdvert, t: int) -> list[Event]:
        key = (interface, frame.family, frame.vhid)
        c = self._carp.get(key)
        if c is not None and frame is c.frame:
            c.adverts += 1
            c.last_seen = t
            return self._carp_model(key, c, frame, t)
        if c is not None:
            c.ip, c.mac, c.advbase, c.advskew, c.demote = (
                frame.src_ip,
                frame.link.src_mac,
                frame.advbase,
                frame.advskew,
                frame.demote,
            )
            c.adverts += 1
            c.last_seen = t
            return self._carp_model(key, c, frame, t)
        if len(self._carp) >= self._carp_limit:
            return []
        c = self._carp[key] = _Carp(
            ip=frame.src_ip,
            mac=frame.link.src_mac,
            advbase=frame.advbase,
            advskew=frame.advskew,
            demote=frame.demote,
            adverts=1,
            first_seen=t,
            last_seen=t,
        )
        seen: list[Event] = [
            CarpSeen(
                time=WallUs(t),
                kind=EventKind.CARP_SEEN,
                protocol=Protocol.CARP,
                interface=interface,
                family=frame.family,
                vhid=frame.vhid,
                ip=frame.src_ip,
                mac=frame.link.src_mac,
                detail=f"{interface} {frame.family} CARP vhid {frame.vhid} from {frame.src_ip}"
                " (CARP, not VRRP: same protocol 112, modelled as a CARP group)",
            )
        ]
        return seen + self._carp_model(key, c, frame, t)

    def _carp_steady(self, interface: str, frame: CarpAdvert, t: int) -> bool:
        """Steady state, as VRRP's in feed_frame: the quiet master's last advert again (the
        codec's shared object, found by identity; `c` holds it, so its id stays its own)."""
        found = self._carp_fast.get(id(frame))
        if found is None:
            return False
        c, r, iface = found
        if (
            c.frame is not frame
            or iface != interface
            or r.fast_ip != frame.src_ip
            or c.advert is not r.fast_frame
        ):
            return False
        c.adverts += 1
        c.last_seen = t
        m = r.master
        r.intervals.append(t - m.last_seen)
        m.last_seen = t
        m.adverts += 1
        r.last_seen = t
        r.adverts += 1
        rate = r.rate
        rate.append(t)
        if rate[0] <= t - RATE_WINDOW_US:
            rate.popleft()
        return True

    def _carp_model(self, key: RouterKey, c: _Carp, frame: CarpAdvert, t: int) -> list[Event]:
        r = self._carp_routers.get(key)
        if frame is c.frame and c.advert is not None:
            advert = c.advert
        else:
            if c.frame is not None:
                self._carp_fast.pop(id(c.frame), None)
            advert = as_vrrp(frame)
            c.frame, c.advert = frame, advert
            c.intervals.pop(frame.src_ip, None)
            c.intervals[frame.src_ip] = carp_interval_us(frame.advbase, frame.advskew)
            if len(c.intervals) > _CARP_SENDERS:
                del c.intervals[next(iter(c.intervals))]  # the longest unchanged
        if r is None:
            r = self._carp_routers[key] = self._carp_rules.new_router(
                key, carp_vmac(frame.vhid), advert, t
            )
        out = self._carp_rules.advert(r, advert, t)
        self._lower_deadline(r, t)
        if r.master.ip == frame.src_ip:
            c.master = CarpInfo(advbase=frame.advbase, advskew=frame.advskew, demote=frame.demote)
            if r.fast_ip is not None:
                r.fast_frame = advert  # the master's fields are this advert's now
        self._carp_fast[id(frame)] = (c, r, key[0])
        return out

    def _glbp_hello(self, interface: str, frame: GlbpHello, t: int) -> list[Event]:
        key = (interface, frame.family, frame.group)
        if key in self._glbp or len(self._glbp) >= self._carp_limit:
            return []
        self._glbp.add(key)
        return [
            GlbpSeen(
                time=WallUs(t),
                kind=EventKind.GLBP_SEEN,
                protocol=Protocol.GLBP,
                interface=interface,
                family=frame.family,
                vrid=frame.group,
                group=frame.group,
                ip=frame.src_ip,
                mac=frame.link.src_mac,
                detail=f"{interface} {frame.family} GLBP group {frame.group} from {frame.src_ip}"
                " (Cisco GLBP on UDP 3222: counted and labelled, not modelled)",
            )
        ]

    def _reject(self, interface: str, frame: Rejected, t: int) -> list[Event]:
        reason = frame.reason
        count = self._rejected[reason.value] + 1
        self._rejected[reason.value] = count
        last = self._reject_event_at.get(reason)
        # The first per reason, then at most one per reason per 10 s: a broken sender
        # must not flood the log; the counters still count every frame.
        if last is not None and t - last < REJECT_EVENT_EVERY_US:
            return []
        self._reject_event_at[reason] = t
        source = f" from {frame.src_ip}" if frame.src_ip is not None else ""
        return [
            RejectedSeen(
                time=WallUs(t),
                kind=EventKind.REJECTED,
                protocol=frame.protocol,
                interface=interface,
                vrid=frame.vrid,
                reason=reason,
                count=count,
                ip=frame.src_ip,
                detail=f"{interface}: rejected ({reason}){source}: {frame.detail} [{count} so far]",
            )
        ]

    # -- ARP / ND ownership ---------------------------------------------------------------

    def _vip_added(self, key: RouterKey, ip: str) -> None:
        akey = (key[0], ip)
        refs = self._vip_refs.get(akey)
        if refs is None:
            refs = self._vip_refs[akey] = {}
            self._arp.promote(akey)
        refs[key] = refs.get(key, 0) + 1

    def _vip_removed(self, key: RouterKey, ip: str) -> None:
        akey = (key[0], ip)
        refs = self._vip_refs.get(akey)
        if refs is None:
            return
        n = refs.get(key, 0) - 1
        if n > 0:
            refs[key] = n
        else:
            refs.pop(key, None)
        if not refs:
            del self._vip_refs[akey]
            self._arp.demote(akey)

    def _answer(self, interface: str, ip: str, mac: str, t: int, gratuitous: bool) -> list[Event]:
        akey = (interface, ip)
        refs = self._vip_refs.get(akey)
        entry, old = self._arp.answer(akey, mac, t, gratuitous, refs is not None)
        if refs is None:
            return []
        routers = [self._routers[k] for k in sorted(refs)]
        r0 = routers[0]
        out: list[Event] = []
        how = "gratuitous" if gratuitous else "answer"
        if old is not None:
            out.append(
                VipEvent(
                    time=WallUs(t),
                    kind=EventKind.ARP_OWNER_CHANGE,
                    interface=interface,
                    family=r0.key[1],
                    vrid=r0.key[2],
                    ip=ip,
                    mac=mac,
                    old_mac=old,
                    gratuitous=gratuitous,
                    detail=f"{interface} VIP {ip} now answered by {mac} (was {old}, {how})",
                )
            )
        # The master's MAC (keepalived sends from the real MAC) or the VRID's virtual MAC.
        if any(mac in (r.master.mac, r.vmac) for r in routers):
            entry.foreign_reported = None
            return out
        if entry.foreign_reported != mac:
            entry.foreign_reported = mac
            out.append(
                VipEvent(
                    time=WallUs(t),
                    kind=EventKind.VIP_FOREIGN_MAC,
                    interface=interface,
                    family=r0.key[1],
                    vrid=r0.key[2],
                    ip=ip,
                    mac=mac,
                    old_mac=old,
                    expected_mac=r0.master.mac,
                    gratuitous=gratuitous,
                    detail=f"{interface} VIP {ip} answered by {mac} ({how}), not master"
                    f" {r0.master.ip} ({r0.master.mac}) nor virtual MAC {r0.vmac}",
                )
            )
        return out

    # -- deadlines ------------------------------------------------------------------------

    def _lower_deadline(self, r: RouterState, now: int) -> None:
        d = self._rules.deadline(r)
        if d < self._deadline:
            self._deadline = d

    def _advance(self, now: int) -> list[Event]:
        """Fire every deadline before `now`, in time order."""
        out: list[Event] = []
        nxt = _NEVER
        for routers, rules in (
            (self._routers, self._rules),
            (self._carp_routers, self._carp_rules),
        ):
            deadline = rules.deadline
            for r in routers.values():
                d = deadline(r)
                if now > d:
                    rules.expire(r, now, out)
                    d = deadline(r)
                if d < nxt:
                    nxt = d
        if self._hsrp:
            out.extend(self._hsrp.expire(now))
            nxt = min(nxt, self._hsrp.deadline())
        self._deadline = nxt
        if out:
            out.sort(key=lambda e: e.time)
            self._events.extend(out)
            # A frame stamped before an event already reported is taken as arriving after it.
            self._clock = max(self._clock, out[-1].time)
        return out

    # -- output ---------------------------------------------------------------------------

    def snapshot(self, now: WallUs) -> ObserverSnapshot:
        """An immutable view of the model as of `now` (statuses are judged at `now`)."""
        routers = tuple(
            router_view(self._routers[k], now)
            for k in sorted(self._routers, key=lambda k: (k[0], k[1].value, k[2]))
        )
        arp = self._arp.views()
        if self._hsrp or self._carp_routers:
            carp_routers = [
                carp_view(router_view(r, now), self._carp_master(k), arp)
                for k, r in self._carp_routers.items()
            ]
            routers = tuple(
                sorted(
                    (*routers, *self._hsrp.views(now), *carp_routers),
                    key=lambda r: (r.interface, r.family.value, r.vrid, r.protocol.value),
                )
            )
        carp = tuple(
            CarpView(
                interface=k[0],
                family=k[1],
                vhid=k[2],
                ip=c.ip,
                mac=c.mac,
                advbase=c.advbase,
                advskew=c.advskew,
                demote=c.demote,
                adverts=c.adverts,
                first_seen=WallUs(c.first_seen),
                last_seen=WallUs(c.last_seen),
            )
            for k, c in sorted(
                self._carp.items(), key=lambda kv: (kv[0][0], kv[0][1].value, kv[0][2])
            )
        )
        return ObserverSnapshot(
            time=now,
            routers=routers,
            failovers=self.failovers(),
            events=tuple(self._events),
            arp=arp,
            carp=carp,
            counters=self.counters(),
        )

    def _carp_wait(self, r: RouterState, w: SenderState) -> int:
        """Three of the new CARP master's intervals, exactly (for the figure beside a gap)."""
        c = self._carp.get(r.key)
        exact = c.intervals.get(w.ip) if c is not None else None
        return 3 * (exact if exact is not None else interval_us(w.interval_cs))

    def _carp_master(self, key: RouterKey) -> CarpInfo:
        c = self._carp.get(key)
        if c is None:
            return CarpInfo(advbase=0, advskew=0, demote=0)
        if c.master is None:
            return CarpInfo(advbase=c.advbase, advskew=c.advskew, demote=c.demote)
        return c.master

    def vip_claims(self, now: WallUs) -> list[VipClaim]:
        """Every router's VIPs with its master, in `snapshot(now).routers` order, without
        building the VRRP routers' views: the haproxy join asks once a second, and at 255
        routers a snapshot and its document cost 13 ms, this and the join's holders 1."""
        rows = [
            ((k[0], k[1].value, k[2], Protocol.VRRP.value), r.master.ip, r.master.addresses)
            for k, r in self._routers.items()
        ]
        if self._hsrp or self._carp_routers:
            arp = self._arp.views()
            others = (
                *self._hsrp.views(now),
                *(
                    carp_view(router_view(r, now), self._carp_master(k), arp)
                    for k, r in self._carp_routers.items()
                ),
            )
            rows += (
                ((v.interface, v.family.value, v.vrid, v.protocol.value), v.master_ip, v.vips)
                for v in others
            )
        rows.sort(key=lambda row: row[0])
        return [VipClaim(vip, master, key[2], key[3]) for key, master, vips in rows for vip in vips]

    def counters(self) -> Counters:
        return Counters(
            frames=self._frames,
            vrrp=self._vrrp,
            arp=self._n_arp,
            nd=self._nd,
            carp=self._n_carp,
            rejected=dict(self._rejected),
            hsrp=self._n_hsrp,
            glbp=self._n_glbp,
        )

    def router_views(self, now: WallUs, keys: Iterable[RouterKey]) -> tuple[RouterView, ...]:
        """The views `snapshot(now)` would hold for these VRRP routers (those it knows), at
        the cost of these alone: a console shows news without a snapshot of every router."""
        routers = self._routers
        return tuple(router_view(routers[k], now) for k in dict.fromkeys(keys) if k in routers)

    def failovers(self) -> tuple[Failover, ...]:
        """Every protocol's failovers in the order they happened."""
        vrrp = self._rules.failovers()
        others = (*self._hsrp.failovers(), *self._carp_rules.failovers())
        if not others:
            return vrrp
        return tuple(sorted((*vrrp, *others), key=lambda f: f.new_first_advert))

    @property
    def arp_entries(self) -> int:
        """How many ARP/ND entries are held (bounded: VIPs plus an LRU of others)."""
        return len(self._arp)

    @property
    def router_count(self) -> int:
        return len(self._routers) + len(self._hsrp) + len(self._carp_routers)
