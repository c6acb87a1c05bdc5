"""The router's own receive checks: keepalived's check_unicast_src."""

from __future__ import annotations

from hatui.codec.build import build_vrrp_frame, encode_vrrp
from hatui.codec.decode import decode
from hatui.codec.frames import Auth, Family, VrrpAdvert
from hatui.types import MonoUs
from hatui.vrrp.actions import Discard, DiscardReason
from hatui.vrrp.inputs import AdvertReceived
from hatui.vrrp.receive import MAX_LOGGED_SENDERS, MismatchLog, check, ip_key
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


def _decoded(**kw: object) -> VrrpAdvert:
    """An advert as the codec hands it to the node: real bytes through `decode`."""
    args: dict[str, object] = {
        "version": 2,
        "vrid": 51,
        "priority": 200,
        "interval_cs": 100,
        "addresses": ["192.0.2.100"],
        "family": Family.IPV4,
        "src_ip": PEER,
        "dst_ip": "224.0.0.18",
    }
    args.update(kw)
    msg = encode_vrrp(**args)  # type: ignore[arg-type]
    frame = build_vrrp_frame(
        src_mac="02:00:00:00:00:12", src_ip=PEER, vrid=51, addresses=[], version=2, vrrp=msg
    )
    got = decode(frame)
    assert isinstance(got, VrrpAdvert), got
    return got


def test_node_discards_what_the_observer_shows() -> None:
    """The codec lets Cisco MD5, unknown auth types and v2 trailers through for the
    observer; the node's receive path keeps RFC 3768 7.1's rules and drops them."""
    s = spec(version=2, vrid=51)
    assert check(s, ME, _decoded()) is None
    md5 = _decoded(auth=Auth.CISCO_MD5, trailer=bytes(28))
    assert md5.auth is Auth.CISCO_MD5 and md5.trailer_len == 28
    got = check(s, ME, md5)
    assert got is not None and got.reason is DiscardReason.LENGTH
    assert check(s, ME, _decoded(auth=Auth.CISCO_MD5)) == Discard(
        reason=DiscardReason.AUTH, detail=f"cisco-md5 authentication, ours none from {PEER}"
    )
    assert check(s, ME, _decoded(auth_type=9)) == Discard(
        reason=DiscardReason.AUTH, detail=f"auth type 9 authentication, ours none from {PEER}"
    )
    simple = spec(version=2, vrid=51, auth_pass="secret")
    got = check(simple, ME, _decoded(auth_type=9))
    assert got is not None and got.reason is DiscardReason.AUTH
    trailer = _decoded(trailer=bytes(4))
    assert check(s, ME, trailer) == Discard(
        reason=DiscardReason.LENGTH, detail=f"4 bytes after the auth data from {PEER}"
    )


def test_ip_key_orders_addresses_as_numbers_and_garbage_never_raises() -> None:
    # RFC 5798 6.4.3 compares primary addresses as unsigned integers: 192.0.2.12 is
    # 0xC000020C, and .9 is below .12 although "9" sorts after "12" as text.
    assert ip_key("192.0.2.12") == 0xC000020C
    assert ip_key("192.0.2.9") < ip_key("192.0.2.12")
    assert ip_key("2001:db8::1") == (0x20010DB8 << 96) + 1
    assert ip_key("not an address") == -1


def test_mismatches_are_new_once_per_sender_until_they_change() -> None:
    s = spec(version=3, advert_int_us=1_000_000)
    log = MismatchLog()
    slow = advert(version=3, interval_cs=200)
    (line,) = log.new(s, slow, check_addresses=True)
    assert line.startswith(f"advert interval 2 s from {PEER}")
    assert log.new(s, slow, check_addresses=True) == ()
    assert log.new(s, advert(version=3, interval_cs=100), check_addresses=True) == ()
    assert log.new(s, slow, check_addresses=True) == (line,)  # it changed back


def test_mismatch_log_forgets_every_sender_past_its_bound() -> None:
    s = spec(version=3, advert_int_us=1_000_000)
    log = MismatchLog()
    slow = advert(version=3, interval_cs=200)
    assert log.new(s, slow, check_addresses=True)
    for i in range(MAX_LOGGED_SENDERS - 1):  # 255 more senders, in 198.51.100.0/24
        other = advert(src=f"198.51.100.{i}", version=3, interval_cs=200)
        assert log.new(s, other, check_addresses=True)
    assert log.new(s, slow, check_addresses=True) == ()  # still remembered: at the bound
    assert log.new(s, advert(src="192.0.2.250", version=3, interval_cs=200), check_addresses=True)
    assert log.new(s, slow, check_addresses=True)  # forgotten with the rest
