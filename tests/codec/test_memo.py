"""The decoder's memo: every receive check holds on the cache-hit path as on the miss.

A LAN repeats the same adverts, so `decode` memoises results per frame content; for IPv4
the key leaves out the identification and header checksum. Each bad frame is decoded
three ways: cold (memo cleared), warm on itself (a second copy with another
identification hits the memo), and warm on the good frame it was made from (the good
frame's memo entry must not answer for it). The header checksum is the one check left
to the hit path alone: a frame differing from a memoised good one only there has the
same key.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hatui.codec.build import build_vrrp_frame, encode_vrrp
from hatui.codec.checksum import internet_checksum
from hatui.codec.decode import clear_cache, decode
from hatui.codec.frames import ChecksumForm, Family, Rejected, RejectReason, VrrpAdvert

MAC = "02:00:00:00:00:11"
SRC4, SRC6 = "192.0.2.11", "fe80::11"
VIP4, VIP6 = "192.0.2.100", "2001:db8::100"

Builder = Callable[[int, int | None], bytes]  # (identification, vlan) -> frame


def _msg(family: Family = Family.IPV4, **kw: object) -> bytes:
    v6 = family is Family.IPV6
    args: dict[str, object] = {
        "version": 3 if v6 else 2,
        "vrid": 51,
        "priority": 100,
        "interval_cs": 100,
        "addresses": [VIP6 if v6 else VIP4],
        "family": family,
        "src_ip": SRC6 if v6 else SRC4,
        "dst_ip": "ff02::12" if v6 else "224.0.0.18",
    }
    args.update(kw)
    return encode_vrrp(**args)  # type: ignore[arg-type]


def _plain(msg: bytes) -> bytes:
    """The message-only checksum (v2's form; RFC 9568's reading of v3 over IPv4)."""
    zeroed = msg[:6] + b"\x00\x00" + msg[8:]
    return msg[:6] + internet_checksum(zeroed).to_bytes(2, "big") + msg[8:]


def _frame(
    msg: bytes, ident: int, vlan: int | None, *, family: Family = Family.IPV4, ttl: int = 255
) -> bytes:
    src = SRC6 if family is Family.IPV6 else SRC4
    return build_vrrp_frame(
        src_mac=MAC,
        src_ip=src,
        vrid=51,
        addresses=[],
        family=family,
        vrrp=msg,
        ttl=ttl,
        ident=ident,
        vlan=vlan,
    )


def _good(ident: int, vlan: int | None) -> bytes:
    return _frame(_msg(), ident, vlan)


def _ip_off(vlan: int | None) -> int:
    return 14 if vlan is None else 18


def _bad_header_checksum(ident: int, vlan: int | None) -> bytes:
    frame = bytearray(_good(ident, vlan))
    frame[_ip_off(vlan) + 10] ^= 0x5A
    return bytes(frame)


def _fragment(ident: int, vlan: int | None) -> bytes:
    frame = bytearray(_good(ident, vlan))
    off = _ip_off(vlan)
    frame[off + 6] |= 0x20  # MF
    head = frame[off : off + 10] + b"\x00\x00" + frame[off + 12 : off + 20]
    frame[off + 10 : off + 12] = internet_checksum(bytes(head)).to_bytes(2, "big")
    return bytes(frame)


_BAD_V2_CHECKSUM = _msg()[:6] + bytes((_msg()[6] ^ 1, _msg()[7])) + _msg()[8:]

# name: (builder, reason, memoised: whether the rejection itself is kept in the memo)
IPV4_CASES: dict[str, tuple[Builder, RejectReason, bool]] = {
    "ttl": (lambda i, v: _frame(_msg(), i, v, ttl=254), RejectReason.TTL, True),
    "vrrp_checksum": (lambda i, v: _frame(_BAD_V2_CHECKSUM, i, v), RejectReason.CHECKSUM, True),
    "version": (lambda i, v: _frame(_msg(version=4), i, v), RejectReason.VERSION, True),
    "type": (lambda i, v: _frame(_msg(vrrp_type=2), i, v), RejectReason.TYPE, True),
    "address_count_zero": (
        lambda i, v: _frame(_msg(addresses=[]), i, v),
        RejectReason.ADDRESS_COUNT,
        True,
    ),
    "address_count_overflow": (
        lambda i, v: _frame(_msg(count=3), i, v),
        RejectReason.ADDRESS_COUNT,
        True,
    ),
    "vrid_zero": (lambda i, v: _frame(_msg(vrid=0), i, v), RejectReason.VRID, True),
    "v3_trailing_bytes": (
        lambda i, v: _frame(_plain(_msg(version=3) + bytes(4)), i, v),
        RejectReason.LENGTH,
        True,
    ),
    "ip_header_checksum": (_bad_header_checksum, RejectReason.CHECKSUM, False),
    "fragment": (_fragment, RejectReason.MALFORMED, False),
}

_V6 = Family.IPV6
IPV6_CASES: dict[str, tuple[bytes, RejectReason]] = {
    "hop_limit": (_frame(_msg(_V6), 0, None, family=_V6, ttl=64), RejectReason.TTL),
    "plain_checksum": (_frame(_plain(_msg(_V6)), 0, None, family=_V6), RejectReason.CHECKSUM),
    "v2_over_ipv6": (
        _frame(_plain(_msg()), 0, None, family=_V6),
        RejectReason.VERSION,
    ),
    "vrid_zero": (_frame(_msg(_V6, vrid=0), 0, None, family=_V6), RejectReason.VRID),
}


@pytest.fixture(autouse=True)
def _cold() -> None:
    clear_cache()


def _reason(got: object) -> RejectReason:
    assert isinstance(got, Rejected), got
    return got.reason


@pytest.mark.parametrize("vlan", [None, 100])
@pytest.mark.parametrize("name", sorted(IPV4_CASES))
def test_ipv4_check_cold_and_on_a_memo_hit(name: str, vlan: int | None) -> None:
    build, reason, memoised = IPV4_CASES[name]
    first = decode(build(1, vlan))
    assert _reason(first) is reason
    # Another copy: a new identification (and header checksum), the same memo key.
    second = decode(build(2, vlan))
    assert _reason(second) is reason
    if memoised and vlan is None:
        assert second is first  # it came from the memo
    # Every remaining byte is in the key: the memo hit is exact, not approximate.
    assert isinstance(decode(_good(3, vlan)), VrrpAdvert)


@pytest.mark.parametrize("vlan", [None, 100])
@pytest.mark.parametrize("name", sorted(IPV4_CASES))
def test_ipv4_check_after_the_good_frame_is_memoised(name: str, vlan: int | None) -> None:
    build, reason, _memoised = IPV4_CASES[name]
    good = decode(_good(1, vlan))
    assert isinstance(good, VrrpAdvert)
    assert decode(_good(2, vlan)) is good  # a hit
    assert _reason(decode(build(3, vlan))) is reason


def test_header_checksum_is_checked_on_the_hit_path() -> None:
    """The hit path's only check: a corrupted header checksum on a memoised advert."""
    good = decode(_good(7, None))
    assert isinstance(good, VrrpAdvert)
    bad = _bad_header_checksum(7, None)
    assert bad[:24] + bad[26:] == _good(7, None)[:24] + _good(7, None)[26:]  # the same key
    got = decode(bad)
    assert isinstance(got, Rejected) and got.reason is RejectReason.CHECKSUM
    assert "IPv4 header" in got.detail


@pytest.mark.parametrize("name", sorted(IPV6_CASES))
def test_ipv6_check_cold_and_on_a_memo_hit(name: str) -> None:
    frame, reason = IPV6_CASES[name]
    good6 = _frame(_msg(_V6), 0, None, family=_V6)
    assert isinstance(decode(good6), VrrpAdvert)  # the good frame memoised first
    first = decode(frame)
    assert _reason(first) is reason
    assert decode(frame) is first  # the hit returns the same rejection
    clear_cache()
    assert _reason(decode(frame)) is reason


def test_v3_plain_checksum_form_is_remembered_per_frame() -> None:
    """The memo keeps which checksum form matched: a hit reports it as the miss did."""
    plain = _frame(_plain(_msg(version=3)), 1, None)
    got = decode(plain)
    assert isinstance(got, VrrpAdvert) and got.checksum_form is ChecksumForm.PLAIN
    again = decode(_frame(_plain(_msg(version=3)), 2, None))
    assert again is got
