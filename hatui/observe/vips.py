"""VIPs from ARP and ND alone: which addresses float, who holds each, its moves and conflicts.

An address is a VIP when an advert names it (the observer says so), when it is listed by
the operator, or when the wire shows it announced the way floating addresses are and host
addresses are not (docs/json.md, "VIPs from ARP and ND"):

- moved: announced by one MAC while another MAC announced or answered it within
  MOVE_WINDOW_US (kube-vip, MetalLB and Cilium leader changes, keepalived unicast
  failovers, `ip addr` + `arping` scripts);
- repeated: announced by one MAC at least REPEAT_COUNT times over at least REPEAT_SPAN_US,
  with no pause longer than RUN_GAP_US (kube-vip's periodic gratuitous ARP, keepalived's
  second burst after garp_master_delay); a host's boot announcements (RFC 5227 2.3: two,
  2 s apart) and a waking laptop's stay ordinary;
- secondary (IPv4): announced, or answered after announcing, by a MAC whose own address,
  heard as the sender of its ARP requests, is another one (MetalLB's announcing node, a
  failover script's `ip addr add`). IPv6 hosts hold many addresses (link-local, SLAAC,
  temporary), so ND uses the first two rules only.

Memory is bounded: candidates, announced VIPs and hosts are LRU tables of fixed size.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from hatui.codec.frames import Family
from hatui.observe.events import Event, EventKind, VipConflict, VipEvent
from hatui.types import US_PER_S, WallUs, us_to_ms

ArpKey = tuple[str, str]  # (interface, ip)

MOVE_WINDOW_US = 300 * US_PER_S  # an older last word is an address reused, not moved
REPEAT_COUNT = 3
REPEAT_SPAN_US = 4_500_000  # beyond RFC 5227's boot announcements (2 s apart)
RUN_GAP_US = 60 * US_PER_S  # a longer pause starts a new run (a reboot, a wake-up)
CONFLICT_WINDOW_US = 5 * US_PER_S  # three owner flips within it: two MACs both answer
CONFLICT_FLIPS = 3  # A, B, A, B: a move and a move back are not yet a conflict
ANSWER_WINDOW_US = US_PER_S  # two MACs answering one request within it: a conflict
_HOST_IPS = 4  # addresses remembered per MAC
_MACS_PER_VIP = 4  # last words remembered per VIP


class VipSource(StrEnum):
    """Why an address counts as a VIP; when several apply the first listed wins."""

    ADVERT = "advert"
    LISTED = "listed"
    ANNOUNCED = "announced"


@dataclass(frozen=True, slots=True, kw_only=True)
class VipMove:
    """One change of the MAC that holds a VIP: `gap_us` is how long nobody answered."""

    time: WallUs
    from_mac: str
    to_mac: str
    gap_us: int
    announced: bool  # the new owner announced itself (else it answered a request)


@dataclass(frozen=True, slots=True, kw_only=True)
class VipConflictView:
    """Two MACs answering for one VIP: each one's last word, since when."""

    macs: tuple[str, str]
    ips: tuple[str | None, str | None]  # each MAC's own address, as heard
    last: tuple[WallUs, WallUs]
    since: WallUs


@dataclass(frozen=True, slots=True, kw_only=True)
class VipView:
    """One VIP: its owner (MAC and that MAC's own address), activity, last move, conflict."""

    interface: str
    ip: str
    source: VipSource
    why: str
    found: WallUs | None  # when the wire made it a VIP (None: named before any frame)
    mac: str | None
    owner_ip: str | None
    since: WallUs | None
    announcements: int
    last_announcement: WallUs | None
    requests: int
    last_request: WallUs | None
    answers: int
    last_answer: WallUs | None
    last_answer_mac: str | None
    moves: int
    last_move: VipMove | None
    conflict: VipConflictView | None


@dataclass(slots=True, kw_only=True)
class _Candidate:
    """An announced address not (yet) a VIP."""

    mac: str  # the last MAC to announce or answer it
    since: int  # that MAC's first word since another's
    last: int
    since_announced: bool  # that first word was an announcement
    prev_mac: str | None  # the MAC before it, and its last word
    prev_last: int
    announcements: int
    last_announcement: int | None
    announcer: str
    run_first: int
    run_last: int
    run_count: int


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
    last_move: VipMove | None = None
    prev_move: VipMove | None = None
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
        self._listed = frozenset(listed)
        self._on_change = on_change
        self._vips: dict[ArpKey, _Vip] = {}
        self._announced: OrderedDict[ArpKey, None] = OrderedDict()  # LRU order
        self._candidates: OrderedDict[ArpKey, _Candidate] = OrderedDict()
        self._hosts: OrderedDict[tuple[str, str], list[str]] = OrderedDict()
        self._announced_limit = announced_limit
        self._candidate_limit = candidate_limit
        self._host_limit = host_limit

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

    def _make(self, key: ArpKey, base: VipSource | None, why: str, t: int | None) -> _Vip:
        c = self._candidates.pop(key, None)
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
        hk = (interface, mac)
        ips = self._hosts.get(hk)
        if ips is None:
            self._hosts[hk] = [ip]
            if len(self._hosts) > self._host_limit:
                self._hosts.popitem(last=False)
            return
        self._hosts.move_to_end(hk)
        if ips[0] != ip:
            if ip in ips:
                ips.remove(ip)
            ips.insert(0, ip)
            del ips[_HOST_IPS:]

    def own_ip(self, interface: str, mac: str, vip: str) -> str | None:
        """The address `mac` uses as its own, not `vip` nor another VIP; same family first."""
        ips = self._hosts.get((interface, mac))
        if not ips:
            return None
        others = [ip for ip in ips if ip != vip and (interface, ip) not in self._vips]
        same = [ip for ip in others if (":" in ip) == (":" in vip)]
        pick = same or others
        return pick[0] if pick else None

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
                why = self._candidate(key, mac, t, announced)
                if why is None:
                    return out
                c = self._candidates.get(key)
                v = self._make(key, VipSource.ANNOUNCED, why, t)
                out.append(self._event(v, EventKind.VIP_ANNOUNCED, t, mac, v.owner, announced,
                                       vrid, f"{key[0]} {key[1]} is a VIP: {why}"))  # fmt: skip
                if c is not None and c.mac == mac and c.prev_mac not in (None, mac):
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

    def _candidate(self, key: ArpKey, mac: str, t: int, announced: bool) -> str | None:
        """Record the frame for a non-VIP address; the rule that makes it a VIP, if any."""
        c = self._candidates.get(key)
        if c is None:
            if not announced:
                self._learn(key, mac)
                return None
            why = self._secondary(key, mac)
            if why is not None:
                return why
            c = _Candidate(mac=mac, since=t, last=t, since_announced=True, prev_mac=None,
                           prev_last=0, announcements=0, last_announcement=None, announcer=mac,
                           run_first=t, run_last=t, run_count=1)  # fmt: skip
            self._candidates[key] = c
            if len(self._candidates) > self._candidate_limit:
                self._candidates.popitem(last=False)
        else:
            self._candidates.move_to_end(key)
            why = self._rule(key, c, mac, t, announced)
            if why is not None:  # the VIP starts from the candidate's last word (a move's gap)
                return why
        if c.mac != mac:
            c.prev_mac, c.prev_last = c.mac, c.last
            c.mac, c.since, c.since_announced = mac, t, announced
        c.last = t
        if announced:
            c.announcements += 1
            c.last_announcement = t
        return None

    def _rule(self, key: ArpKey, c: _Candidate, mac: str, t: int, announced: bool) -> str | None:
        if not announced:
            return self._secondary(key, mac) if mac == c.announcer else None
        if c.mac != mac and t - c.last <= MOVE_WINDOW_US:
            return f"announced by {mac} after {c.mac}"
        if (
            c.mac == mac
            and c.prev_mac not in (None, mac)
            and c.since - c.prev_last <= MOVE_WINDOW_US
        ):
            return f"announced by {mac}, which answers it since {c.prev_mac} stopped"
        if mac == c.announcer and t - c.run_last <= RUN_GAP_US:
            c.run_count += 1
            c.run_last = t
            if c.run_count >= REPEAT_COUNT and t - c.run_first >= REPEAT_SPAN_US:
                span = (t - c.run_first) / US_PER_S
                return f"announced {c.run_count} times in {span:.1f} s by {mac}"
        else:
            c.announcer, c.run_first, c.run_last, c.run_count = mac, t, t, 1
        return self._secondary(key, mac)

    def _secondary(self, key: ArpKey, mac: str) -> str | None:
        if ":" in key[1]:
            return None
        own = self.own_ip(key[0], mac, key[1])
        if own is None:
            return None
        return f"announced by {mac}, whose own address is {own}"

    def _learn(self, key: ArpKey, mac: str) -> None:
        """An answer for an ordinary address: the answering MAC's own (IPv4 hosts)."""
        if ":" not in key[1]:
            self.host(key[0], mac, key[1])

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
        flaps = flipped and len(v.flips) == CONFLICT_FLIPS and t - v.flips[0] <= CONFLICT_WINDOW_US
        if dual is not None:
            assert v.last_request is not None
            self._raise(v, dual, mac, t, v.last_request, vrid, out)
            return
        if flaps:
            self._raise(v, old, mac, t, v.flips[-2], vrid, out)
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
        v.prev_move, v.last_move = (
            v.last_move,
            VipMove(time=WallUs(at), from_mac=old, to_mac=mac, gap_us=gap, announced=announced),
        )
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
        """Both answer: a conflict. A move between the two since `start` (the request both
        answered, or the flip before this one) was its first sign, not a move: the view
        forgets it (its event stays in the log)."""
        lm = v.last_move
        if lm is not None and lm.time >= start and {lm.from_mac, lm.to_mac} == {other, mac}:
            v.moves -= 1
            v.last_move, v.prev_move = v.prev_move, None
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
        rows += [_listed_view(ip) for ip in sorted(self._listed - heard)]
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
            last_move=v.last_move,
            conflict=None if v.conflict is None else self._conflict_view(v, v.conflict),
        )

    def __len__(self) -> int:
        return len(self._vips)

    @property
    def sizes(self) -> tuple[int, int, int]:
        """Entries held: VIPs, candidates, hosts (each bounded)."""
        return len(self._vips), len(self._candidates), len(self._hosts)


def _listed_view(ip: str) -> VipView:
    """A listed VIP no frame has spoken for yet."""
    return VipView(
        interface="",
        ip=ip,
        source=VipSource.LISTED,
        why="listed with --vip/--vips",
        found=None,
        mac=None,
        owner_ip=None,
        since=None,
        announcements=0,
        last_announcement=None,
        requests=0,
        last_request=None,
        answers=0,
        last_answer=None,
        last_answer_mac=None,
        moves=0,
        last_move=None,
        conflict=None,
    )
