"""Config mismatches between the senders of one VRID, each reported once."""

from __future__ import annotations

from hatui.codec.frames import Protocol
from hatui.observe.events import Event, EventKind, FieldChange
from hatui.observe.rules import auth_text, ms_text, vips_text
from hatui.observe.state import RouterState, SenderState
from hatui.types import WallUs

_REPORTED_CAP = 64  # distinct mismatches remembered per router, to report each once


def _config(s: SenderState) -> dict[str, str]:
    """The fields every sender of one VRID must agree on (RFC 5798 7.1, RFC 3768 7.1)."""
    return {
        "version": str(s.version),
        "auth": auth_text(s.auth, s.auth_data, s.auth_type),
        "advert_interval": ms_text(s.interval_cs),
        "vips": vips_text(s.vips),
    }


def check_config(r: RouterState, t: int, ev: list[Event]) -> None:
    """Compare every sender's last config with the master's (RFC 5798 7.1: all routers
    of a VRID must agree). Backups are silent, so their last advert is the best word."""
    m = r.master
    mine = _config(m)
    if r.protocol is Protocol.CARP:
        # CARP elects by interval (advbase + advskew/256 s): senders differ on purpose.
        del mine["advert_interval"]
    active: list[str] = []
    for o in r.senders.values():
        if o is m:
            continue
        theirs = _config(o)
        for name, value in mine.items():
            if theirs[name] != value:
                active.append(f"{name}: {m.ip} {value} vs {o.ip} {theirs[name]}")
                report_mismatch(r, t, ev, name, m.ip, value, theirs[name], o.ip)
    r.mismatches = tuple(active)


def report_mismatch(
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
        detail = f"{r.label}: {ip} changed {name}: {a} -> {b}"
    else:
        x, y = sorted(((ip, a), (other, b)))
        key = ("pair", name, *x, *y)
        detail = f"{r.label}: {name} differs: {ip} sends {a}, {other} sends {b}"
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
            protocol=r.protocol,
            field=name,
            old=a,
            new=b,
            ip=ip,
            other_ip=other,
            detail=detail,
        )
    )
