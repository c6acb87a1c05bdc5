"""ARP/ND ownership of VIPs, independent VRIDs, unicast, CARP and rejected frames."""

from __future__ import annotations

from hatui.codec.frames import Family, RejectReason, VrrpAdvert
from hatui.observe.events import CarpSeen, RejectedSeen, VipEvent
from hatui.observe.model import Status
from hatui.observe.observer import Observer

from .factory import (
    MS,
    VIP,
    A,
    B,
    S,
    advert,
    arp,
    at,
    cap,
    carp,
    kinds,
    mac_of,
    merge,
    na,
    rejected,
    run,
    series,
)

VMAC = "00:00:5e:00:01:33"  # VRID 51


def test_vip_answered_by_foreign_mac_reported_once() -> None:
    obs = Observer()
    rogue = "02:00:00:00:00:66"
    items = merge(
        series(0, 20, S, advert(A)),
        [cap(2 * S + 100, arp(VIP, mac_of(A)))],  # the master answers: fine
        [cap(3 * S + 100, arp(VIP, VMAC))],  # the virtual MAC: fine too (owner change)
        [cap(5 * S + 100, arp(VIP, rogue)), cap(6 * S + 100, arp(VIP, rogue))],
    )
    events = run(obs, items)
    assert kinds(events) == [
        ("new_router", 0),
        ("arp_owner_change", 3 * S + 100),
        ("arp_owner_change", 5 * S + 100),
        ("vip_foreign_mac", 5 * S + 100),
    ]
    foreign = events[-1]
    assert isinstance(foreign, VipEvent)
    assert (foreign.ip, foreign.mac, foreign.expected_mac, foreign.vrid) == (
        VIP,
        rogue,
        mac_of(A),
        51,
    )
    (entry,) = [a for a in obs.snapshot(at(19 * S)).arp if a.ip == VIP]
    assert (entry.mac, entry.vip, entry.owner_changes) == (rogue, True, 2)


def test_failover_moves_arp_ownership_without_foreign_alarm() -> None:
    obs = Observer()
    takeover = 10 * S + 3_609_575
    items = merge(
        series(0, 11, S, advert(A)),
        series(takeover, 10, S, advert(B, priority=100)),
        [cap(5 * S, arp(VIP, mac_of(A)))],
        series(takeover + 50, 5, 0, arp(VIP, mac_of(B), gratuitous=True)),
    )
    events = run(obs, items)
    assert kinds(events) == [
        ("new_router", 0),
        ("master_change", takeover),
        ("arp_owner_change", takeover + 50),
    ]
    (entry,) = obs.snapshot(at(takeover + 9 * S)).arp
    assert (entry.mac, entry.garps, entry.garp_bursts) == (mac_of(B), 5, 1)


def test_garp_bursts_counted() -> None:
    obs = Observer()
    # keepalived: 5 GARPs at the transition, 5 more after 5 s; then 5 from another MAC.
    items = merge(
        series(0, 20, S, advert(A)),
        series(100, 5, 10 * MS, arp(VIP, mac_of(A), gratuitous=True)),
        series(5 * S + 100, 5, 10 * MS, arp(VIP, mac_of(A), gratuitous=True)),
        [cap(8 * S, arp(VIP, mac_of(A)))],  # an ordinary reply in between
        series(12 * S + 100, 5, 300 * MS, arp(VIP, mac_of(A), gratuitous=True)),
    )
    run(obs, items)
    (entry,) = obs.snapshot(at(19 * S)).arp
    assert (entry.garps, entry.garp_bursts, entry.gratuitous) == (15, 3, True)
    assert obs.snapshot(at(19 * S)).counters.arp == 16


def test_ipv6_unsolicited_na_is_ipv6_garp() -> None:
    obs = Observer()
    vip6 = "2001:db8::100"
    a6 = "fe80::11"
    items = [
        *series(0, 3, S, advert(a6, version=3, family=Family.IPV6, vips=(vip6,), mac=mac_of(A))),
        cap(3 * S, na(vip6, mac_of(A))),
        cap(4 * S, na(vip6, "02:00:00:00:00:77", solicited=True)),
    ]
    events = run(obs, items)
    assert [str(e.kind) for e in events] == ["new_router", "arp_owner_change", "vip_foreign_mac"]
    (entry,) = obs.snapshot(at(4 * S)).arp
    assert (entry.garps, entry.gratuitous) == (1, False)
    assert obs.snapshot(at(4 * S)).counters.nd == 2


def test_arp_for_non_vips_bounded() -> None:
    obs = Observer(arp_limit=8)
    run(obs, [cap(i, arp(f"198.51.100.{i % 250}", mac_of(A))) for i in range(1000)])
    assert obs.arp_entries == 8
    # A VIP entry is not pushed out by chatter.
    run(obs, [cap(2000, advert(A)), cap(2001, arp(VIP, mac_of(A)))])
    run(obs, [cap(3000 + i, arp(f"198.51.100.{i}", mac_of(B))) for i in range(50)])
    assert any(a.ip == VIP and a.vip for a in obs.snapshot(at(4000)).arp)


def test_two_vrids_are_independent() -> None:
    obs = Observer()
    items = merge(
        series(0, 15, S, advert(A, vrid=51)),
        series(300 * MS, 5, S, advert(B, vrid=52, priority=100, vips=("192.0.2.101",))),
        series(4 * S + 300 * MS + 3_609_575, 5, S, advert(A, vrid=52, vips=("192.0.2.101",))),
    )
    events = run(obs, items)
    assert [(str(e.kind), e.vrid) for e in events] == [
        ("new_router", 51),
        ("new_router", 52),
        ("master_change", 52),
    ]
    snap = obs.snapshot(at(14 * S))
    assert [(r.vrid, r.master_ip, r.status) for r in snap.routers] == [
        (51, A, Status.OK),
        (52, A, Status.OK),
    ]


def test_unicast_adverts() -> None:
    obs = Observer()
    run(obs, series(0, 5, S, advert(A, dst=B)))
    r = obs.snapshot(at(4 * S)).routers[0]
    assert r.unicast and r.dst_ip == B


def test_virtual_mac_master() -> None:
    obs = Observer()
    run(obs, series(0, 3, S, advert(A, mac=VMAC)))
    run(obs, [cap(3 * S, arp(VIP, VMAC, gratuitous=True))])
    snap = obs.snapshot(at(3 * S))
    assert snap.routers[0].virtual_mac and snap.arp[0].virtual_mac
    assert [str(e.kind) for e in snap.events] == ["new_router"]


def test_carp_labelled_and_never_vrrp() -> None:
    obs = Observer()
    events = run(obs, series(0, 5, S, carp(vhid=7)))
    assert [e.kind for e in events] == ["carp_seen", "new_router"]
    assert isinstance(events[0], CarpSeen) and "not VRRP" in events[0].detail
    assert all(e.protocol == "carp" for e in events)
    snap = obs.snapshot(at(4 * S))
    assert [(r.protocol, r.vrid) for r in snap.routers] == [("carp", 7)]  # a CARP row, not VRRP
    assert (snap.counters.carp, snap.counters.vrrp, snap.counters.frames) == (5, 0, 5)
    assert [(c.vhid, c.adverts) for c in snap.carp] == [(7, 5)]


def test_rejected_counted_by_reason_events_rate_limited() -> None:
    obs = Observer()
    items = [
        *series(0, 30, S, rejected(RejectReason.TTL)),  # one every second for 30 s
        cap(31 * S, rejected(RejectReason.CHECKSUM)),
    ]
    events = run(obs, items)
    assert kinds(events) == [
        ("rejected", 0),
        ("rejected", 10 * S),
        ("rejected", 20 * S),
        ("rejected", 31 * S),
    ]
    assert isinstance(events[1], RejectedSeen) and events[1].count == 11
    counters = obs.snapshot(at(31 * S)).counters
    assert counters.rejected["ttl"] == 30 and counters.rejected["checksum"] == 1
    assert set(counters.rejected) == {r.value for r in RejectReason}
    assert counters.frames == 31


def test_unicast_copy_per_peer_is_one_advert() -> None:
    """keepalived sends each advert once per unicast peer; the observer counts it once."""
    obs = Observer()
    items = merge(
        series(0, 11, S, advert(A, dst=B)),
        series(20, 11, S, advert(A, dst="192.0.2.13")),
    )
    events = run(obs, items)
    assert kinds(events) == [("new_router", 0)]
    r = obs.snapshot(at(10 * S + 20)).routers[0]
    assert r.adverts == 11 and r.adverts_per_s == 1.0
    assert set(r.intervals_us) == {S}
    assert r.unicast_peers == (B, "192.0.2.13")


def test_owner_change_names_the_mac_that_answered_before() -> None:
    """The frames fed are the oracle: A's MAC answered, then B's GARPs, then a rogue."""
    obs = Observer()
    takeover = 10 * S + 3_609_575
    rogue = "02:00:00:00:00:66"
    items = merge(
        series(0, 11, S, advert(A)),
        series(takeover, 5, S, advert(B, priority=100)),
        [cap(5 * S, arp(VIP, mac_of(A)))],
        [cap(takeover + 50, arp(VIP, mac_of(B), gratuitous=True))],
        [cap(takeover + 2 * S + 50, arp(VIP, rogue))],
    )
    changes = [e for e in run(obs, items) if isinstance(e, VipEvent)]
    assert [(str(e.kind), e.mac, e.old_mac, e.gratuitous) for e in changes] == [
        ("arp_owner_change", mac_of(B), mac_of(A), True),
        ("arp_owner_change", rogue, mac_of(B), False),
        ("vip_foreign_mac", rogue, mac_of(B), False),
    ]
    assert "(was " + mac_of(A) in changes[0].detail


def test_ipv6_owner_change_names_the_mac_that_answered_before() -> None:
    obs = Observer()
    vip6 = "2001:db8::100"

    def v6(src: str, priority: int, mac: str) -> VrrpAdvert:
        return advert(
            src,
            priority=priority,
            version=3,
            family=Family.IPV6,
            vips=(vip6,),
            interval_cs=10,
            mac=mac,
        )

    takeover = 1 * S + 360_937  # v3 at 0.1 s, priority 100: 3 * 0.1 s + Skew_Time
    items = merge(
        series(0, 11, 100 * MS, v6("fe80::11", 150, mac_of(A))),
        series(takeover, 5, 100 * MS, v6("fe80::12", 100, mac_of(B))),
        [cap(500 * MS, na(vip6, mac_of(A)))],
        [cap(takeover + 50, na(vip6, mac_of(B)))],
    )
    changes = [e for e in run(obs, items) if isinstance(e, VipEvent)]
    assert [(str(e.kind), e.mac, e.old_mac) for e in changes] == [
        ("arp_owner_change", mac_of(B), mac_of(A))
    ]


def test_garps_from_another_mac_within_a_second_are_another_burst() -> None:
    # A fast failover: A's GARPs, then B's 200 ms later. Two MACs, two bursts, although no
    # second passed between them (a burst is one MAC's GARPs < 1 s apart).
    obs = Observer()
    items = merge(
        series(0, 10, S, advert(A)),
        series(100, 3, 10 * MS, arp(VIP, mac_of(A), gratuitous=True)),
        series(200 * MS, 3, 10 * MS, arp(VIP, mac_of(B), gratuitous=True)),
    )
    run(obs, items)
    (entry,) = obs.snapshot(at(9 * S)).arp
    assert (entry.mac, entry.garps, entry.garp_bursts, entry.owner_changes) == (
        mac_of(B),
        6,
        2,
        1,
    )


def test_unicast_reassertion_within_an_interval_is_a_new_advert() -> None:
    # RFC 9568 6.4.3: a master hearing a lower priority advertises at once. Over unicast
    # it sends one copy per peer; the capture missed the copy to B, and the copy to C 0.7 s
    # after the periodic pair is a new advert, not another copy of that pair.
    obs = Observer()
    c = "192.0.2.13"
    items = merge(
        series(0, 5, S, advert(A, dst=B)),
        series(20, 5, S, advert(A, dst=c)),
        [cap(2 * S + 700 * MS + 20, advert(A, dst=c))],
    )
    run(obs, items)
    r = obs.snapshot(at(4 * S + 20)).routers[0]
    (sender,) = r.senders
    assert (r.adverts, sender.adverts) == (6, 6)  # five periodic ones and the reassertion
