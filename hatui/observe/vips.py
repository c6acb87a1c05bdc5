"""The VIP ledger: every VIP on the observed links, who holds it, its moves and conflicts.

An address is a VIP when an advert names it (the observer says so), when the operator
lists it, or when ARP/ND shows it floating (observe/floating.py). For each the ledger keeps
the owner (the last MAC to answer or announce it) and that MAC's own address, the moves
with their gap (from the old owner's last word to the new owner's first), and conflicts
(two MACs answering at once). Announced VIPs are an LRU of fixed size.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hatui.codec.frames import Family
from hatui.observe.events import Event, EventKind, VipConflict, VipEvent
from hatui.observe.floating import MOVE_WINDOW_US, ArpKey, Candidate, Floating
from hatui.observe.vipviews import (
    VipConflictView,
    VipMove,
    VipSource,
    VipView,
    listed_view,
)
from hatui.types import US_PER_S, WallUs, us_to_ms

CONFLICT_WINDOW_US = 5 * US_PER_S  # a conflict ends when one MAC is silent this long
# Where answers are not seen (behind a switch), two announcers show as owner flips: four
# within FLIP_WINDOW_US (A, B, A, B, A) are a conflict. Two leaders announcing every 3 s
# flip four times within 6 s; a failover and a fast failback flip twice.
CONFLICT_FLIPS = 4
FLIP_WINDOW_US = 10 * US_PER_S
ANSWER_WINDOW_US = US_PER_S  # two MACs answering one request within it: a conflict
_MACS_PER_VIP = 4  # last words remembered per VIP


@dataclass(slots=True, kw_only=True)
class _Conflict:
    macs: tuple[str, str]
    since: int


@dataclass(slots=True, kw_only=True)
class _Vip:
    interface: str
    ip: str
    base: VipSource | None  # listed or announced; None for an advert's alone
    why: str
    found: int | None
    advert: bool = False
    owner: str | None = None
    since: int | None = None
    owner_last: int = 0
    announcements: int = 0
    last_announcement: int | None = None
    requests: int = 0
    last_request: int | None = None
    answers: int = 0
    last_answer: int | None = None
    last_answer_mac: str | None = None
    moves: int = 0
    recent: list[VipMove] = field(default_factory=list)  # the last moves, latest last
    answered: list[str] = field(default_factory=list)  # MACs answering the last request
    flips: list[int] = field(default_factory=list)  # the last CONFLICT_FLIPS owner changes
    heard: dict[str, int] = field(default_factory=dict)  # MAC -> its last word
    conflict: _Conflict | None = None

    @property
    def source(self) -> VipSource:
        if self.advert:
            return VipSource.ADVERT
        assert self.base is not None
        return self.base


def _family(ip: str) -> Family:
    return Family.IPV6 if ":" in ip else Family.IPV4


def _opt(t: int | None) -> WallUs | None:
    return None if t is None else WallUs(t)


class VipLedger:
    """Every VIP on the observed links and the evidence for it.

    `heard` takes each answer or announcement, `request` each ARP request; `advert`
    says when a router starts or stops naming an address. `on_change(key, vip)` tells
    the ARP table when an address becomes, or stops being, a VIP.
    """

    def __init__(
        self,
        *,
        listed: Iterable[str] = (),
        on_change: Callable[[ArpKey, bool], None] = lambda _k, _v: None,
        announced_limit: int = 8192,
        candidate_limit: int = 16384,
        host_limit: int = 8192,
    ) -> None:
        self._floating = Floating(
            is_vip=self.is_vip, candidate_limit=candidate_limit, host_limit=host_limit
        )
        self._listed = frozenset(listed)
        self._on_change = on_change
        self._vips: dict[ArpKey, _Vip] = {}
        self._announced: OrderedDict[ArpKey, None] = OrderedDict()  # LRU order
        self._announced_limit = announced_limit

    # -- what makes a VIP ---------------------------------------------------------------

    def is_vip(self, key: ArpKey) -> bool:
        return key in self._vips

    def advert(self, key: ArpKey, on: bool) -> None:
        """A router's adverts start (or stop) naming this address."""
        v = self._vips.get(key)
        if on:
            if v is None:
                v = self._make(key, None, "named by an advert", None)
            v.advert = True
        elif v is not None:
            v.advert = False
            if v.base is None:
                self._drop(key)

    def _make(
        self,
        key: ArpKey,
        base: VipSource | None,
        why: str,
        t: int | None,
        c: Candidate | None = None,
    ) -> _Vip:
        if c is None:
            self._floating.forget(key)
        v = self._vips[key] = _Vip(interface=key[0], ip=key[1], base=base, why=why, found=t)
        if c is not None:  # what the candidate already knew (the current frame excepted)
            v.owner, v.owner_last, v.since = c.mac, c.last, c.since
            v.announcements, v.last_announcement = c.announcements, c.last_announcement
            v.heard[c.mac] = c.last
        if base is VipSource.ANNOUNCED:
            self._announced[key] = None
            if len(self._announced) > self._announced_limit:
                old, _ = self._announced.popitem(last=False)
                self._drop(old)
        self._on_change(key, True)
        return v

    def _drop(self, key: ArpKey) -> None:
        v = self._vips.get(key)
        if v is None:
            return
        if v.advert:  # still named by an advert: only the announced label goes
            v.base = None
            return
        del self._vips[key]
        self._announced.pop(key, None)
        self._on_change(key, False)

    # -- inputs -------------------------------------------------------------------------

    def request(self, interface: str, asker_ip: str, asker_mac: str, target: str, t: int) -> None:
        """An ARP request: the asker's own address, and a question about `target`."""
        self.host(interface, asker_mac, asker_ip)
        key = (interface, target)
        v = self._vips.get(key)
        if v is None and target in self._listed:
            v = self._make(key, VipSource.LISTED, "listed with --vip/--vips", t)
        if v is not None:
            v.requests += 1
            v.last_request = t
            v.answered.clear()

    def host(self, interface: str, mac: str, ip: str) -> None:
        """`mac` uses `ip` as its own (the sender of its requests, of its adverts)."""
        self._floating.host(interface, mac, ip)

    def own_ip(self, interface: str, mac: str, vip: str) -> str | None:
        """The address `mac` uses as its own, not `vip` nor another VIP."""
        return self._floating.own_ip(interface, mac, vip)

    def heard(
        self,
        key: ArpKey,
        mac: str,
        t: int,
        announced: bool,
        *,
        vrid: int | None = None,
        holder_ip: str | None = None,
    ) -> list[Event]:
        """An answer (or, with `announced`, a gratuitous announcement) for key's address
        from `mac`. `vrid` labels the events of an advert's VIP; `holder_ip` is mac's own
        address when the caller knows it (a VRRP master's)."""
        if holder_ip is not None:
            self.host(key[0], mac, holder_ip)
        v = self._vips.get(key)
        out: list[Event] = []
        if v is None:
            if key[1] in self._listed:
                v = self._make(key, VipSource.LISTED, "listed with --vip/--vips", t)
            else:
                why, c = self._floating.frame(key, mac, t, announced)
                if why is None:
                    return out
                v = self._make(key, VipSource.ANNOUNCED, why, t, c)
                out.append(self._event(v, EventKind.VIP_ANNOUNCED, t, mac, v.owner, announced,
                                       vrid, f"{key[0]} {key[1]} is a VIP: {why}"))  # fmt: skip
                if (
                    c is not None
                    and c.mac == mac
                    and c.prev_mac not in (None, mac)
                    and c.since - c.prev_last <= MOVE_WINDOW_US
                ):
                    # It moved before it was known (the new holder answered first): the
                    # move dates from the new holder's first word.
                    assert c.prev_mac is not None
                    v.flips = [c.since]
                    self._move(v, c.prev_mac, mac, c.since, c.since - c.prev_last,
                               c.since_announced, vrid, out, t)  # fmt: skip
        elif v.base is VipSource.ANNOUNCED:
            self._announced.move_to_end(key)
        self._word(v, mac, t, announced, vrid, out)
        return out

    # -- owner, moves, conflicts --------------------------------------------------------

    def _word(
        self, v: _Vip, mac: str, t: int, announced: bool, vrid: int | None, out: list[Event]
    ) -> None:
        """One answer or announcement for a VIP: owner, move and gap, conflict."""
        if announced:
            v.announcements += 1
            v.last_announcement = t
        else:
            v.answers += 1
            v.last_answer = t
            v.last_answer_mac = mac
        heard = v.heard
        heard[mac] = t
        if len(heard) > _MACS_PER_VIP:
            del heard[min(heard, key=heard.__getitem__)]
        dual = self._dual(v, mac, t, announced)
        c = v.conflict
        if c is not None and mac in c.macs:
            other = c.macs[1] if c.macs[0] == mac else c.macs[0]
            if t - heard.get(other, 0) > CONFLICT_WINDOW_US:
                v.conflict = None
                v.flips.clear()
                out.append(self._conflict_event(v, EventKind.VIP_CONFLICT_CLEARED, c, t, vrid,
                                                f"only {mac} answers now"))  # fmt: skip
        old = v.owner
        if old is None:
            v.owner, v.since, v.owner_last = mac, t, t
            return
        flipped = old != mac
        gap = t - v.owner_last
        if flipped:
            v.owner, v.since = mac, t
            v.flips.append(t)
            if len(v.flips) > CONFLICT_FLIPS:
                del v.flips[0]
        v.owner_last = t
        if v.conflict is not None:
            return  # the owner flaps while both answer: the conflict says so
        # A VRRP VIP's adverts say who is master: its flips follow them (an operator moving
        # it back and forth); only two answers to one request make its conflict.
        flaps = (
            flipped
            and not v.advert
            and len(v.flips) == CONFLICT_FLIPS
            and t - v.flips[0] <= FLIP_WINDOW_US
        )
        if dual is not None:
            assert v.last_request is not None
            self._raise(v, dual, mac, t, v.last_request, vrid, out)
            return
        if flaps:
            self._raise(v, old, mac, t, v.flips[1], vrid, out)
            return
        if not flipped:
            return
        self._move(v, old, mac, t, gap, announced, vrid, out, t)

    def _move(
        self,
        v: _Vip,
        old: str,
        mac: str,
        at: int,
        gap: int,
        announced: bool,
        vrid: int | None,
        out: list[Event],
        now: int,
    ) -> None:
        """A new owner since `at`: nobody answered for `gap` before it."""
        v.moves += 1
        v.recent.append(
            VipMove(time=WallUs(at), from_mac=old, to_mac=mac, gap_us=gap, announced=announced)
        )
        if len(v.recent) > CONFLICT_FLIPS:
            del v.recent[0]
        how = "announced" if announced else "answer"
        own = self.own_ip(v.interface, mac, v.ip)
        by = f"{mac} ({own})" if own else mac
        detail = (
            f"{v.interface} VIP {v.ip} now answered by {by} (was {old}, {how}),"
            f" gap {us_to_ms(gap):.1f} ms"
        )
        out.append(
            self._event(v, EventKind.ARP_OWNER_CHANGE, now, mac, old, announced, vrid, detail, gap)
        )

    def _dual(self, v: _Vip, mac: str, t: int, announced: bool) -> str | None:
        """Another MAC that answered the same request (within ANSWER_WINDOW_US of it)."""
        if announced or v.last_request is None or t - v.last_request > ANSWER_WINDOW_US:
            return None
        others = [m for m in v.answered if m != mac]
        if mac not in v.answered:
            v.answered.append(mac)
        return others[0] if others else None

    def _raise(
        self, v: _Vip, other: str, mac: str, t: int, start: int, vrid: int | None, out: list[Event]
    ) -> None:
        """Both answer: a conflict. Moves between the two since `start` (the request both
        answered, or the second of the flips) were its first signs, not moves: the view
        forgets them (their events stay in the log)."""
        pair = {other, mac}
        while (
            v.recent
            and v.recent[-1].time >= start
            and {
                v.recent[-1].from_mac,
                v.recent[-1].to_mac,
            }
            == pair
        ):
            v.recent.pop()
            v.moves -= 1
        v.conflict = _Conflict(macs=(other, mac), since=t)
        out.append(self._conflict_event(v, EventKind.VIP_CONFLICT, v.conflict, t, vrid,
                                        "both answer"))  # fmt: skip

    def _event(
        self,
        v: _Vip,
        kind: EventKind,
        t: int,
        mac: str,
        old: str | None,
        announced: bool,
        vrid: int | None,
        detail: str,
        gap: int | None = None,
    ) -> VipEvent:
        return VipEvent(
            time=WallUs(t),
            kind=kind,
            interface=v.interface,
            family=_family(v.ip),
            vrid=vrid,
            ip=v.ip,
            mac=mac,
            old_mac=old,
            gratuitous=announced,
            gap_us=gap,
            source=str(v.source),
            detail=detail,
        )

    def _conflict_event(
        self, v: _Vip, kind: EventKind, c: _Conflict, t: int, vrid: int | None, what: str
    ) -> VipConflict:
        view = self._conflict_view(v, c)
        pairs = zip(view.macs, view.ips, strict=True)
        who = " and ".join(f"{m} ({ip})" if ip else m for m, ip in pairs)
        verb = "conflict" if kind is EventKind.VIP_CONFLICT else "conflict cleared"
        return VipConflict(
            time=WallUs(t),
            kind=kind,
            interface=v.interface,
            family=_family(v.ip),
            vrid=vrid,
            ip=v.ip,
            macs=view.macs,
            ips=view.ips,
            last=view.last,
            since=view.since,
            source=str(v.source),
            detail=f"{v.interface} VIP {v.ip} {verb}: {who}; {what}",
        )

    def _conflict_view(self, v: _Vip, c: _Conflict) -> VipConflictView:
        a, b = c.macs
        return VipConflictView(
            macs=c.macs,
            ips=(self.own_ip(v.interface, a, v.ip), self.own_ip(v.interface, b, v.ip)),
            last=(WallUs(v.heard.get(a, c.since)), WallUs(v.heard.get(b, c.since))),
            since=WallUs(c.since),
        )

    # -- output -------------------------------------------------------------------------

    def sources(self) -> dict[ArpKey, str]:
        return {k: str(v.source) for k, v in self._vips.items()}

    def views(self) -> tuple[VipView, ...]:
        rows = [self._view(v) for v in self._vips.values()]
        heard = {v.ip for v in self._vips.values()}
        rows += [listed_view(ip) for ip in sorted(self._listed - heard)]
        rows.sort(key=lambda r: (r.interface, r.ip))
        return tuple(rows)

    def _view(self, v: _Vip) -> VipView:
        return VipView(
            interface=v.interface,
            ip=v.ip,
            source=v.source,
            why=v.why,
            found=_opt(v.found),
            mac=v.owner,
            owner_ip=self.own_ip(v.interface, v.owner, v.ip) if v.owner else None,
            since=_opt(v.since),
            announcements=v.announcements,
            last_announcement=_opt(v.last_announcement),
            requests=v.requests,
            last_request=_opt(v.last_request),
            answers=v.answers,
            last_answer=_opt(v.last_answer),
            last_answer_mac=v.last_answer_mac,
            moves=v.moves,
            last_move=v.recent[-1] if v.recent else None,
            conflict=None if v.conflict is None else self._conflict_view(v, v.conflict),
        )

    def __len__(self) -> int:
        return len(self._vips)

    @property
    def sizes(self) -> tuple[int, int, int]:
        """Entries held: VIPs, candidates, hosts (each bounded)."""
        return len(self._vips), *self._floating.sizes
