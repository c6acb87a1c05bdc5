"""Immutable views of the mutable router records, as of a given instant."""

from __future__ import annotations

from collections import deque

from hatui.codec.frames import is_virtual_mac
from hatui.observe.model import Failover, MasterTerm, RouterView, Status
from hatui.observe.rules import (
    RATE_WINDOW_US,
    is_unicast,
    master_down_us,
    skew_us,
    stale_after_us,
)
from hatui.observe.state import FailoverRecord, RouterState
from hatui.types import US_PER_S, WallUs


def failover_view(f: FailoverRecord) -> Failover:
    """A failover record frozen as it stands now."""
    return Failover(
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
        rfc_us=f.rfc_us,
        protocol=f.protocol,
        why=f.why,
        from_priority=f.from_priority,
        to_priority=f.to_priority,
    )


def _rate(stamps: deque[int], now: int) -> float:
    """Adverts per second over the window ending at `now`. The stamps are in time order,
    so only the ends are walked: a snapshot of 255 routers must not scan every stamp."""
    lo, hi, low = 0, len(stamps), now - RATE_WINDOW_US
    while lo < hi and stamps[lo] <= low:
        lo += 1
    while hi > lo and stamps[hi - 1] > now:
        hi -= 1
    count = hi - lo
    span = stamps[hi - 1] - stamps[lo] if count >= 2 else 0
    return (count - 1) * US_PER_S / span if span > 0 else 0.0


def router_view(r: RouterState, now: int) -> RouterView:
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
    rate = _rate(r.rate, now)
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
        auth_type=m.auth_type,
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
        protocol=r.protocol,
        near_failovers=r.near,
    )
