"""The JSON contract of DESIGN.md: snapshots and events as plain, json.dumps-able dicts.

Times are float seconds since the epoch, gaps float milliseconds. Fields may be added;
none of DESIGN.md's may be renamed or dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

from hatui.codec.frames import Auth
from hatui.observe.events import (
    REASON_OF_CAUSE,
    CarpSeen,
    Event,
    FieldChange,
    GlbpSeen,
    MasterChange,
    NearFailover,
    RejectedSeen,
    RouterEvent,
    SplitBrain,
    VipEvent,
)
from hatui.observe.model import (
    ArpView,
    CarpView,
    Counters,
    Failover,
    MasterTerm,
    ObserverSnapshot,
    RouterView,
    SenderView,
)
from hatui.types import WallUs, us_to_ms, us_to_s

Json = dict[str, object]


def snapshot_to_json(snap: ObserverSnapshot) -> Json:
    """The document `hatui --read FILE --json` prints."""
    return {
        "time": us_to_s(snap.time),
        "routers": [_router(r) for r in snap.routers],
        "failovers": [_failover(f) for f in snap.failovers],
        "events": [event_to_json(e) for e in snap.events],
        "arp": [_arp(a) for a in snap.arp],
        "carp": [_carp(c) for c in snap.carp],
        "counters": _counters(snap.counters),
    }


def routers_to_json(time: WallUs, routers: Sequence[RouterView]) -> Json:
    """A partial document: `time` and these routers as `snapshot_to_json` writes them (the
    console's news, built for the routers events named instead of for every router)."""
    return {"time": us_to_s(time), "routers": [_router(r) for r in routers]}


def event_to_json(ev: Event) -> Json:
    """One event: a line of `--watch --headless --json` output."""
    out: Json = {
        "time": us_to_s(ev.time),
        "kind": str(ev.kind),
        "interface": ev.interface,
        "family": str(ev.family) if ev.family is not None else None,
        "vrid": ev.vrid,
        "detail": ev.detail,
        "protocol": str(ev.protocol),
    }
    match ev:
        case MasterChange():
            out.update(
                {
                    "from": ev.from_ip,
                    "to": ev.to_ip,
                    "from_mac": ev.from_mac,
                    "to_mac": ev.to_mac,
                    "old_last_advert": us_to_s(ev.old_last_advert),
                    "new_first_advert": us_to_s(ev.new_first_advert),
                    "gap_ms": us_to_ms(ev.gap_us),
                    "cause": str(ev.cause),
                    "reason": str(ev.reason),
                    "why": ev.why or ev.detail,
                    "from_priority": ev.from_priority,
                    "to_priority": ev.to_priority,
                }
                | _rfc(ev.gap_us, ev.rfc_us)
            )
        case NearFailover():
            out.update(
                {
                    "ip": ev.ip,
                    "mac": ev.mac,
                    "priority": ev.priority,
                    "last_advert": us_to_s(ev.last_advert),
                    "silence_ms": us_to_ms(ev.silence_us),
                    "master_down_ms": us_to_ms(ev.master_down_us),
                    "margin_ms": us_to_ms(ev.margin_us),
                }
            )
        case RouterEvent():
            out.update({"ip": ev.ip, "mac": ev.mac, "priority": ev.priority})
        case FieldChange():
            out.update(
                {"field": ev.field, "old": ev.old, "new": ev.new, "ip": ev.ip}
                | ({"other_ip": ev.other_ip} if ev.other_ip is not None else {})
            )
        case SplitBrain():
            out.update({"ips": list(ev.ips), "since": us_to_s(ev.since)})
        case VipEvent():
            out.update(
                {
                    "ip": ev.ip,
                    "mac": ev.mac,
                    "old_mac": ev.old_mac,
                    "expected_mac": ev.expected_mac,
                    "gratuitous": ev.gratuitous,
                }
            )
        case CarpSeen():
            out.update({"vhid": ev.vhid, "ip": ev.ip, "mac": ev.mac})
        case GlbpSeen():
            out.update({"group": ev.group, "ip": ev.ip, "mac": ev.mac})
        case RejectedSeen():
            out.update({"reason": str(ev.reason), "count": ev.count, "ip": ev.ip})
        case _:
            pass
    return out


def _router(r: RouterView) -> Json:
    out = _vrrp_router(r)
    if r.hsrp is not None:
        h = r.hsrp
        sb = None
        if h.standby_ip is not None:
            sb = {"ip": h.standby_ip, "mac": h.standby_mac, "priority": h.standby_priority}
        out["advert_interval_ms"] = h.hello_ms
        out |= {
            "standby": sb,
            "hold_ms": h.hold_ms,
            "state": h.state,
            "virtual_mac_expected": h.vmac,
        }
    if r.carp is not None:
        out |= {"advbase": r.carp.advbase, "advskew": r.carp.advskew, "demote": r.carp.demote}
    return out


def _vrrp_router(r: RouterView) -> Json:
    return {
        "interface": r.interface,
        "family": str(r.family),
        "vrid": r.vrid,
        "protocol": str(r.protocol),
        "version": r.version,
        "master": {"ip": r.master_ip, "mac": r.master_mac, "virtual_mac": r.virtual_mac},
        "priority": r.priority,
        "advert_interval_ms": r.interval_cs * 10,
        "vips": list(r.vips),
        "auth": str(r.auth),
        "auth_type": r.auth_type,
        "auth_verifiable": _verifiable(r.auth),
        "adverts": r.adverts,
        "first_seen": us_to_s(r.first_seen),
        "last_seen": us_to_s(r.last_seen),
        "status": str(r.status),
        "senders": [_sender(s) for s in r.senders],
        "virtual_mac": r.virtual_mac,
        "unicast": r.unicast,
        "dst_ip": r.dst_ip,
        "unicast_peers": list(r.unicast_peers),
        "checksum_form": str(r.checksum_form) if r.checksum_form is not None else None,
        "master_since": us_to_s(r.master_since),
        "master_last_advert": us_to_s(r.master_last_advert),
        "skew_ms": us_to_ms(r.skew_us),
        "master_down_ms": us_to_ms(r.master_down_us),
        "stale_after_ms": us_to_ms(r.stale_after_us),
        "adverts_per_s": r.adverts_per_s,
        "intervals_ms": [us_to_ms(i) for i in r.intervals_us],
        "history": [_term(h) for h in r.history],
        "mismatches": list(r.mismatches),
        "split_brain": list(r.split_brain) if r.split_brain is not None else None,
        "near_failovers": r.near_failovers,
    }


def _verifiable(auth: str) -> bool:
    """Whether an observer can check this auth: none, simple and HSRP's text (the key is
    on the wire) yes; AH, Cisco MD5, HSRP MD5 and CARP's HMAC need the key, and an
    unknown type has no known rule."""
    return auth in (Auth.NONE, Auth.SIMPLE, "text")


def _sender(s: SenderView) -> Json:
    return {
        "ip": s.ip,
        "mac": s.mac,
        "priority": s.priority,
        "adverts": s.adverts,
        "first_seen": us_to_s(s.first_seen),
        "last_seen": us_to_s(s.last_seen),
        "virtual_mac": s.virtual_mac,
        "advert_interval_ms": s.interval_cs * 10,
        "vips": list(s.vips),
        "auth": str(s.auth),
        "auth_type": s.auth_type,
        "version": s.version,
        "advertising": s.advertising,
    } | ({"state": s.state} if s.state else {})


def _term(t: MasterTerm) -> Json:
    return {
        "ip": t.ip,
        "mac": t.mac,
        "since": us_to_s(t.since),
        "until": us_to_s(t.until) if t.until is not None else None,
        "cause": str(t.cause),
        "reason": str(REASON_OF_CAUSE[t.cause]),
    }


def _failover(f: Failover) -> Json:
    return {
        "interface": f.interface,
        "family": str(f.family),
        "vrid": f.vrid,
        "protocol": str(f.protocol),
        "from": f.from_ip,
        "to": f.to_ip,
        "old_last_advert": us_to_s(f.old_last_advert),
        "new_first_advert": us_to_s(f.new_first_advert),
        "gap_ms": us_to_ms(f.gap_us),
        "cause": str(f.cause),
        "reason": str(f.reason),
        "why": f.why,
        "from_priority": f.from_priority,
        "to_priority": f.to_priority,
        "from_mac": f.from_mac,
        "to_mac": f.to_mac,
    } | _rfc(f.gap_us, f.rfc_us)


def _rfc(gap_us: int, rfc_us: int | None) -> Json:
    """The RFC's expected gap beside the measured one (information, never a verdict)."""
    if rfc_us is None:
        return {"rfc_gap_ms": None, "rfc_delta_ms": None}
    return {"rfc_gap_ms": us_to_ms(rfc_us), "rfc_delta_ms": us_to_ms(gap_us - rfc_us)}


def _arp(a: ArpView) -> Json:
    return {
        "ip": a.ip,
        "mac": a.mac,
        "last_seen": us_to_s(a.last_seen),
        "gratuitous": a.gratuitous,
        "interface": a.interface,
        "first_seen": us_to_s(a.first_seen),
        "garps": a.garps,
        "garp_bursts": a.garp_bursts,
        "owner_changes": a.owner_changes,
        "vip": a.vip,
        "virtual_mac": a.virtual_mac,
    }


def _carp(c: CarpView) -> Json:
    return {
        "interface": c.interface,
        "family": str(c.family),
        "vhid": c.vhid,
        "ip": c.ip,
        "mac": c.mac,
        "advbase": c.advbase,
        "advskew": c.advskew,
        "demote": c.demote,
        "adverts": c.adverts,
        "first_seen": us_to_s(c.first_seen),
        "last_seen": us_to_s(c.last_seen),
        "protocol": "carp",
    }


def _counters(c: Counters) -> Json:
    return {
        "frames": c.frames,
        "vrrp": c.vrrp,
        "arp": c.arp,
        "nd": c.nd,
        "carp": c.carp,
        "hsrp": c.hsrp,
        "glbp": c.glbp,
        "rejected": dict(c.rejected),
    }
