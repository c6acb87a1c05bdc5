"""HSRP groups as the wire shows them: the active and standby routers, timers, the virtual
IP and MAC, coups and resigns, and active changes as failovers with their gap and cause.

Unlike VRRP every router past Listen says hello, so standbys are heard all the time and
two speakers are no split brain; only two routers both saying Active are. The active
router is whoever last said Active: it follows the wire, as for VRRP. The hold time the
hellos carry is the standby's wait (RFC 2281 5.4): shown beside a timeout's gap, as
information.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from hatui.codec.frames import Family, HsrpHello, HsrpOp, HsrpState, Protocol
from hatui.observe.events import Cause, Event, EventKind, RouterEvent
from hatui.observe.model import Failover, HsrpInfo, MasterTerm, RouterView, SenderView, Status
from hatui.observe.reason import wire_why
from hatui.observe.rules import RATE_WINDOW_US, rfc_note
from hatui.types import US_PER_MS, US_PER_S, WallUs

HsrpKey = tuple[str, Family, int]
_HELLO, _ACTIVE, _STANDBY = HsrpOp.HELLO, HsrpState.ACTIVE, HsrpState.STANDBY  # hot path
_NEVER = 1 << 62
_SENDER_CAP = 16


def hsrp_virtual_mac(version: int, family: Family, group: int) -> str:
    """Cisco's HSRP virtual MAC: v1 0000.0c07.acXX, v2 0000.0c9f.fXXX, IPv6 0005.73a0.0XXX."""
    if family is Family.IPV6:
        return f"00:05:73:a0:0{group >> 8:x}:{group & 0xFF:02x}"
    if version == 1:
        return f"00:00:0c:07:ac:{group & 0xFF:02x}"
    return f"00:00:0c:9f:f{group >> 8:x}:{group & 0xFF:02x}"


@dataclass(slots=True, kw_only=True)
class _Speaker:
    ip: str
    mac: str
    priority: int
    state: HsrpState
    op: HsrpOp
    hello_ms: int
    hold_ms: int
    vip: str
    auth: str
    version: int
    adverts: int
    first_seen: int
    last_seen: int
    active_since: int | None = None  # the first hello of its current run as Active
    active_last: int = 0  # its last hello as Active (or its resign): a failover's start
    frame: HsrpHello | None = None  # its last hello (the codec shares identical ones)

    def speaking(self, now: int) -> bool:
        """Heard within 1.5 hellos and not resigned."""
        return self.op is not HsrpOp.RESIGN and now - self.last_seen <= self.hello_ms * 1500


@dataclass(slots=True, kw_only=True)
class _Group:
    key: HsrpKey
    version: int
    speakers: dict[str, _Speaker]
    first_seen: int
    last_seen: int
    history: deque[MasterTerm]
    rate: deque[int]
    intervals: deque[int]
    active: _Speaker | None = None
    standby: _Speaker | None = None
    term_since: int = 0
    term_cause: Cause = Cause.FIRST
    adverts: int = 0
    stale: bool = False

    @property
    def label(self) -> str:
        return f"{self.key[0]} {self.key[1]} hsrp group {self.key[2]}"


@dataclass(slots=True)
class HsrpModel:
    """Every HSRP group heard: fed hellos, coups and resigns; reports events and views."""

    group_limit: int = 256
    history_limit: int = 64
    failover_limit: int = 2000
    _groups: dict[HsrpKey, _Group] = field(default_factory=dict)
    _failovers: deque[Failover] = field(default_factory=deque)
    # id(last hello object) -> its group, speaker and interface, for `steady`. The codec
    # shares one object per identical hello, and the speaker holds it (s.frame), so an
    # id here cannot be reused by another object while its entry stands.
    _by_frame: dict[int, tuple[_Group, _Speaker, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._failovers = deque(maxlen=self.failover_limit)

    def __len__(self) -> int:
        return len(self._groups)

    def steady(self, interface: str, h: HsrpHello, t: int) -> bool:
        """The fast path: a speaker's last hello again (the same object from the codec's
        memo), changing no role. Counted here; False sends it to `hello`, the general
        path (tests/observe/test_fast_paths.py checks the two agree)."""
        found = self._by_frame.get(id(h))
        if found is None:
            return False
        g, s, iface = found
        if s.frame is not h or iface != interface or g.stale or h.op is not _HELLO:
            return False
        if h.state is _ACTIVE:
            if s is not g.active:
                return False
            g.intervals.append(t - s.last_seen)
            s.active_last = t
        elif s is g.active or (h.state is _STANDBY) is not (s is g.standby):
            return False
        s.adverts += 1
        s.last_seen = t
        g.adverts += 1
        g.last_seen = t
        rate = g.rate
        rate.append(t)
        if rate[0] <= t - RATE_WINDOW_US:
            rate.popleft()
        return True

    def hello(self, interface: str, h: HsrpHello, t: int) -> list[Event]:
        key = (interface, h.family, h.group)
        g = self._groups.get(key)
        ev: list[Event] = []
        if g is None:
            if len(self._groups) >= self.group_limit:
                return ev
            g = self._groups[key] = _Group(
                key=key,
                version=h.version,
                speakers={},
                first_seen=t,
                last_seen=t,
                history=deque(maxlen=self.history_limit),
                rate=deque(maxlen=2048),
                intervals=deque(maxlen=self.history_limit),
                term_since=t,
            )
        s = g.speakers.get(h.src_ip)
        if s is None:
            s = _Speaker(
                ip=h.src_ip,
                mac=h.link.src_mac,
                priority=h.priority,
                state=h.state,
                op=h.op,
                hello_ms=h.hello_ms,
                hold_ms=h.hold_ms,
                vip=h.vip,
                auth=h.auth,
                version=h.version,
                adverts=0,
                first_seen=t,
                last_seen=t,
            )
            self._add(g, s)
        elif s is g.active and h.state is HsrpState.ACTIVE:
            g.intervals.append(t - s.last_seen)
        if h.state is HsrpState.ACTIVE and (
            s.state is not HsrpState.ACTIVE or s.active_since is None
        ):
            s.active_since = t  # a new run as Active
        s.mac, s.priority, s.state, s.op = h.link.src_mac, h.priority, h.state, h.op
        s.hello_ms, s.hold_ms, s.auth, s.version = h.hello_ms, h.hold_ms, h.auth, h.version
        if h.vip:
            s.vip = h.vip
        if h.state is HsrpState.ACTIVE or h.op is HsrpOp.RESIGN:
            s.active_last = t
        if s.frame is not h:
            if s.frame is not None:
                self._by_frame.pop(id(s.frame), None)
            s.frame = h
            self._by_frame[id(h)] = (g, s, interface)
        s.adverts += 1
        s.last_seen = t
        g.adverts += 1
        g.last_seen = t
        g.version = h.version
        g.rate.append(t)
        if g.rate[0] <= t - RATE_WINDOW_US:
            g.rate.popleft()
        if g.adverts == 1:
            ev.append(
                self._event(g, s, t, EventKind.NEW_ROUTER, f"new group: {h.state.name.lower()}")
            )
        if h.op is HsrpOp.RESIGN:
            ev.append(self._event(g, s, t, EventKind.RELEASE, "resign by"))
        if h.state is HsrpState.STANDBY:
            g.standby = s
        elif g.standby is s:
            g.standby = None
        if h.state is HsrpState.ACTIVE and h.op is not HsrpOp.RESIGN:
            if g.active is None:
                g.active, g.term_since = s, t
            elif g.active is not s:
                self._change(g, s, h.op, t, ev)
            elif g.stale:
                g.stale = False
                ev.append(self._event(g, s, t, EventKind.STALE_RECOVERED, "saying hello again:"))
        return ev

    def _add(self, g: _Group, s: _Speaker) -> None:
        g.speakers[s.ip] = s
        if len(g.speakers) > _SENDER_CAP:
            keep = (g.active, g.standby, s)
            victims = [o for o in g.speakers.values() if o not in keep]
            if victims:
                gone = min(victims, key=lambda o: o.last_seen)
                del g.speakers[gone.ip]
                if gone.frame is not None:
                    self._by_frame.pop(id(gone.frame), None)

    def _change(self, g: _Group, w: _Speaker, op: HsrpOp, t: int, ev: list[Event]) -> None:
        old = g.active
        assert old is not None
        gap = t - old.active_last
        rfc: int | None = None
        if op is HsrpOp.COUP:
            cause, how = Cause.PREEMPT, "coup"  # RFC 2281 5.3: a higher priority takes over
        elif old.op is HsrpOp.RESIGN or old.state is not HsrpState.ACTIVE:
            cause, how = Cause.RELEASE, "resign"  # it gave up: the standby takes over at once
        elif old.speaking(t):
            cause, how = Cause.PREEMPT, "coup"
        else:
            cause, how = Cause.TIMEOUT, "timeout"
            rfc = old.hold_ms * US_PER_MS  # the standby waits the hold time (RFC 2281 5.4)
        g.history.append(
            MasterTerm(
                ip=old.ip,
                mac=old.mac,
                since=WallUs(g.term_since),
                until=WallUs(t),
                cause=g.term_cause,
            )
        )
        g.active, g.term_since, g.term_cause = w, t, cause
        iface, family, group = g.key
        failover = Failover(
            interface=iface,
            family=family,
            vrid=group,
            from_ip=old.ip,
            from_mac=old.mac,
            to_ip=w.ip,
            to_mac=w.mac,
            old_last_advert=WallUs(old.active_last),
            new_first_advert=WallUs(t),
            gap_us=gap,
            cause=cause,
            rfc_us=rfc,
            protocol=Protocol.HSRP,
            from_priority=old.priority,
            to_priority=w.priority,
            why=wire_why(
                label=g.label,
                cause=cause,
                old_ip=old.ip,
                old_priority=old.priority,
                old_last=old.active_last,
                new_ip=w.ip,
                new_priority=w.priority,
                at=t,
                interval_us=old.hello_ms * US_PER_MS,
                rfc_us=rfc,
                wait="RFC 2281 hold time",
                release="resigned",
            ),
        )
        self._failovers.append(failover)
        note = rfc_note(cause, gap, rfc, "RFC 2281 hold time")
        ev.append(
            failover.event(
                f"{g.label}: active {old.ip} -> {w.ip} ({how}, gap {gap / 1000:.1f} ms{note})"
            )
        )
        if g.stale:
            g.stale = False
            ev.append(self._event(g, w, t, EventKind.STALE_RECOVERED, "new active:"))

    def _event(self, g: _Group, s: _Speaker, t: int, kind: EventKind, what: str) -> RouterEvent:
        return RouterEvent(
            time=WallUs(t),
            kind=kind,
            interface=g.key[0],
            family=g.key[1],
            vrid=g.key[2],
            protocol=Protocol.HSRP,
            ip=s.ip,
            mac=s.mac,
            priority=s.priority,
            detail=f"{g.label}: {what} {s.ip} ({s.mac}) priority {s.priority}",
        )

    # -- time -----------------------------------------------------------------------------

    def deadline(self) -> int:
        """The earliest instant an active router turns stale: silent past its hold time
        and one hello more, by when a standby would have said Active."""
        d = _NEVER
        for g in self._groups.values():
            a = g.active
            if a is not None and not g.stale:
                d = min(d, a.last_seen + _stale_after_us(a))
        return d

    def expire(self, now: int) -> list[Event]:
        out: list[Event] = []
        for g in self._groups.values():
            a = g.active
            if a is None or g.stale:
                continue
            d = a.last_seen + _stale_after_us(a)
            if now > d:
                g.stale = True
                silence = (d - a.last_seen) / 1000
                what = f"stale: no hello for {silence:.0f} ms (hold + hello) from active"
                out.append(self._event(g, a, d, EventKind.STALE, what))
        return out

    # -- views ----------------------------------------------------------------------------

    def failovers(self) -> tuple[Failover, ...]:
        return tuple(self._failovers)

    def views(self, now: int) -> list[RouterView]:
        return [self._view(self._groups[k], now) for k in sorted(self._groups, key=_order)]

    def _view(self, g: _Group, now: int) -> RouterView:
        a = g.active
        lead = a or max(g.speakers.values(), key=lambda s: (s.state.rank, s.priority))
        iface, family, group = g.key
        vmac = hsrp_virtual_mac(g.version, family, group)
        hold_us = lead.hold_ms * US_PER_MS
        actives = [
            s for s in g.speakers.values() if s.state is HsrpState.ACTIVE and s.speaking(now)
        ]
        split = None
        if len(actives) >= 2:
            x, y = sorted(actives, key=lambda s: s.last_seen)[-2:]
            if (
                min(x.last_seen, y.last_seen) - max(x.active_since or 0, y.active_since or 0)
                > x.hello_ms * US_PER_MS
            ):
                split = (x.ip, y.ip)
        mismatches = tuple(
            f"{name}: {lead.ip} {mine} vs {s.ip} {theirs}"
            for s in g.speakers.values()
            if s is not lead
            for name, mine, theirs in (
                ("hello", lead.hello_ms, s.hello_ms),
                ("hold", lead.hold_ms, s.hold_ms),
                ("vip", lead.vip or "-", s.vip or "-"),
                ("version", lead.version, s.version),
                ("auth", lead.auth, s.auth),
            )
            if mine != theirs and not (name == "vip" and "-" in (mine, theirs))
        )
        if split is not None:
            status = Status.SPLIT_BRAIN
        elif a is not None and (g.stale or now - a.last_seen > _stale_after_us(a)):
            status = Status.STALE
        elif mismatches:
            status = Status.MISMATCH
        else:
            status = Status.OK
        window = [x for x in g.rate if now - RATE_WINDOW_US < x <= now]
        span = window[-1] - window[0] if len(window) >= 2 else 0
        rate = (len(window) - 1) * US_PER_S / span if span > 0 else 0.0
        sb = g.standby
        history = (
            *g.history,
            MasterTerm(
                ip=lead.ip, mac=lead.mac, since=WallUs(g.term_since), until=None, cause=g.term_cause
            ),
        )
        return RouterView(
            interface=iface,
            family=family,
            vrid=group,
            version=g.version,
            master_ip=a.ip if a else "",
            master_mac=a.mac if a else "",
            virtual_mac=a is not None and a.mac == vmac,
            priority=a.priority if a else 0,
            interval_cs=lead.hello_ms // 10,
            vips=(lead.vip,) if lead.vip else (),
            auth=lead.auth,
            auth_type=0,
            unicast=False,
            dst_ip=_group_address(g.version, family),
            unicast_peers=(),
            checksum_form=None,
            adverts=g.adverts,
            first_seen=WallUs(g.first_seen),
            last_seen=WallUs(g.last_seen),
            master_since=WallUs(g.term_since),
            master_last_advert=WallUs(a.last_seen if a else 0),
            skew_us=0,
            master_down_us=hold_us,
            stale_after_us=_stale_after_us(lead),
            adverts_per_s=rate,
            intervals_us=tuple(g.intervals),
            senders=tuple(
                _sender_view(s, now, vmac)
                for s in sorted(g.speakers.values(), key=lambda s: -s.priority)
            ),
            history=history if a else (),
            status=status,
            mismatches=mismatches,
            split_brain=split,
            protocol=Protocol.HSRP,
            hsrp=HsrpInfo(
                hello_ms=lead.hello_ms,
                hold_ms=lead.hold_ms,
                vmac=vmac,
                state=a.state.name.lower() if a else lead.state.name.lower(),
                standby_ip=sb.ip if sb else None,
                standby_mac=sb.mac if sb else None,
                standby_priority=sb.priority if sb else None,
            ),
        )


def _stale_after_us(a: _Speaker) -> int:
    return (a.hold_ms + a.hello_ms) * US_PER_MS


def _order(k: HsrpKey) -> tuple[str, str, int]:
    return (k[0], k[1].value, k[2])


def _group_address(version: int, family: Family) -> str:
    if family is Family.IPV6:
        return "ff02::66"
    return "224.0.0.2" if version == 1 else "224.0.0.102"


def _sender_view(s: _Speaker, now: int, vmac: str) -> SenderView:
    return SenderView(
        ip=s.ip,
        mac=s.mac,
        virtual_mac=s.mac == vmac,
        priority=s.priority,
        adverts=s.adverts,
        first_seen=WallUs(s.first_seen),
        last_seen=WallUs(s.last_seen),
        interval_cs=s.hello_ms // 10,
        vips=(s.vip,) if s.vip else (),
        auth=s.auth,
        auth_type=0,
        version=s.version,
        advertising=s.speaking(now),
        state=s.state.name.lower(),
    )
