"""VRRP timing and election rules as the observer applies them, in integer microseconds."""

from __future__ import annotations

import hashlib
import ipaddress

from hatui.codec.frames import Auth
from hatui.observe.events import Cause
from hatui.types import US_PER_CS, US_PER_S

# A sender still "advertises" while its last advert is at most 1.5 intervals old: one
# interval plus room for scheduling jitter, short of a lost advert.
ACTIVE_NUM, ACTIVE_DEN = 3, 2
# Adverts per second are measured over this sliding window.
RATE_WINDOW_US = 10 * US_PER_S
# GARPs for one VIP from one MAC closer than this belong to one burst.
GARP_BURST_GAP_US = US_PER_S
# A rejected event per reason at most this often (the counters count every frame).
REJECT_EVENT_EVERY_US = 10 * US_PER_S

MULTICAST_GROUPS = frozenset({"224.0.0.18", "ff02::12"})

OWNER_PRIORITY = 255  # RFC 5798 6.1: the address owner


def interval_us(interval_cs: int) -> int:
    """The advert interval carried in centiseconds, as microseconds."""
    return interval_cs * US_PER_CS


def skew_us(version: int, interval_cs: int, priority: int) -> int:
    """Skew_Time: RFC 5798 6.1 for v3 ((256 - prio) * interval / 256); RFC 3768 6.1 for v2
    ((256 - prio) / 256 s, whatever the interval)."""
    if version == 2:
        return (256 - priority) * US_PER_S // 256
    return (256 - priority) * interval_us(interval_cs) // 256


def master_down_us(version: int, interval_cs: int, priority: int) -> int:
    """Master_Down_Interval = 3 * interval + Skew_Time (RFC 5798 6.1, RFC 3768 6.1)."""
    return 3 * interval_us(interval_cs) + skew_us(version, interval_cs, priority)


def stale_after_us(version: int, interval_cs: int) -> int:
    """Silence after which no legitimate backup would still be waiting: the
    Master_Down_Interval of the lowest backup priority (1). It flags the master stale, a
    status only: mastership moves when the wire shows another sender taking over."""
    return master_down_us(version, interval_cs, 1)


def rfc_note(cause: Cause, gap_us: int, rfc_us: int | None, wait: str | None = None) -> str:
    """The RFC's expected wait beside a measured gap, as information: it never decides
    who is master ("; took over 9.4 ms before the RFC Master_Down_Interval"). `wait`
    names it for other protocols (HSRP's hold time, CARP's three intervals)."""
    if rfc_us is None:
        return ""
    what = wait or ("RFC Skew_Time" if cause is Cause.RELEASE else "RFC Master_Down_Interval")
    delta = gap_us - rfc_us
    if abs(delta) < 50:  # under 0.05 ms: on time, as far as a capture stamp can tell
        return f"; on the {what}"
    side = "before" if delta < 0 else "after"
    return f"; took over {abs(delta) / 1000:.1f} ms {side} the {what}"


def near_after_us(interval_cs: int) -> int:
    """The gap between a master's adverts that is a near failover: two adverts missed
    in a row (three intervals), less half an interval for jitter."""
    return interval_us(interval_cs) * 5 // 2


def active_us(interval_cs: int) -> int:
    """How long after its last advert a sender still counts as advertising."""
    return interval_us(interval_cs) * ACTIVE_NUM // ACTIVE_DEN


def ip_rank(ip: str) -> int:
    """The primary address as a number, for the election tie-break (RFC 5798 6.4.3)."""
    try:
        return int(ipaddress.ip_address(ip))
    except ValueError:
        return -1


def is_unicast(dst_ip: str) -> bool:
    """Adverts not sent to the VRRP group were sent to a unicast peer."""
    return dst_ip not in MULTICAST_GROUPS


def auth_text(auth: Auth, auth_data: bytes, auth_type: int = 0) -> str:
    """Auth for display and mismatch detail; the password only as a short fingerprint,
    an unknown type by its number (so senders that differ are flagged)."""
    if auth is Auth.SIMPLE:
        digest = hashlib.blake2s(auth_data, digest_size=3).hexdigest()
        return f"simple(pw#{digest})"
    if auth is Auth.UNKNOWN:
        return f"type {auth_type}"
    return str(auth)


def ms_text(interval_cs: int) -> str:
    """An interval in centiseconds as milliseconds text, for details."""
    return f"{interval_cs * 10} ms"


def vips_text(vips: tuple[str, ...]) -> str:
    return ",".join(vips) if vips else "-"
