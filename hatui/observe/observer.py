"""The observer: fed captured frames with their timestamps, it models the LAN's virtual
routers and reports what changes. Pure: time is always an input, so a pcap replays to
the same events, at the same times, that live capture gave."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
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
from hatui.observe.carp import CarpModel
from hatui.observe.events import (
    Event,
    EventKind,
    GlbpSeen,
    RejectedSeen,
    VipEvent,
)
from hatui.observe.hsrp import HsrpModel
from hatui.observe.model import (
    Counters,
    Failover,
    ObserverSnapshot,
    RouterView,
    VipClaim,
)
from hatui.observe.ownership import ArpKey, ArpTable
from hatui.observe.routers import RouterRules
from hatui.observe.rules import REJECT_EVENT_EVERY_US
from hatui.observe.state import RouterKey, RouterState
from hatui.observe.views import router_view
from hatui.observe.vips import VipLedger
from hatui.types import US_PER_MS, WallUs

_NEVER = 1 << 62  # a deadline that never comes

_UNSPECIFIED_V4 = "0.0.0.0"  # ARP probes (RFC 5227) claim nothing


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
        vips: Iterable[str] = (),
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
        self._vips = VipLedger(listed=vips, on_change=self._arp.mark_vip)
        self._carp = CarpModel(
            group_limit=carp_limit,
            history_limit=history_limit,
            sender_limit=sender_limit,
            failover_limit=event_limit,
        )
        self._glbp_limit = carp_limit
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
        building the frozen wrapper is a noticeable share of a frame's cost."""
        t: int = at
        if t < self._clock:
            t = self._clock  # out-of-order stamps (several interfaces) count as "now"
        else:
            self._clock = t
        self._frames += 1
        early = self._advance(t) if t > self._deadline else None
        # Steady state: a repeated advert of a quiet master (or an HSRP speaker's hello)
        # is only counted; `out` then holds at most a near failover it ended.
        out: list[Event] = []
        if type(frame) is VrrpAdvert:
            r = self._routers.get((interface, frame.family, frame.vrid))
            if r is not None and self._rules.heard(r, frame, t, out, None):
                self._vrrp += 1
            else:
                out = self._dispatch(interface, frame, t)
        elif type(frame) is HsrpHello and self._hsrp.steady(interface, frame, t):
            self._n_hsrp += 1  # standbys say hello as often as actives: theirs count here
        elif type(frame) is CarpAdvert and self._carp.steady(interface, frame, t, out):
            self._n_carp += 1
        else:
            out = self._dispatch(interface, frame, t)
        if out:
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
                if frame.sender_ip == _UNSPECIFIED_V4:
                    return []
                if frame.op == 2 or frame.gratuitous:
                    g = frame.gratuitous
                    return self._answer(interface, frame.sender_ip, frame.sender_mac, t, g, g)
                self._vips.request(interface, frame.sender_ip, frame.sender_mac, frame.target_ip, t)
                return []
            case NeighborAdvert():
                self._nd += 1
                mac = frame.target_mac if frame.target_mac is not None else frame.link.src_mac
                # RFC 4861 7.2.6: an unsolicited NA with the override flag is IPv6's
                # gratuitous ARP; without the flag it only confirms.
                announced = frame.override and not frame.solicited
                return self._answer(interface, frame.target_ip, mac, t, frame.gratuitous, announced)
            case CarpAdvert():
                self._n_carp += 1
                out, deadline = self._carp.advert(interface, frame, t)
                self._deadline = min(self._deadline, deadline)
                return out
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

    def _glbp_hello(self, interface: str, frame: GlbpHello, t: int) -> list[Event]:
        key = (interface, frame.family, frame.group)
        if key in self._glbp or len(self._glbp) >= self._glbp_limit:
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
            self._vips.advert(akey, True)
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
            self._vips.advert(akey, False)

    def _answer(
        self, interface: str, ip: str, mac: str, t: int, gratuitous: bool, announced: bool
    ) -> list[Event]:
        akey = (interface, ip)
        refs = self._vip_refs.get(akey)
        if refs is None:
            out = self._vips.heard(akey, mac, t, announced)
            self._arp.answer(akey, mac, t, gratuitous, self._vips.is_vip(akey))
            return out
        routers = [self._routers[k] for k in sorted(refs)]
        r0 = routers[0]
        holder = next((r.master.ip for r in routers if r.master.mac == mac), None)
        out = self._vips.heard(akey, mac, t, announced, vrid=r0.key[2], holder_ip=holder)
        entry, old = self._arp.answer(akey, mac, t, gratuitous, True)
        how = "gratuitous" if gratuitous else "answer"
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
        nxt = self._rules.expire_due(self._routers.values(), now, out)
        nxt = min(nxt, self._carp.expire(now, out))
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
        arp = self._arp.views(self._vips.sources())
        if self._hsrp or self._carp:
            routers = tuple(
                sorted(
                    (*routers, *self._hsrp.views(now), *self._carp.views(now, arp)),
                    key=lambda r: (r.interface, r.family.value, r.vrid, r.protocol.value),
                )
            )
        return ObserverSnapshot(
            time=now,
            routers=routers,
            failovers=self.failovers(),
            events=tuple(self._events),
            arp=arp,
            carp=self._carp.groups(),
            counters=self.counters(),
            vips=self._vips.views(),
        )

    def vip_claims(self, now: WallUs) -> list[VipClaim]:
        """Every router's VIPs with its master, in `snapshot(now).routers` order, without
        building the VRRP routers' views: the haproxy join asks once a second, and at
        hundreds of routers a snapshot and its document cost far more than this."""
        rows = [
            ((k[0], k[1].value, k[2], Protocol.VRRP.value), r.master.ip, r.master.addresses)
            for k, r in self._routers.items()
        ]
        if self._hsrp or self._carp:
            others = (*self._hsrp.views(now), *self._carp.views(now, self._arp.views()))
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
        others = (*self._hsrp.failovers(), *self._carp.failovers())
        if not others:
            return vrrp
        return tuple(sorted((*vrrp, *others), key=lambda f: f.new_first_advert))

    @property
    def arp_entries(self) -> int:
        """How many ARP/ND entries are held (bounded: VIPs plus an LRU of others)."""
        return len(self._arp)

    @property
    def router_count(self) -> int:
        return len(self._routers) + len(self._hsrp) + len(self._carp)
