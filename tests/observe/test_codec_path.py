"""Bytes through the real codec into the observer: the path a pcap replay takes."""

from __future__ import annotations

from hatui.codec.build import build_garp_frame, build_vrrp_frame
from hatui.codec.decode import decode
from hatui.codec.frames import Captured, Rejected
from hatui.observe.events import Cause, MasterChange
from hatui.observe.observer import Observer

from .factory import VIP, A, B, S, at, kinds, mac_of

DOWN_100 = 3 * S + (256 - 100) * S // 256


def _item(us: int, data: bytes) -> Captured:
    frame = decode(data)
    assert frame is not None
    return Captured(time=at(us), interface="eth0", frame=frame)


def test_decoded_kill_failover_and_garp() -> None:
    def adv(src: str, prio: int, ident: int, ttl: int = 255) -> bytes:
        return build_vrrp_frame(
            src_mac=mac_of(src), src_ip=src, vrid=51, priority=prio, addresses=[VIP],
            version=2, ident=ident, ttl=ttl,
        )  # fmt: skip

    takeover = 10 * S + DOWN_100 + 200
    items = [_item(i * S, adv(A, 150, i)) for i in range(11)]
    items.append(_item(10 * S + 5, adv(A, 150, 99, ttl=64)))  # relayed copy: RFC TTL check
    items += [_item(takeover + i * S, adv(B, 100, i)) for i in range(3)]
    items.append(_item(takeover + 100, build_garp_frame(mac=mac_of(B), ip=VIP)))
    obs = Observer()
    events = [e for item in items for e in obs.feed(item)]
    assert isinstance(items[11].frame, Rejected)
    assert kinds(events) == [
        ("new_router", 0),
        ("rejected", 10 * S + 5),
        ("master_change", takeover),
    ]
    mc = events[-1]
    assert isinstance(mc, MasterChange)
    assert (mc.cause, mc.gap_us) == (Cause.TIMEOUT, 3_609_575)
    snap = obs.snapshot(at(takeover + 2 * S))
    assert snap.counters.rejected["ttl"] == 1 and snap.counters.vrrp == 14
    (entry,) = snap.arp
    assert (entry.ip, entry.mac, entry.gratuitous, entry.garp_bursts) == (VIP, mac_of(B), True, 1)
