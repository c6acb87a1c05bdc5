"""Per-router rules of the observer: mastership, failover causes, split brain, config
mismatches and staleness, applied to the mutable records in `state`."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from hatui.codec.frames import VrrpAdvert, is_virtual_mac
from hatui.observe.events import (
    Cause,
    Event,
    EventKind,
    FieldChange,
    MasterChange,
    RouterEvent,
    SplitBrain,
)
from hatui.observe.model import Failover, MasterTerm, RouterView, Status
from hatui.observe.rules import (
    JITTER_US,
    RATE_WINDOW_US,
    active_us,
    auth_text,
    interval_us,
    is_unicast,
    master_down_us,
    skew_us,
    stale_after_us,
    vips_text,
)
from hatui.observe.state import FailoverRecord, RouterKey, RouterState, SenderState
from hatui.types import US_PER_S, WallUs

VipHook = Callable[[RouterKey, str], None]

_NEVER = 1 << 62
# Advert times kept for the rate: the window (10 s) is applied when a view is made, so
# the hot path only appends. 10 s at the fastest v3 interval (1 cs) is 1000 adverts; the
# cap only matters for a flood, where the rate then reads low rather than memory growing.
_RATE_CAP = 2048
_REPORTED_CAP = 64
_PEERS_CAP = 16  # distinct mismatches remembered per router, to report each once


def _where(r: RouterState) -> str:
    return f"{r.key[0]} {r.key[1]} vrid {r.key[2]}"


def _ms(interval_cs: int) -> str:
    return f"{interval_cs * 10} ms"


def _config(s: SenderState) -> dict[str, str]:
    """The fields every sender of one VRID must agree on (RFC 5798 7.1, RFC 3768 7.1)."""
    return {
        "version": str(s.version),
        "auth": auth_text(s.auth, s.auth_data),
        "advert_interval": _ms(s.interval_cs),
        "vips": vips_text(s.vips),
    }


class RouterRules:
    """Applies adverts and deadlines to `RouterState` records and keeps the failover log."""

    def __init__(
        self,
        *,
        history_limit: int,
        sender_limit: int,
        failover_limit: int,
        on_vip_added: VipHook,
        on_vip_removed: VipHook,
    ) -> None:
        self._history_limit = history_limit
        self._sender_limit = sender_limit
        self._failovers: deque[FailoverRecord] = deque(maxlen=failover_limit)
        self._vip_added = on_vip_added
        self._vip_removed = on_vip_removed

    def new_router(self, key: RouterKey, vmac: str, frame: VrrpAdvert, t: int) -> RouterState:
        """A router record whose master is the sender of its first advert (fed next)."""
        return RouterState(
            key=key,
            vmac=vmac,
            master=SenderState.start(frame, t),
            senders={},
            first_seen=t,
            last_seen=t,
            rate=deque(maxlen=_RATE_CAP),
            intervals=deque(maxlen=self._history_limit),
            history=deque(maxlen=self._history_limit),
            term_since=t,
        )

    # -- adverts --------------------------------------------------------------------------

    def advert(self, r: RouterState, frame: VrrpAdvert, t: int) -> list[Event]:
        """The general (slow) path for one advert; returns the events in order."""
        ev: list[Event] = []
        first = r.adverts == 0
        s = r.senders.get(frame.src_ip)
        if s is not None and self._copy(s, frame, t):
            return ev
        prev_priority: int | None = None
        if s is None:
            s = r.master if first else SenderState.start(frame, t)
            if is_unicast(frame.dst_ip):
                s.peers = (frame.dst_ip,)
            self._add_sender(r, s)
            config_changed = True
        else:
            prev_priority = s.priority
            # A run of adverts ends with priority 0 or a silence beyond 1.5 intervals.
            if s.priority == 0 or t - s.last_seen > active_us(s.interval_cs):
                s.run_start = t
            if s is r.master:
                r.intervals.append(t - s.last_seen)
            config_changed = self._fields(r, s, frame, t, ev)
        s.last_seen = t
        s.adverts += 1
        r.last_seen = t
        r.adverts += 1
        r.rate.append(t)
        if first:
            ev.append(self._router_event(r, s, t, EventKind.NEW_ROUTER, "new router: master"))
        if frame.priority == 0 and prev_priority != 0:
            # RFC 5798 6.4.3: a master leaving sends priority 0; backups take over after
            # Skew_Time instead of Master_Down_Interval.
            s.release_time = t
            ev.append(self._router_event(r, s, t, EventKind.RELEASE, "release (priority 0) by"))
        if s is r.master:
            if r.stale:
                r.stale = False
                ev.append(
                    self._router_event(r, s, t, EventKind.STALE_RECOVERED, "advertising again:")
                )
        elif frame.priority > 0:
            if self._wins(r, s, t):
                self._change_master(r, s, t, ev)
                config_changed = True
            else:
                self._race(r, s, t)
        if config_changed:
            self._check_config(r, t, ev)
        self._split(r, s, t, ev)
        self._settle(r, t)
        return ev

    def _copy(self, s: SenderState, frame: VrrpAdvert, t: int) -> bool:
        """keepalived sends one copy of each advert per unicast peer: a second copy to
        another destination within half an interval is the same advert, not a new one."""
        if frame.dst_ip != s.dst_ip and is_unicast(s.dst_ip) and is_unicast(frame.dst_ip):
            if len(s.peers) < _PEERS_CAP and frame.dst_ip not in s.peers:
                s.peers = (*s.peers, frame.dst_ip)
            if (
                t - s.last_seen < interval_us(s.interval_cs) // 2
                and frame.priority == s.priority
                and frame.interval_cs == s.interval_cs
                and frame.addresses == s.addresses
                and frame.version == s.version
                and frame.auth is s.auth
                and frame.auth_data == s.auth_data
            ):
                s.copies += 1
                return True
        return False

    def _add_sender(self, r: RouterState, s: SenderState) -> None:
        r.senders[s.ip] = s
        for ip in set(s.vips):
            self._vip_added(r.key, ip)
        if len(r.senders) <= self._sender_limit:
            return
        # Forget the longest-silent sender, never the master or a split-brain party.
        victims = [
            o
            for o in r.senders.values()
            if o is not r.master and o is not s and (r.split is None or o.ip not in r.split)
        ]
        if victims:
            gone = min(victims, key=lambda o: o.last_seen)
            del r.senders[gone.ip]
            for ip in set(gone.vips):
                self._vip_removed(r.key, ip)

    def _fields(
        self, r: RouterState, s: SenderState, frame: VrrpAdvert, t: int, ev: list[Event]
    ) -> bool:
        """Apply an advert's fields to its sender; report changes. True if config changed."""
        changed = False
        master = s is r.master
        where = _where(r)
        if frame.priority != s.priority:
            if master and frame.priority != 0:  # priority 0 is reported as a release
                old, new = str(s.priority), str(frame.priority)
                ev.append(
                    FieldChange(
                        time=WallUs(t),
                        kind=EventKind.PRIORITY_CHANGE,
                        interface=r.key[0],
                        family=r.key[1],
                        vrid=r.key[2],
                        field="priority",
                        old=old,
                        new=new,
                        ip=s.ip,
                        detail=f"{where}: master {s.ip} priority {old} -> {new}",
                    )
                )
            s.priority = frame.priority
        if frame.interval_cs != s.interval_cs:
            old, new = _ms(s.interval_cs), _ms(frame.interval_cs)
            if master:
                ev.append(
                    self._change(r, s, t, EventKind.INTERVAL_CHANGE, "advert_interval", old, new)
                )
            else:
                self._mismatch(r, t, ev, "advert_interval", s.ip, old, new, None)
            s.interval_cs = frame.interval_cs
            changed = True
        if frame.addresses != s.addresses:
            vips = tuple(sorted(frame.addresses))
            if vips != s.vips:
                old, new = vips_text(s.vips), vips_text(vips)
                if master:
                    ev.append(self._change(r, s, t, EventKind.VIPS_CHANGE, "vips", old, new))
                else:
                    self._mismatch(r, t, ev, "vips", s.ip, old, new, None)
                before, after = set(s.vips), set(vips)
                for ip in before - after:
                    self._vip_removed(r.key, ip)
                for ip in after - before:
                    self._vip_added(r.key, ip)
                s.vips = vips
                changed = True
            s.addresses = frame.addresses
        if frame.version != s.version:
            self._mismatch(r, t, ev, "version", s.ip, str(s.version), str(frame.version), None)
            s.version = frame.version
            changed = True
        if frame.auth is not s.auth or frame.auth_data != s.auth_data:
            old = auth_text(s.auth, s.auth_data)
            new = auth_text(frame.auth, frame.auth_data)
            self._mismatch(r, t, ev, "auth", s.ip, old, new, None)
            s.auth, s.auth_data = frame.auth, frame.auth_data
            changed = True
        s.mac = frame.link.src_mac
        s.dst_ip = frame.dst_ip
        s.checksum_form = frame.checksum_form
        return changed

    def _wins(self, r: RouterState, s: SenderState, t: int) -> bool:
        """VRRP's election (RFC 5798 6.4.3): higher priority, then higher primary address,
        among senders still alive: heard within the Master_Down_Interval that a backup of
        s's priority would wait, less capture jitter."""
        me = (s.priority, s.rank, s.ip)
        for o in r.senders.values():
            if o is s or o.priority == 0:
                continue
            alive = (
                t - o.last_seen < master_down_us(o.version, o.interval_cs, s.priority) - JITTER_US
            )
            if alive and (o.priority, o.rank, o.ip) > me:
                return False
        return True

    def _change_master(self, r: RouterState, w: SenderState, t: int, ev: list[Event]) -> None:
        old = r.master
        gap = t - old.last_seen
        down = master_down_us(old.version, old.interval_cs, w.priority)
        if old.priority == 0 or (old.release_time is not None and t - old.release_time <= down):
            cause = Cause.RELEASE
        elif gap < down - JITTER_US:
            cause = Cause.PREEMPT  # the old master was still alive: w won on priority
        else:
            cause = Cause.TIMEOUT
        r.history.append(
            MasterTerm(
                ip=old.ip,
                mac=old.mac,
                since=WallUs(r.term_since),
                until=WallUs(t),
                cause=r.term_cause,
            )
        )
        r.master, r.term_since, r.term_cause = w, t, cause
        rec = FailoverRecord(
            key=r.key,
            from_ip=old.ip,
            from_mac=old.mac,
            to_ip=w.ip,
            to_mac=w.mac,
            old_last_advert=old.last_seen,
            new_first_advert=t,
            cause=cause,
        )
        self._failovers.append(rec)
        r.last_failover = rec
        ev.append(
            MasterChange(
                time=WallUs(t),
                kind=EventKind.MASTER_CHANGE,
                interface=r.key[0],
                family=r.key[1],
                vrid=r.key[2],
                from_ip=old.ip,
                from_mac=old.mac,
                to_ip=w.ip,
                to_mac=w.mac,
                old_last_advert=WallUs(old.last_seen),
                new_first_advert=WallUs(t),
                gap_us=gap,
                cause=cause,
                detail=f"{_where(r)}: master {old.ip} -> {w.ip} ({cause}, gap {gap / 1000:.1f} ms)",
            )
        )
        if r.stale:
            r.stale = False
            ev.append(self._router_event(r, w, t, EventKind.STALE_RECOVERED, "new master:"))

    def _race(self, r: RouterState, s: SenderState, t: int) -> None:
        """A preempted master may send once more after its successor's first advert: the
        failover's old_last_advert moves to it (the gap turns negative)."""
        rec = r.last_failover
        if (
            rec is not None
            and rec.from_ip == s.ip
            and rec.to_ip == r.master.ip
            and t - rec.new_first_advert <= interval_us(s.interval_cs)
        ):
            rec.old_last_advert = t

    def _split(self, r: RouterState, s: SenderState, t: int, ev: list[Event]) -> None:
        """Split brain: two senders advertising non-zero priority over a common span longer
        than one interval. An election or preemption overlap stays shorter."""
        if r.split is not None:
            if s.priority == 0 and s.ip in r.split:
                self._healed(r, t, ev, f"{s.ip} released")
            return
        if s.priority == 0:
            return
        for o in r.senders.values():
            if o is s or not o.advertising(t):
                continue
            start = max(o.run_start, s.run_start)
            span = min(o.last_seen, s.last_seen) - start
            if span > interval_us(max(o.interval_cs, s.interval_cs)):
                m = r.master
                pair = (
                    (m.ip, (s if o is m else o).ip) if m in (o, s) else tuple(sorted((o.ip, s.ip)))
                )
                r.split = (pair[0], pair[1])
                r.split_since = start
                ev.append(
                    SplitBrain(
                        time=WallUs(t),
                        kind=EventKind.SPLIT_BRAIN,
                        interface=r.key[0],
                        family=r.key[1],
                        vrid=r.key[2],
                        ips=r.split,
                        since=WallUs(start),
                        detail=f"{_where(r)}: split brain: {pair[0]} and {pair[1]} both"
                        f" advertising for {span / 1000:.1f} ms",
                    )
                )
                return

    def _healed(self, r: RouterState, t: int, out: list[Event], why: str) -> None:
        assert r.split is not None
        out.append(
            SplitBrain(
                time=WallUs(t),
                kind=EventKind.SPLIT_BRAIN_HEALED,
                interface=r.key[0],
                family=r.key[1],
                vrid=r.key[2],
                ips=r.split,
                since=WallUs(r.split_since),
                detail=f"{_where(r)}: split brain healed ({why}); master {r.master.ip}",
            )
        )
        r.split = None

    def _settle(self, r: RouterState, now: int) -> None:
        """Recompute the flags that decide whether the fast path applies."""
        m = r.master
        r.contended = any(o is not m and o.advertising(now) for o in r.senders.values())
        quiet = not (r.stale or r.contended or r.split is not None)
        r.fast_ip = m.ip if quiet else None
        r.fast_frame = None  # fields may have changed: the next fast frame re-compares
        r.checked_until = now
        r.stale_after = stale_after_us(m.version, m.interval_cs)

    # -- mismatches -----------------------------------------------------------------------

    def _check_config(self, r: RouterState, t: int, ev: list[Event]) -> None:
        """Compare every sender's last config with the master's (RFC 5798 7.1: all routers
        of a VRID must agree). Backups are silent, so their last advert is the best word."""
        m = r.master
        mine = _config(m)
        active: list[str] = []
        for o in r.senders.values():
            if o is m:
                continue
            theirs = _config(o)
            for name, value in mine.items():
                if theirs[name] != value:
                    active.append(f"{name}: {m.ip} {value} vs {o.ip} {theirs[name]}")
                    self._mismatch(r, t, ev, name, m.ip, value, theirs[name], o.ip)
        r.mismatches = tuple(active)

    def _mismatch(
        self,
        r: RouterState,
        t: int,
        ev: list[Event],
        name: str,
        ip: str,
        a: str,
        b: str,
        other: str | None,
    ) -> None:
        """Report a mismatch once: each distinct (field, senders, values) only the first time."""
        if other is None:
            key: tuple[str, ...] = ("self", name, ip, a, b)
            detail = f"{_where(r)}: {ip} changed {name}: {a} -> {b}"
        else:
            x, y = sorted(((ip, a), (other, b)))
            key = ("pair", name, *x, *y)
            detail = f"{_where(r)}: {name} differs: {ip} sends {a}, {other} sends {b}"
        if key in r.reported:
            return
        r.reported[key] = None
        if len(r.reported) > _REPORTED_CAP:
            del r.reported[next(iter(r.reported))]
        ev.append(
            FieldChange(
                time=WallUs(t),
                kind=EventKind.MISMATCH,
                interface=r.key[0],
                family=r.key[1],
                vrid=r.key[2],
                field=name,
                old=a,
                new=b,
                ip=ip,
                other_ip=other,
                detail=detail,
            )
        )

    # -- time -----------------------------------------------------------------------------

    def deadline(self, r: RouterState) -> int:
        """The next instant something changes for r without a frame: the master turning
        stale, or (while contended) some advertising run ending."""
        if r.fast_ip is not None:  # quiet: only the master can turn stale
            return r.master.last_seen + r.stale_after
        d = _NEVER
        m = r.master
        if not r.stale:
            d = m.last_seen + stale_after_us(m.version, m.interval_cs)
        if r.contended or r.split is not None:
            for o in r.senders.values():
                if o.priority > 0:
                    end = o.run_end()
                    if r.checked_until <= end < d:
                        d = end
        return d

    def expire(self, r: RouterState, now: int, out: list[Event]) -> None:
        """Apply every deadline of r before `now`; events carry the deadline's time."""
        m = r.master
        if not r.stale:
            d = m.last_seen + stale_after_us(m.version, m.interval_cs)
            if now > d:
                r.stale = True
                out.append(
                    self._router_event(
                        r,
                        m,
                        d,
                        EventKind.STALE,
                        f"stale: no advert for {(d - m.last_seen) / 1000:.1f} ms from",
                    )
                )
        if r.split is not None:
            ends = [
                x.run_end()
                for ip in r.split
                if (x := r.senders.get(ip)) is not None and now > x.run_end()
            ]
            if ends:
                self._healed(r, min(ends), out, "one side fell silent")
        self._settle(r, now)

    # -- output ---------------------------------------------------------------------------

    def _router_event(
        self, r: RouterState, s: SenderState, t: int, kind: EventKind, what: str
    ) -> RouterEvent:
        return RouterEvent(
            time=WallUs(t),
            kind=kind,
            interface=r.key[0],
            family=r.key[1],
            vrid=r.key[2],
            ip=s.ip,
            mac=s.mac,
            priority=s.priority,
            detail=f"{_where(r)}: {what} {s.ip} ({s.mac}) priority {s.priority}",
        )

    def _change(
        self, r: RouterState, s: SenderState, t: int, kind: EventKind, name: str, old: str, new: str
    ) -> FieldChange:
        return FieldChange(
            time=WallUs(t),
            kind=kind,
            interface=r.key[0],
            family=r.key[1],
            vrid=r.key[2],
            field=name,
            old=old,
            new=new,
            ip=s.ip,
            detail=f"{_where(r)}: master {s.ip} {name} {old} -> {new}",
        )

    def failovers(self) -> tuple[Failover, ...]:
        return tuple(
            Failover(
                interface=f.key[0],
                family=f.key[1],
                vrid=f.key[2],
                from_ip=f.from_ip,
                from_mac=f.from_mac,
                to_ip=f.to_ip,
                to_mac=f.to_mac,
                old_last_advert=WallUs(f.old_last_advert),
                new_first_advert=WallUs(f.new_first_advert),
                gap_us=f.new_first_advert - f.old_last_advert,
                cause=f.cause,
            )
            for f in self._failovers
        )

    def view(self, r: RouterState, now: int) -> RouterView:
        """The router as of `now`: statuses judged at `now`, not at the last deadline."""
        m = r.master
        stale_after = stale_after_us(m.version, m.interval_cs)
        split = r.split
        if split is not None and not all(
            (x := r.senders.get(ip)) is not None and x.advertising(now) for ip in split
        ):
            split = None
        if split is not None:
            status = Status.SPLIT_BRAIN
        elif r.stale or now - m.last_seen > stale_after:
            status = Status.STALE
        elif r.mismatches:
            status = Status.MISMATCH
        else:
            status = Status.OK
        recent = [x for x in r.rate if now - RATE_WINDOW_US < x <= now]
        span = recent[-1] - recent[0] if len(recent) >= 2 else 0
        rate = (len(recent) - 1) * US_PER_S / span if span > 0 else 0.0
        current = MasterTerm(
            ip=m.ip, mac=m.mac, since=WallUs(r.term_since), until=None, cause=r.term_cause
        )
        return RouterView(
            interface=r.key[0],
            family=r.key[1],
            vrid=r.key[2],
            version=m.version,
            master_ip=m.ip,
            master_mac=m.mac,
            virtual_mac=is_virtual_mac(m.mac),
            priority=m.priority,
            interval_cs=m.interval_cs,
            vips=m.addresses,
            auth=m.auth,
            unicast=is_unicast(m.dst_ip),
            dst_ip=m.dst_ip,
            unicast_peers=m.peers,
            checksum_form=m.checksum_form,
            adverts=r.adverts,
            first_seen=WallUs(r.first_seen),
            last_seen=WallUs(r.last_seen),
            master_since=WallUs(r.term_since),
            master_last_advert=WallUs(m.last_seen),
            skew_us=skew_us(m.version, m.interval_cs, m.priority),
            master_down_us=master_down_us(m.version, m.interval_cs, m.priority),
            stale_after_us=stale_after,
            adverts_per_s=rate,
            intervals_us=tuple(r.intervals),
            senders=tuple(s.view(now) for s in sorted(r.senders.values(), key=lambda s: s.rank)),
            history=(*r.history, current),
            status=status,
            mismatches=r.mismatches,
            split_brain=split,
        )
