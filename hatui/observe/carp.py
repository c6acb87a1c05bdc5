"""CARP through the VRRP rules: a CARP advert read as the advert of a VRRP-like router.

CARP, like VRRP, has only its master advertise, elects by how often a router advertises
(lower advbase + advskew/256 wins; a higher demotion counter loses) and hands over when
the master falls silent for three of a backup's intervals. So mastership, failovers
with their gap, split brain and staleness follow from the same wire rules once each
advert carries a priority that ranks as CARP ranks: 254 - (advskew + demote), clamped to
1..254, and 0 for the "leaving" advert (advbase and advskew 255) a master sends when it
shuts down. CARP adverts list no addresses: the view takes them from who answers ARP
and ND with the CARP virtual MAC 00:00:5e:00:01:VHID.

`CarpModel` holds every group heard, as `HsrpModel` (observe/hsrp.py) holds HSRP's: the
rules run on a table of its own, so a VHID never collides with a VRID of the same number,
and a repeated advert of a quiet master takes the rules' one steady-state path.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from hatui.codec.frames import Auth, CarpAdvert, ChecksumForm, Protocol, VrrpAdvert
from hatui.observe.events import CarpSeen, Event, EventKind
from hatui.observe.model import ArpView, CarpInfo, CarpView, Failover, RouterView
from hatui.observe.routers import RouterRules
from hatui.observe.rules import interval_us
from hatui.observe.state import RouterKey, RouterState, SenderState
from hatui.observe.views import router_view
from hatui.types import US_PER_S, WallUs

_LEAVING = 255  # advbase and advskew both 255: the master is going away
_NEVER = 1 << 62
_SENDERS = 16  # exact intervals remembered per group


def carp_priority(advskew: int, demote: int, advbase: int = 1) -> int:
    """The VRRP-style rank of a CARP advert (higher wins), see the module docstring."""
    if advbase == _LEAVING and advskew == _LEAVING:
        return 0
    return max(1, 254 - min(253, advskew + demote))


def carp_interval_cs(advbase: int, advskew: int) -> int:
    """CARP's advertisement interval, advbase + advskew/256 seconds, in centiseconds."""
    return max(1, advbase * 100 + advskew * 100 // 256)


def carp_interval_us(advbase: int, advskew: int) -> int:
    """CARP's advertisement interval, advbase + advskew/256 seconds, exactly, in us."""
    return advbase * US_PER_S + advskew * US_PER_S // 256


def carp_vmac(vhid: int) -> str:
    """CARP's virtual MAC, the same for IPv4 and IPv6."""
    return f"00:00:5e:00:01:{vhid:02x}"


def as_vrrp(frame: CarpAdvert) -> VrrpAdvert:
    """The advert the VRRP rules are fed for this CARP advert (never shown as VRRP)."""
    return VrrpAdvert(
        link=frame.link,
        family=frame.family,
        src_ip=frame.src_ip,
        dst_ip=frame.dst_ip,
        ttl=255,
        version=2,  # CARP's version
        vrid=frame.vhid,
        priority=carp_priority(frame.advskew, frame.demote, frame.advbase),
        interval_cs=carp_interval_cs(frame.advbase, frame.advskew),
        addresses=(),
        auth=Auth.NONE,
        checksum_form=ChecksumForm.V2,
    )


def carp_view(view: RouterView, info: CarpInfo, arp: tuple[ArpView, ...]) -> RouterView:
    """A router view in CARP's terms: its addresses from ARP/ND, its own timers."""
    vmac = carp_vmac(view.vrid)
    v6 = view.family.value == "ipv6"
    vips = tuple(
        a.ip for a in arp if a.interface == view.interface and a.mac == vmac and (":" in a.ip) == v6
    )
    down = 3 * interval_us(view.interval_cs)
    return replace(
        view,
        vips=vips,
        auth="hmac",  # SHA1-HMAC over the advert: only the key's holders can check it
        checksum_form=None,
        skew_us=0,
        master_down_us=down,
        carp=info,
    )


def _no_vip(_key: RouterKey, _ip: str) -> None:
    """CARP adverts list no addresses: nothing to reference-count."""


@dataclass(slots=True, kw_only=True)
class _Group:
    """One VHID as the `carp` section shows it: its last advert's sender and fields."""

    ip: str
    mac: str
    advbase: int
    advskew: int
    demote: int
    adverts: int
    first_seen: int
    last_seen: int
    router: RouterState
    # The last frame and what the rules were fed for it: the codec shares one object per
    # identical frame, so a repeat rebuilds neither.
    frame: CarpAdvert | None
    advert: VrrpAdvert
    master: CarpInfo | None = None  # the master's advbase, advskew and demotion
    # Each sender's exact interval (advbase + advskew/256 s, in us; the rules see it in
    # centiseconds): the CARP wait beside a timeout's gap is three of them. Bounded.
    intervals: dict[str, int] = field(default_factory=dict)


class CarpModel:
    """Every CARP group heard: fed adverts, reports events, router views in CARP's terms,
    failovers and the `carp` section of the document."""

    def __init__(
        self, *, group_limit: int, history_limit: int, sender_limit: int, failover_limit: int
    ) -> None:
        self._limit = group_limit
        self._groups: dict[RouterKey, _Group] = {}
        # id(a group's last frame) -> the group and its interface, for `steady`: the group
        # holds that frame, so its id is not reused while the entry stands.
        self._by_frame: dict[int, tuple[_Group, str]] = {}
        self._rules = RouterRules(
            history_limit=history_limit,
            sender_limit=sender_limit,
            failover_limit=failover_limit,
            on_vip_added=_no_vip,
            on_vip_removed=_no_vip,
            protocol=Protocol.CARP,
            timeout_wait=self._wait,
        )

    def __len__(self) -> int:
        return len(self._groups)

    # -- adverts --------------------------------------------------------------------------

    def steady(self, interface: str, frame: CarpAdvert, t: int, ev: list[Event]) -> bool:
        """The fast path: a group's last frame again (the codec's shared object, found by
        identity) from its quiet master, through the rules' steady path. False sends it to
        `advert`, the general path."""
        found = self._by_frame.get(id(frame))
        if found is None:
            return False
        g, iface = found
        if g.frame is not frame or iface != interface:
            return False
        if not self._rules.heard(g.router, g.advert, t, ev, None):
            return False
        g.adverts += 1
        g.last_seen = t
        return True

    def advert(self, interface: str, frame: CarpAdvert, t: int) -> tuple[list[Event], int]:
        """The general path: returns the events in order and the group's next deadline."""
        key = (interface, frame.family, frame.vhid)
        g = self._groups.get(key)
        ev: list[Event] = []
        if g is None:
            if len(self._groups) >= self._limit:
                return ev, _NEVER
            advert = as_vrrp(frame)
            router = self._rules.new_router(key, carp_vmac(frame.vhid), advert, t)
            g = self._groups[key] = _Group(
                ip=frame.src_ip,
                mac=frame.link.src_mac,
                advbase=frame.advbase,
                advskew=frame.advskew,
                demote=frame.demote,
                adverts=0,
                first_seen=t,
                last_seen=t,
                router=router,
                frame=None,  # recorded below, with its sender's interval
                advert=advert,
            )
            ev.append(_seen(interface, frame, t))
        g.adverts += 1
        g.last_seen = t
        if frame is not g.frame:
            g.ip, g.mac = frame.src_ip, frame.link.src_mac
            g.advbase, g.advskew, g.demote = frame.advbase, frame.advskew, frame.demote
            if g.frame is not None:
                self._by_frame.pop(id(g.frame), None)
            g.frame, g.advert = frame, as_vrrp(frame)
            g.intervals.pop(frame.src_ip, None)
            g.intervals[frame.src_ip] = carp_interval_us(frame.advbase, frame.advskew)
            if len(g.intervals) > _SENDERS:
                del g.intervals[next(iter(g.intervals))]  # the longest unchanged
        # Again each time: a frame object two groups share (one frame on two interfaces)
        # holds one entry, and the group that lost it takes it back here.
        self._by_frame[id(frame)] = (g, interface)
        r, advert = g.router, g.advert
        if not self._rules.heard(r, advert, t, ev, None):
            ev += self._rules.advert(r, advert, t)
        if r.master.ip == frame.src_ip:
            g.master = CarpInfo(advbase=frame.advbase, advskew=frame.advskew, demote=frame.demote)
        return ev, self._rules.deadline(r)

    # -- time -----------------------------------------------------------------------------

    def expire(self, now: int, out: list[Event]) -> int:
        """Apply every group's deadlines before `now` (events into `out`); returns the
        earliest deadline left."""
        rules = self._rules
        deadline = rules.deadline
        nxt = _NEVER
        for g in self._groups.values():
            r = g.router
            d = deadline(r)
            if now > d:
                rules.expire(r, now, out)
                d = deadline(r)
            if d < nxt:
                nxt = d
        return nxt

    def _wait(self, r: RouterState, w: SenderState) -> int:
        """Three of the new master's intervals, exactly (for the figure beside a gap)."""
        g = self._groups.get(r.key)
        exact = g.intervals.get(w.ip) if g is not None else None
        return 3 * (exact if exact is not None else interval_us(w.interval_cs))

    # -- output ---------------------------------------------------------------------------

    def views(self, now: int, arp: tuple[ArpView, ...]) -> list[RouterView]:
        """Every group's router view in CARP's terms, as of `now`."""
        return [carp_view(router_view(g.router, now), _info(g), arp) for g in self._groups.values()]

    def groups(self) -> tuple[CarpView, ...]:
        """The `carp` section: each group's last advert, in (interface, family, vhid) order."""
        return tuple(
            CarpView(
                interface=k[0],
                family=k[1],
                vhid=k[2],
                ip=g.ip,
                mac=g.mac,
                advbase=g.advbase,
                advskew=g.advskew,
                demote=g.demote,
                adverts=g.adverts,
                first_seen=WallUs(g.first_seen),
                last_seen=WallUs(g.last_seen),
            )
            for k, g in sorted(
                self._groups.items(), key=lambda kv: (kv[0][0], kv[0][1].value, kv[0][2])
            )
        )

    def failovers(self) -> tuple[Failover, ...]:
        return self._rules.failovers()


def _info(g: _Group) -> CarpInfo:
    """The master's timers and demotion (the last advert's until a master is known)."""
    if g.master is None:
        return CarpInfo(advbase=g.advbase, advskew=g.advskew, demote=g.demote)
    return g.master


def _seen(interface: str, frame: CarpAdvert, t: int) -> CarpSeen:
    return CarpSeen(
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
