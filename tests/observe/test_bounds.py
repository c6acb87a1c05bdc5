"""Memory stays flat: 200k frames of churn keep every history within its limit."""

from __future__ import annotations

from hatui.codec.frames import RejectReason
from hatui.observe.observer import Observer

from .factory import MS, S, advert, arp, at, cap, mac_of, rejected


def test_histories_bounded_over_200k_frames_of_churn() -> None:
    obs = Observer(event_limit=100, history_limit=8, sender_limit=4, arp_limit=32)
    t = 0
    n = 0
    senders = [f"192.0.2.{i}" for i in range(10, 40)]
    # Churn: every 50 adverts the master of each of 3 VRIDs changes hands (a kill
    # failover), VIP lists rotate, ARP chatter for ever-new hosts, some rejects.
    while n < 200_000:
        epoch = n // 150
        for vrid in (1, 2, 3):
            src = senders[(epoch + vrid) % len(senders)]
            vips = (f"198.51.100.{(epoch + vrid) % 200}",)
            obs.feed(cap(t, advert(src, vrid=vrid, priority=100, vips=vips)))
            n += 1
        if n % 7 == 0:
            obs.feed(cap(t, arp(f"203.0.113.{n % 250}", mac_of(senders[n % 30]))))
            n += 1
        if n % 11 == 0:
            obs.feed(cap(t, rejected(RejectReason.CHECKSUM)))
            n += 1
        # Each epoch ends with 5 s of silence: the next sender takes over by timeout.
        t += 5 * S if n % 150 < 3 else 100 * MS
    snap = obs.snapshot(at(t))
    assert snap.counters.frames == n >= 200_000
    assert len(snap.events) == 100 and len(snap.failovers) == 100  # full, not grown
    assert obs.router_count == 3
    for r in snap.routers:
        assert len(r.history) <= 8 + 1  # closed terms plus the current one
        assert len(r.intervals_us) <= 8
        assert len(r.senders) <= 4
    assert obs.arp_entries <= 32 + 3
    assert sum(1 for e in snap.events if e.kind == "master_change") > 0
