"""VRRPv2 as deployed: Cisco's MD5 (auth type 254 plus a key-chain TLV) and unknown auth
types are shown, from real bytes through the codec, and flagged when senders differ."""

from __future__ import annotations

from typing import Any

from hatui.codec.build import build_vrrp_frame, encode_vrrp
from hatui.codec.decode import clear_cache, decode
from hatui.codec.frames import Auth, Captured, Family
from hatui.observe.events import EventKind
from hatui.observe.observer import Observer
from hatui.observe.report import snapshot_to_json

from .factory import VIP, A, B, S, at, mac_of

# Cisco IOS: 8 bytes of auth data, then a TLV (type 3, length 25: key id and the digest).
CISCO_TLV = bytes((3, 25)) + (1).to_bytes(4, "big") + bytes(3) + bytes(range(16))


def _frame(src: str, priority: int, **kw: Any) -> bytes:
    msg = encode_vrrp(
        version=2,
        vrid=10,
        priority=priority,
        interval_cs=100,
        addresses=[VIP],
        family=Family.IPV4,
        src_ip=src,
        dst_ip="224.0.0.18",
        **kw,
    )
    return build_vrrp_frame(src_mac=mac_of(src), src_ip=src, vrid=10, addresses=[], vrrp=msg)


def _feed(obs: Observer, us: int, data: bytes) -> list[Any]:
    frame = decode(data)
    assert frame is not None
    return obs.feed(Captured(time=at(us), interface="eth0", frame=frame))


def test_cisco_md5_router_appears_labelled_unverifiable() -> None:
    clear_cache()
    obs = Observer()
    data = _frame(A, 110, auth=Auth.CISCO_MD5, trailer=CISCO_TLV)
    events = [e for i in range(5) for e in _feed(obs, i * S, data)]
    assert [e.kind for e in events] == [EventKind.NEW_ROUTER]
    doc: Any = snapshot_to_json(obs.snapshot(at(4 * S)))
    (r,) = doc["routers"]
    assert (r["vrid"], r["auth"], r["auth_type"], r["auth_verifiable"]) == (
        10,
        "cisco-md5",
        254,
        False,
    )
    assert (r["master"]["ip"], r["priority"], r["adverts"], r["vips"]) == (A, 110, 5, [VIP])
    assert doc["counters"]["rejected"]["length"] == 0 and doc["counters"]["vrrp"] == 5


def test_unknown_auth_types_shown_and_flagged_when_senders_differ() -> None:
    clear_cache()
    obs = Observer()
    _feed(obs, 0, _frame(A, 150, auth_type=7))
    _feed(obs, S, _frame(A, 150, auth_type=7))
    events = _feed(obs, S + 300_000, _frame(B, 100, auth_type=9))
    mismatch = [e for e in events if e.kind is EventKind.MISMATCH]
    assert len(mismatch) == 1 and mismatch[0].field == "auth"  # type: ignore[attr-defined]
    assert "type 7" in mismatch[0].detail and "type 9" in mismatch[0].detail
    doc: Any = snapshot_to_json(obs.snapshot(at(2 * S)))
    (r,) = doc["routers"]
    assert (r["auth"], r["auth_type"], r["status"]) == ("unknown", 7, "mismatch")
    assert sorted(s["auth_type"] for s in r["senders"]) == [7, 9]


def test_same_unknown_type_from_both_senders_is_no_mismatch() -> None:
    clear_cache()
    obs = Observer()
    _feed(obs, 0, _frame(A, 150, auth_type=7))
    events = _feed(obs, 300_000, _frame(B, 100, auth_type=7))
    assert [e.kind for e in events] == []
