"""Observer.vip_claims, the haproxy join's short way to the LAN's VIP holders: wherever it
is asked, it must name the holders the observer's document names (the slow way: the
snapshot, its JSON, `holders_from_docs`), on every protocol and with VIPs claimed twice."""

from __future__ import annotations

from hatui.codec.decode import decode
from hatui.codec.frames import Captured
from hatui.haproxy.join import VipHolder, holders, holders_from_docs
from hatui.observe.observer import Observer
from hatui.observe.report import snapshot_to_json
from hatui.types import WallUs
from tests.observe.factory import VIP, A, B, C, S, advert, at, cap, merge, run, series
from tests.observe.test_fast_paths import _mixed


def both(obs: Observer, now: WallUs) -> tuple[tuple[VipHolder, ...], tuple[VipHolder, ...]]:
    fast = holders(obs.vip_claims(now))
    slow = holders_from_docs(None, snapshot_to_json(obs.snapshot(now))["routers"])
    return fast, slow


def test_every_protocol_at_every_step_of_a_mixed_capture() -> None:
    """VRRP, HSRP and CARP routers coming and changing masters: the same holders at every
    tenth frame and at the end."""
    obs, checked = Observer(), 0
    frames = _mixed()
    for i, (t, data) in enumerate(frames):
        frame = decode(data)
        if frame is not None:
            obs.feed(Captured(time=WallUs(t), interface="eth0", frame=frame))
        if i % 10 == 0 or i == len(frames) - 1:
            fast, slow = both(obs, WallUs(t))
            assert fast == slow, i
            checked += bool(fast)
    protocols = {h.protocol for h in both(obs, WallUs(frames[-1][0]))[0]}
    assert protocols == {"vrrp", "hsrp", "carp"} and checked > 10


def test_a_vip_claimed_twice_is_held_by_the_router_the_document_lists_first() -> None:
    """VRID 60 and VRID 7 both claim VIP (a misconfiguration): the document lists VRID 7
    first, and so does the short way; then VRID 7's master changes, and both follow."""
    obs = Observer()
    run(
        obs,
        merge(
            series(0, 5, S, advert(A, vrid=60, vips=(VIP, "192.0.2.160"))),
            series(S // 2, 3, S, advert(B, vrid=7, vips=(VIP,))),
        ),
    )
    fast, slow = both(obs, at(5 * S))
    assert fast == slow
    assert fast[0] == VipHolder(vip=VIP, master=B, vrid=7)
    assert fast[1] == VipHolder(vip="192.0.2.160", master=A, vrid=60)
    run(obs, [cap(6 * S, advert(C, vrid=7, priority=200, vips=(VIP,)))])
    fast, slow = both(obs, at(6 * S))
    assert fast == slow and fast[0].master == C
