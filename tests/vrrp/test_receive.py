"""The router's own receive checks: keepalived's check_unicast_src."""

from __future__ import annotations

from hatui.codec.frames import Family
from hatui.types import MonoUs
from hatui.vrrp.actions import Discard, DiscardReason
from hatui.vrrp.inputs import AdvertReceived
from hatui.vrrp.receive import check
from hatui.vrrp.spec import Vip

from .factory import ME, PEER, advert, backup, spec


def test_check_unicast_src_drops_a_source_that_is_not_a_peer() -> None:
    s = spec(unicast_peers=(PEER,), check_unicast_src=True)
    assert check(s, ME, advert(src=PEER)) is None
    assert check(s, ME, advert(src="192.0.2.66")) == Discard(
        reason=DiscardReason.UNICAST_SRC, detail="advert from 192.0.2.66, not a unicast peer"
    )


def test_unicast_src_is_not_checked_unless_asked_or_without_peers() -> None:
    assert check(spec(unicast_peers=(PEER,)), ME, advert(src="192.0.2.66")) is None
    assert check(spec(check_unicast_src=True), ME, advert(src="192.0.2.66")) is None


def test_peer_addresses_compare_in_canonical_form() -> None:
    v6 = spec(
        vips=(Vip(address="2001:db8::100", prefixlen=64),),
        version=3,
        unicast_peers=("2001:DB8:0::12",),
        check_unicast_src=True,
    )
    ok = advert(src="2001:db8::12", version=3, family=Family.IPV6, dst_ip="ff02::12")
    assert check(v6, "2001:db8::11", ok) is None
    stranger = advert(src="2001:db8::13", version=3, family=Family.IPV6, dst_ip="ff02::12")
    dropped = check(v6, "2001:db8::11", stranger)
    assert dropped is not None and dropped.reason is DiscardReason.UNICAST_SRC


def test_router_discards_a_stranger_and_keeps_its_timer() -> None:
    r = backup(spec(unicast_peers=(PEER,), check_unicast_src=True))
    before = r.deadline()
    out = r.handle(AdvertReceived(advert=advert(src="192.0.2.66", priority=200)), MonoUs(10))
    assert [a.reason for a in out if isinstance(a, Discard)] == [DiscardReason.UNICAST_SRC]
    assert r.deadline() == before
