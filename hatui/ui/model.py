"""The console's view model: small typed records built from the JSON contract documents.

Every mode (watch, serve, read, attach, tests) hands the UI the same documents
(`snapshot_to_json`, `node_status_to_json`, event objects), so there is one rendering path.
Ages are relative to the document's own "time", never to the wall clock, so a replay or a
screenshot renders the same on every run. Parsing is forgiving: a missing field shows as a
default, it never crashes the console.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from hatui.observe.rules import master_down_us, skew_us

Json = dict[str, Any]


class Mode(StrEnum):
    WATCH = "WATCH"
    SERVE = "SERVE"
    READ = "READ"
    ATTACH = "ATTACH"


# Which modes may steer a node: the others hide and refuse the command keys.
COMMAND_MODES = frozenset({Mode.SERVE, Mode.ATTACH})

# Worst first: sorting by status puts what needs attention at the top.
STATUS_ORDER = {"split_brain": 0, "stale": 1, "mismatch": 2, "ok": 3}


@dataclass(frozen=True, slots=True, kw_only=True)
class SenderRow:
    ip: str
    mac: str
    virtual_mac: bool
    priority: int
    adverts: int
    interval_ms: float
    age_s: float
    advertising: bool
    skew_ms: float  # Skew_Time this sender would use as a backup (RFC 5798 6.1)
    master_down_ms: float  # its Master_Down_Interval
    state: str = ""  # HSRP: the state it says hello in


@dataclass(frozen=True, slots=True, kw_only=True)
class TermRow:
    ip: str
    since: float
    held_s: float  # until the term ended, or until the document's time if current
    current: bool
    cause: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FailoverRow:
    key: str
    from_ip: str
    to_ip: str
    at: float
    gap_ms: float
    cause: str
    rfc_gap_ms: float | None = None  # the RFC's expected gap for the cause (information)
    reason: str = ""  # RFC 8347's new-master-reason
    why: str = ""  # the wire's evidence, one line


@dataclass(frozen=True, slots=True, kw_only=True)
class ArpRow:
    ip: str
    mac: str
    age_s: float
    gratuitous: bool
    owner_changes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RouterRow:
    key: str  # interface/family/vrid: the row key in the table
    interface: str
    family: str
    vrid: int
    version: int
    master_ip: str
    master_mac: str
    virtual_mac: bool
    priority: int
    interval_ms: float
    vips: tuple[str, ...]
    auth: str
    adverts: int
    adverts_per_s: float
    age_s: float  # since the master's last advert
    master_down_ms: float
    stale_after_ms: float
    status: str
    senders: tuple[SenderRow, ...]
    history: tuple[TermRow, ...]
    intervals_ms: tuple[float, ...]
    mismatches: tuple[str, ...]
    split_brain: tuple[str, ...]
    protocol: str = "vrrp"
    auth_verifiable: bool = True
    near_failovers: int = 0  # the master silent 2+ adverts, no takeover
    # HSRP: the standby router, the hold time, the group's expected virtual MAC
    standby: tuple[str, str, int] | None = None  # ip, mac, priority
    hold_ms: float | None = None
    vmac_expected: str = ""
    # CARP: advbase (s), advskew, the master's demotion counter
    carp: tuple[int, int, int] | None = None

    @property
    def proto_label(self) -> str:
        """The protocol column: V2 / V3 for VRRP, else the protocol's name."""
        if self.protocol == "vrrp":
            return f"V{self.version}"
        return self.protocol.upper()

    def sort_key(self, by: str) -> tuple[Any, ...]:
        if by == "status":
            return (
                STATUS_ORDER.get(self.status, 9),
                self.vrid,
                self.interface,
                self.family,
                self.protocol,
            )
        return (self.vrid, self.interface, self.family, self.protocol)


@dataclass(frozen=True, slots=True, kw_only=True)
class Counters:
    frames: int = 0
    vrrp: int = 0
    arp: int = 0
    rejected: tuple[tuple[str, int], ...] = ()  # non-zero reasons only
    kernel_drops: int | None = None  # live capture only
    others: tuple[tuple[str, int], ...] = ()  # carp / hsrp / glbp frames, non-zero only


@dataclass(frozen=True, slots=True, kw_only=True)
class ObserverView:
    time: float
    routers: tuple[RouterRow, ...]
    failovers: tuple[FailoverRow, ...]
    arp: dict[str, ArpRow]  # by IP: who answers ARP / ND for it
    counters: Counters
    # Light views (`observer_view(doc, light=True)`) leave senders, history and intervals
    # out of `routers` (the table never shows them) and parse them here for `router(key)`.
    raw: dict[str, Json] | None = None

    def router(self, key: str) -> RouterRow | None:
        """One router with everything the detail pane shows."""
        if self.raw is not None and key in self.raw:
            return _router(self.raw[key], self.time, full=True)
        for row in self.routers:
            if row.key == key:
                return row  # a full view's row (light rows have their document in raw)
        return None

    def merge(self, part: ObserverView) -> ObserverView:
        """This view with newer rows for the routers of `part` (a partial document's light
        view, `routers_to_json`): news drawn before the next document of every router."""
        new = {r.key: r for r in part.routers}
        routers = tuple(new.pop(r.key, r) for r in self.routers) + tuple(new.values())
        raw = {**(self.raw or {}), **(part.raw or {})}
        return replace(self, time=max(self.time, part.time), routers=routers, raw=raw)

    def failovers_of(self, key: str) -> tuple[FailoverRow, ...]:
        return tuple(f for f in self.failovers if f.key == key)


EMPTY_OBSERVER = ObserverView(time=0.0, routers=(), failovers=(), arp={}, counters=Counters())


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackerRow:
    kind: str
    name: str
    ok: bool
    contribution: int


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceRow:
    name: str
    interface: str
    family: str
    vrid: int
    state: str
    state_age_s: float | None
    state_cause: str
    primary_ip: str
    base_priority: int
    override: int | None
    effective_priority: int
    trackers: tuple[TrackerRow, ...]
    vips: tuple[str, ...]
    vips_held: bool
    master_ip: str | None
    peers: tuple[str, ...]
    hold: bool
    paused: bool
    faults: tuple[str, ...]
    skew_ms: float
    master_down_ms: float
    next_timer: str | None
    next_in_ms: float | None

    @property
    def router_key(self) -> str:
        return router_key(self.interface, self.family, self.vrid)


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeView:
    instances: tuple[InstanceRow, ...]

    def instance(self, name: str) -> InstanceRow | None:
        for i in self.instances:
            if i.name == name:
                return i
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRow:
    time: float
    kind: str
    where: str  # "eth0 vrid 51", "VI_1", or ""
    detail: str
    reason: str = ""  # master changes: RFC 8347's new-master-reason (docs/json.md)
    why: str = ""  # master changes: the evidence, one line
    key: str = ""  # the router's row key, for events about one router
    priority: int | None = None  # the master's priority as of this event, when it says


def router_key(interface: str, family: str, vrid: int, protocol: str = "vrrp") -> str:
    """The row key: interface/family/vrid for VRRP, with the protocol for the others (an
    HSRP group or CARP VHID may share its number with a VRID)."""
    if protocol == "vrrp":
        return f"{interface}/{family}/{vrid}"
    return f"{interface}/{family}/{protocol}/{vrid}"


def _strip_vip(vip: str) -> str:
    """ "192.0.2.100/24 dev eth0" as configured -> "192.0.2.100" as advertised."""
    return vip.split()[0].split("/")[0] if vip else vip


def _first_number(d: Json, keys: tuple[str, ...], default: float) -> float:
    """The first of `keys` present with a number (older documents lack the newer fields)."""
    for key in keys:
        value = d.get(key)
        if isinstance(value, int | float):
            return float(value)
    return default


def _sender(s: Json, version: int, now: float) -> SenderRow:
    """One sender; the RFC figures are VRRP's (other protocols' panes do not show them)."""
    interval_ms = float(s.get("advert_interval_ms", 1000))
    prio = int(s.get("priority", 0))
    cs = max(1, round(interval_ms / 10))
    # A priority 0 sender (releasing) is not a backup candidate: no skew to show.
    bounded = min(max(prio, 0), 255)
    return SenderRow(
        ip=str(s.get("ip", "")),
        mac=str(s.get("mac", "")),
        virtual_mac=bool(s.get("virtual_mac", False)),
        priority=prio,
        adverts=int(s.get("adverts", 0)),
        interval_ms=interval_ms,
        age_s=max(0.0, now - float(s.get("last_seen", now))),
        advertising=bool(s.get("advertising", False)),
        skew_ms=skew_us(version, cs, bounded) / 1000,
        master_down_ms=master_down_us(version, cs, bounded) / 1000,
        state=str(s.get("state", "")),
    )


def _key(r: Json) -> str:
    return router_key(
        str(r.get("interface", "")),
        str(r.get("family", "")),
        int(r.get("vrid", 0)),
        str(r.get("protocol", "vrrp")),
    )


def _router(r: Json, now: float, *, full: bool = True) -> RouterRow:
    """One router; without `full`, only what the table shows (a 255-row table redraws
    several times a second, and the senders, history and intervals are most of the cost)."""
    master = r.get("master") or {}
    version = int(r.get("version", 3))
    key = _key(r)
    history = []
    for h in r.get("history", []) if full else ():
        until = h.get("until")
        end = now if until is None else float(until)
        since = float(h.get("since", now))
        history.append(
            TermRow(
                ip=str(h.get("ip", "")),
                since=since,
                held_s=max(0.0, end - since),
                current=until is None,
                cause=str(h.get("cause", "")),
            )
        )
    last = _first_number(r, ("master_last_advert", "last_seen"), now)
    sb = r.get("standby")
    standby = None
    if isinstance(sb, dict):
        standby = (str(sb.get("ip", "")), str(sb.get("mac", "")), int(sb.get("priority") or 0))
    hold = r.get("hold_ms")
    carp = None
    if r.get("advbase") is not None:
        carp = (int(r["advbase"]), int(r.get("advskew", 0)), int(r.get("demote", 0)))
    return RouterRow(
        near_failovers=int(r.get("near_failovers") or 0),
        protocol=str(r.get("protocol", "vrrp")),
        auth_verifiable=bool(r.get("auth_verifiable", True)),
        standby=standby,
        hold_ms=None if hold is None else float(hold),
        vmac_expected=str(r.get("virtual_mac_expected", "")),
        carp=carp,
        key=key,
        interface=str(r.get("interface", "")),
        family=str(r.get("family", "")),
        vrid=int(r.get("vrid", 0)),
        version=version,
        master_ip=str(master.get("ip", "")),
        master_mac=str(master.get("mac", "")),
        virtual_mac=bool(master.get("virtual_mac", r.get("virtual_mac", False))),
        priority=int(r.get("priority", 0)),
        interval_ms=float(r.get("advert_interval_ms", 1000)),
        vips=tuple(str(v) for v in r.get("vips", [])),
        auth=str(r.get("auth", "none")),
        adverts=int(r.get("adverts", 0)),
        adverts_per_s=float(r.get("adverts_per_s", 0.0)),
        age_s=max(0.0, now - last),
        master_down_ms=float(r.get("master_down_ms", 0.0)),
        stale_after_ms=_first_number(r, ("stale_after_ms", "master_down_ms"), 0.0),
        status=str(r.get("status", "ok")),
        senders=tuple(_sender(s, version, now) for s in r.get("senders", [])) if full else (),
        history=tuple(history),
        intervals_ms=tuple(float(i) for i in r.get("intervals_ms", [])) if full else (),
        mismatches=tuple(str(m) for m in r.get("mismatches", [])),
        split_brain=tuple(str(ip) for ip in (r.get("split_brain") or ())),
    )


def observer_view(doc: Json, *, light: bool = False) -> ObserverView:
    """The view of one DESIGN.md document (`snapshot_to_json`, plus live counters).

    `light`: table rows only; `router(key)` parses the full router on demand."""
    now = float(doc.get("time", 0.0))
    docs = doc.get("routers", [])
    routers = tuple(_router(r, now, full=not light) for r in docs)
    raw = {_key(r): r for r in docs} if light else None
    failovers = tuple(
        FailoverRow(
            key=router_key(
                str(f.get("interface", "")),
                str(f.get("family", "")),
                int(f["vrid"]),
                str(f.get("protocol", "vrrp")),
            ),
            from_ip=str(f.get("from", "")),
            to_ip=str(f.get("to", "")),
            at=float(f.get("new_first_advert", 0.0)),
            gap_ms=float(f.get("gap_ms", 0.0)),
            cause=str(f.get("cause", "")),
            rfc_gap_ms=None if f.get("rfc_gap_ms") is None else float(f["rfc_gap_ms"]),
            reason=str(f.get("reason") or ""),
            why=str(f.get("why") or ""),
        )
        for f in doc.get("failovers", [])
    )
    arp = {
        str(a["ip"]): ArpRow(
            ip=str(a["ip"]),
            mac=str(a.get("mac", "")),
            age_s=max(0.0, now - float(a.get("last_seen", now))),
            gratuitous=bool(a.get("gratuitous", False)),
            owner_changes=int(a.get("owner_changes", 0)),
        )
        for a in doc.get("arp", [])
    }
    c = doc.get("counters") or {}
    rejected = tuple((str(k), int(v)) for k, v in sorted((c.get("rejected") or {}).items()) if v)
    drops = c.get("kernel_drops")
    counters = Counters(
        frames=int(c.get("frames", 0)),
        vrrp=int(c.get("vrrp", 0)),
        arp=int(c.get("arp", 0)),
        rejected=rejected,
        kernel_drops=None if drops is None else int(drops),
        others=tuple((k, int(c[k])) for k in ("carp", "hsrp", "glbp") if c.get(k)),
    )
    return ObserverView(
        time=now, routers=routers, failovers=failovers, arp=arp, counters=counters, raw=raw
    )


def _instance(i: Json) -> InstanceRow:
    trackers = tuple(
        TrackerRow(
            kind=str(t.get("kind", "")),
            name=str(t.get("name", "")),
            ok=bool(t.get("ok", True)),
            contribution=int(t.get("contribution", 0)),
        )
        for t in i.get("trackers", [])
    )
    age = i.get("state_age_s")
    nxt = i.get("next_in_ms")
    override = i.get("override")
    return InstanceRow(
        name=str(i.get("name", "?")),
        interface=str(i.get("interface", "")),
        family=str(i.get("family", "ipv4")),
        vrid=int(i.get("vrid", 0)),
        state=str(i.get("state", "?")),
        state_age_s=None if age is None else float(age),
        state_cause=str(i.get("state_cause", "")),
        primary_ip=str(i.get("primary_ip", "")),
        base_priority=int(i.get("base_priority", 0)),
        override=None if override is None else int(override),
        effective_priority=int(i.get("effective_priority", 0)),
        trackers=trackers,
        vips=tuple(_strip_vip(str(v)) for v in i.get("vips", [])),
        vips_held=bool(i.get("vips_held", False)),
        master_ip=None if i.get("master_ip") is None else str(i["master_ip"]),
        peers=tuple(str(p) for p in i.get("peers", [])),
        hold=bool(i.get("hold", False)),
        paused=bool(i.get("paused", False)),
        faults=tuple(str(f) for f in i.get("faults", [])),
        skew_ms=float(i.get("skew_ms", 0.0)),
        master_down_ms=float(i.get("master_down_ms", 0.0)),
        next_timer=None if i.get("next_timer") is None else str(i["next_timer"]),
        next_in_ms=None if nxt is None else float(nxt),
    )


def node_view(doc: Json) -> NodeView:
    """The view of `node_status_to_json`."""
    return NodeView(instances=tuple(_instance(i) for i in doc.get("instances", [])))


def event_row(e: Json) -> EventRow:
    """One observer event (`event_to_json`) or node event (`node_event_to_json`)."""
    if e.get("instance"):
        where = str(e["instance"])
    else:
        parts = [str(e["interface"])] if e.get("interface") else []
        if e.get("vrid") is not None:
            name = {"hsrp": "group", "carp": "vhid", "glbp": "glbp"}.get(str(e.get("protocol")))
            parts.append(f"{name or 'vrid'} {e['vrid']}")
        where = " ".join(parts)
    return EventRow(
        time=float(e.get("time", 0.0)),
        kind=str(e.get("kind", "?")),
        where=where,
        detail=str(e.get("detail", "")),
        reason=str(e.get("reason") or ""),
        why=str(e.get("why") or ""),
        key=_event_key(e),
        priority=_event_priority(e),
    )


def _event_key(e: Json) -> str:
    vrid = e.get("vrid")
    if e.get("instance") or not e.get("interface") or not isinstance(vrid, int):
        return ""
    return router_key(
        str(e["interface"]), str(e.get("family", "")), vrid, str(e.get("protocol", "vrrp"))
    )


def _event_priority(e: Json) -> int | None:
    """The master's priority after this event: a new router's, a priority change's new
    value, a new master's first, 0 after a release."""
    match e.get("kind"):
        case "new_router":
            value = e.get("priority")
        case "priority_change":
            value = e.get("new")
        case "master_change":
            value = e.get("to_priority")
        case "release":
            value = 0
        case _:
            value = None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None
