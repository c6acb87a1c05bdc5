"""Per-router rules of the observer: mastership, failover causes, split brain, config
mismatches and staleness, applied to the mutable records in `state`."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from hatui.codec.frames import Protocol, VrrpAdvert
from hatui.observe.events import (
    Cause,
    Event,
    EventKind,
    FieldChange,
    NearFailover,
    RouterEvent,
    SplitBrain,
)
from hatui.observe.mismatch import check_config, report_mismatch
from hatui.observe.model import Failover, MasterTerm
from hatui.observe.reason import wire_why
from hatui.observe.rules import (
    OWNER_PRIORITY,
    RATE_WINDOW_US,
    active_us,
    auth_text,
    interval_us,
    is_unicast,
    master_down_us,
    ms_text,
    near_after_us,
    rfc_note,
    skew_us,
    stale_after_us,
    vips_text,
)
from hatui.observe.state import FailoverRecord, RouterKey, RouterState, SenderState
from hatui.observe.views import failover_view
from hatui.types import WallUs

VipHook = Callable[[RouterKey, str], None]
# The wait a backup of this protocol makes before a timeout takeover, for the figure beside
# the gap (CARP: three of the new master's own intervals, known exactly to the observer).
TimeoutWait = Callable[[RouterState, SenderState], int]

_NEVER = 1 << 62
# Advert times kept for the rate: each append drops at most one stamp that has left the
# 10 s window (one comparison), so a deque holds about one window, not its cap; the view
# applies the window exactly. 10 s at the fastest v3 interval (1 cs) is 1000 adverts; the
# cap only matters for a flood, where the rate then reads low rather than memory growing.
_RATE_CAP = 2048
_PEERS_CAP = 16  # unicast destinations remembered per sender
_WAIT = {Protocol.CARP: "CARP wait (3 intervals)"}  # what a timeout's figure is called


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
        protocol: Protocol = Protocol.VRRP,
        timeout_wait: TimeoutWait | None = None,
    ) -> None:
        self._protocol = protocol
        self._timeout_wait = timeout_wait
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
            protocol=self._protocol,
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
                gap = t - s.last_seen
                r.intervals.append(gap)
                if gap >= r.near_after and not r.stale and s.priority > 0 and frame.priority > 0:
                    ev.append(self.near(r, gap, t))
            config_changed = self._fields(r, s, frame, t, ev)
        s.last_seen = t
        s.adverts += 1
        r.last_seen = t
        r.adverts += 1
        rate = r.rate
        rate.append(t)
        if rate[0] <= t - RATE_WINDOW_US:
            rate.popleft()
        if first:
            ev.append(self._router_event(r, s, t, EventKind.NEW_ROUTER, "new router: master"))
        if frame.priority == OWNER_PRIORITY and prev_priority != OWNER_PRIORITY and not first:
            # RFC 5798 6.1: priority 255 claims to own the addresses and wins every
            # election at once; on a VRID already running, a stranger doing so is an alarm.
            what = "claims to own the addresses (priority 255, wins every election):"
            ev.append(self._router_event(r, s, t, EventKind.OWNER_CLAIM, what))
        if frame.priority == 0 and prev_priority != 0:
            # RFC 5798 6.4.3: a master leaving sends priority 0; backups take over after
            # Skew_Time instead of Master_Down_Interval.
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
            check_config(r, t, ev)
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
                and frame.auth_type == s.auth_type
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
        where = r.label
        if frame.priority != s.priority:
            if master and frame.priority != 0:  # priority 0 is reported as a release
                r.fall = (s.priority, frame.priority, t)
                old, new = str(s.priority), str(frame.priority)
                ev.append(
                    FieldChange(
                        time=WallUs(t),
                        kind=EventKind.PRIORITY_CHANGE,
                        interface=r.key[0],
                        family=r.key[1],
                        vrid=r.key[2],
                        protocol=r.protocol,
                        field="priority",
                        old=old,
                        new=new,
                        ip=s.ip,
                        detail=f"{where}: master {s.ip} priority {old} -> {new}",
                    )
                )
            s.priority = frame.priority
        if frame.interval_cs != s.interval_cs:
            old, new = ms_text(s.interval_cs), ms_text(frame.interval_cs)
            if master:
                ev.append(
                    self._change(r, s, t, EventKind.INTERVAL_CHANGE, "advert_interval", old, new)
                )
            elif r.protocol is not Protocol.CARP:  # CARP's advskew is its interval: may differ
                report_mismatch(r, t, ev, "advert_interval", s.ip, old, new, None)
            s.interval_cs = frame.interval_cs
            changed = True
        if frame.addresses != s.addresses:
            vips = tuple(sorted(frame.addresses))
            if vips != s.vips:
                old, new = vips_text(s.vips), vips_text(vips)
                if master:
                    ev.append(self._change(r, s, t, EventKind.VIPS_CHANGE, "vips", old, new))
                else:
                    report_mismatch(r, t, ev, "vips", s.ip, old, new, None)
                before, after = set(s.vips), set(vips)
                for ip in before - after:
                    self._vip_removed(r.key, ip)
                for ip in after - before:
                    self._vip_added(r.key, ip)
                s.vips = vips
                changed = True
            s.addresses = frame.addresses
        if frame.version != s.version:
            report_mismatch(r, t, ev, "version", s.ip, str(s.version), str(frame.version), None)
            s.version = frame.version
            changed = True
        if (
            frame.auth is not s.auth
            or frame.auth_data != s.auth_data
            or frame.auth_type != s.auth_type
        ):
            old = auth_text(s.auth, s.auth_data, s.auth_type)
            new = auth_text(frame.auth, frame.auth_data, frame.auth_type)
            report_mismatch(r, t, ev, "auth", s.ip, old, new, None)
            s.auth, s.auth_data, s.auth_type = frame.auth, frame.auth_data, frame.auth_type
            changed = True
        s.mac = frame.link.src_mac
        s.dst_ip = frame.dst_ip
        s.checksum_form = frame.checksum_form
        return changed

    def _wins(self, r: RouterState, s: SenderState, t: int) -> bool:
        """Who is master follows the wire, not RFC arithmetic (FRR's whole-centisecond
        Skew_Time, Cisco's millisecond timers and keepalived's down_timer_adverts all
        differ from it): s, advertising a non-zero priority, is master at this advert
        unless a sender still advertising (heard within 1.5 intervals, priority not 0)
        ranks above it by RFC 5798 6.4.3's election (priority, then primary address).
        A master silent longer than that, or one that sent priority 0, has gone."""
        me = (s.priority, s.rank, s.ip)
        for o in r.senders.values():
            if o is not s and o.advertising(t) and (o.priority, o.rank, o.ip) > me:
                return False
        return True

    def _change_master(self, r: RouterState, w: SenderState, t: int, ev: list[Event]) -> None:
        old = r.master
        gap = t - old.last_seen
        # The cause is what was seen; the RFC's wait is information beside the gap.
        rfc: int | None
        if old.priority == 0:
            cause = Cause.RELEASE  # backups wait Skew_Time after priority 0 (RFC 5798 6.4.2)
            rfc = skew_us(old.version, old.interval_cs, w.priority)
            if r.protocol is Protocol.CARP:
                rfc = None  # a CARP backup takes over as soon as it hears the master leave
        elif old.advertising(t):
            cause = Cause.PREEMPT  # the old master was still advertising: w outranked it
            rfc = None
        elif self._timeout_wait is not None:
            cause = Cause.TIMEOUT  # the protocol's own wait (CARP: three intervals)
            rfc = self._timeout_wait(r, w)
        else:
            cause = Cause.TIMEOUT  # silence; backups wait Master_Down_Interval
            rfc = master_down_us(old.version, old.interval_cs, w.priority)
        r.history.append(
            MasterTerm(
                ip=old.ip,
                mac=old.mac,
                since=WallUs(r.term_since),
                until=WallUs(t),
                cause=r.term_cause,
            )
        )
        why = wire_why(
            label=r.label,
            cause=cause,
            old_ip=old.ip,
            old_priority=old.priority,
            old_last=old.last_seen,
            new_ip=w.ip,
            new_priority=w.priority,
            at=t,
            interval_us=interval_us(old.interval_cs),
            rfc_us=rfc,
            wait=_WAIT.get(r.protocol),
            fall=r.fall,
        )
        r.master, r.term_since, r.term_cause, r.fall = w, t, cause, None
        rec = FailoverRecord(
            key=r.key,
            from_ip=old.ip,
            from_mac=old.mac,
            to_ip=w.ip,
            to_mac=w.mac,
            old_last_advert=old.last_seen,
            new_first_advert=t,
            cause=cause,
            rfc_us=rfc,
            protocol=r.protocol,
            why=why,
            from_priority=old.priority,
            to_priority=w.priority,
        )
        self._failovers.append(rec)
        r.last_failover = rec
        note = rfc_note(cause, gap, rfc, _WAIT.get(r.protocol))
        ev.append(
            failover_view(rec).event(
                f"{r.label}: master {old.ip} -> {w.ip} ({cause}, gap {gap / 1000:.1f} ms{note})"
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
                        protocol=r.protocol,
                        ips=r.split,
                        since=WallUs(start),
                        detail=f"{r.label}: split brain: {pair[0]} and {pair[1]} both"
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
                protocol=r.protocol,
                ips=r.split,
                since=WallUs(r.split_since),
                detail=f"{r.label}: split brain healed ({why}); master {r.master.ip}",
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
        r.near_after = near_after_us(m.interval_cs)

    def near(self, r: RouterState, gap: int, t: int) -> NearFailover:
        """The master's advert at `t` ends a silence of `gap` (a near failover): count it
        and say how close the highest backup heard came to its Master_Down_Interval."""
        m = r.master
        r.near += 1
        backups = [o.priority for o in r.senders.values() if o is not m and o.priority > 0]
        prio = max(backups) if backups else m.priority
        down = master_down_us(m.version, m.interval_cs, prio)
        whose = f"backup priority {prio}" if backups else f"priority {prio}"
        missed = round(gap / interval_us(m.interval_cs)) - 1
        return NearFailover(
            time=WallUs(t),
            kind=EventKind.NEAR_FAILOVER,
            interface=r.key[0],
            family=r.key[1],
            vrid=r.key[2],
            protocol=r.protocol,
            ip=m.ip,
            mac=m.mac,
            priority=m.priority,
            last_advert=WallUs(t - gap),
            silence_us=gap,
            master_down_us=down,
            detail=f"{r.label}: near failover: master {m.ip} silent {gap / 1000:.1f} ms"
            f" ({missed} adverts missed), Master_Down_Interval ({whose})"
            f" {down / 1000:.1f} ms, {(down - gap) / 1000:.1f} ms short; still master",
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

    def failovers(self) -> tuple[Failover, ...]:
        return tuple(failover_view(f) for f in self._failovers)

    def _router_event(
        self, r: RouterState, s: SenderState, t: int, kind: EventKind, what: str
    ) -> RouterEvent:
        return RouterEvent(
            time=WallUs(t),
            kind=kind,
            interface=r.key[0],
            family=r.key[1],
            vrid=r.key[2],
            protocol=r.protocol,
            ip=s.ip,
            mac=s.mac,
            priority=s.priority,
            detail=f"{r.label}: {what} {s.ip} ({s.mac}) priority {s.priority}",
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
            protocol=r.protocol,
            field=name,
            old=old,
            new=new,
            ip=s.ip,
            detail=f"{r.label}: master {s.ip} {name} {old} -> {new}",
        )
