"""HSRP groups in the observer: active and standby, coups, resigns and timeouts as
failovers with gap and cause, stale actives, split brain, and the JSON contract."""

from __future__ import annotations

from typing import Any

from hatui.codec.frames import Family, HsrpHello, HsrpOp, HsrpState, Link, Protocol
from hatui.observe.events import Cause, EventKind, MasterChange
from hatui.observe.observer import Observer
from hatui.observe.report import snapshot_to_json

from .factory import MS, A, B, C, S, at, cap, merge, run, series

ACTIVE, STANDBY, SPEAK = HsrpState.ACTIVE, HsrpState.STANDBY, HsrpState.SPEAK
VIP = "192.0.2.1"
V1_MAC = "00:00:0c:07:ac:05"


def hsrp(
    src: str,
    state: HsrpState,
    priority: int,
    *,
    op: HsrpOp = HsrpOp.HELLO,
    version: int = 2,
    hello_ms: int = 1000,
    hold_ms: int = 3000,
    mac: str | None = None,
    group: int = 5,
    family: Family = Family.IPV4,
    auth: str = "text",
) -> HsrpHello:
    return HsrpHello(
        link=Link(src_mac=mac or f"02:00:00:00:00:{src[-2:]}", dst_mac="01:00:5e:00:00:66"),
        family=family,
        src_ip=src,
        dst_ip="224.0.0.102",
        version=version,
        op=op,
        state=state,
        group=group,
        priority=priority,
        hello_ms=hello_ms,
        hold_ms=hold_ms,
        vip=VIP,
        auth=auth,
    )


def _doc(obs: Observer, us: int) -> Any:
    return snapshot_to_json(obs.snapshot(at(us)))


def test_active_and_standby_both_shown() -> None:
    obs = Observer()
    events = run(
        obs,
        merge(
            series(0, 10, S, hsrp(A, ACTIVE, 110, mac=V1_MAC, version=1)),
            series(300 * MS, 10, S, hsrp(B, STANDBY, 100, version=1)),
        ),
    )
    assert [e.kind for e in events] == [EventKind.NEW_ROUTER]
    assert events[0].protocol is Protocol.HSRP
    (r,) = _doc(obs, 9 * S + 500 * MS)["routers"]
    assert (r["protocol"], r["vrid"], r["version"], r["status"]) == ("hsrp", 5, 1, "ok")
    assert r["master"] == {"ip": A, "mac": V1_MAC, "virtual_mac": True}
    assert r["standby"] == {"ip": B, "mac": "02:00:00:00:00:12", "priority": 100}
    assert (r["advert_interval_ms"], r["hold_ms"], r["vips"], r["auth"]) == (
        1000,
        3000,
        [VIP],
        "text",
    )
    assert r["virtual_mac_expected"] == V1_MAC and r["auth_verifiable"] is True
    assert {s["ip"]: s["state"] for s in r["senders"]} == {A: "active", B: "standby"}


def test_timeout_failover_with_gap_and_hold_time_beside_it() -> None:
    obs = Observer()
    takeover = 9 * S + 3 * S + 4 * MS  # hold time expired on the standby, plus wire latency
    events = run(
        obs,
        merge(
            series(0, 10, S, hsrp(A, ACTIVE, 110)),
            series(300 * MS, 12, S, hsrp(B, STANDBY, 100)),
            series(takeover, 3, S, hsrp(B, ACTIVE, 100)),
        ),
    )
    (mc,) = [e for e in events if isinstance(e, MasterChange)]
    assert (mc.from_ip, mc.to_ip, mc.cause, mc.gap_us) == (A, B, Cause.TIMEOUT, 3 * S + 4 * MS)
    assert mc.rfc_us == 3 * S and "4.0 ms after the RFC 2281 hold time" in mc.detail
    (f,) = _doc(obs, takeover + 2 * S)["failovers"]
    assert (f["protocol"], f["cause"], f["gap_ms"], f["rfc_gap_ms"]) == (
        "hsrp",
        "timeout",
        3004.0,
        3000.0,
    )


def test_coup_is_a_preempt_and_resign_a_release() -> None:
    obs = Observer()
    coup = 5 * S + 100 * MS
    events = run(
        obs,
        merge(
            series(0, 6, S, hsrp(B, ACTIVE, 100)),
            [cap(coup, hsrp(A, ACTIVE, 150, op=HsrpOp.COUP))],
            series(coup + S, 3, S, hsrp(A, ACTIVE, 150)),
            series(coup + 20 * MS, 4, S, hsrp(B, SPEAK, 100)),
        ),
    )
    (mc,) = [e for e in events if isinstance(e, MasterChange)]
    assert (mc.to_ip, mc.cause, mc.rfc_us) == (A, Cause.PREEMPT, None) and "coup" in mc.detail
    resign = coup + 3 * S + 500 * MS
    events = run(
        obs,
        merge(
            [cap(resign, hsrp(A, ACTIVE, 150, op=HsrpOp.RESIGN))],
            series(resign + 15 * MS, 3, S, hsrp(B, ACTIVE, 100)),
        ),
    )
    assert [e.kind for e in events] == [EventKind.RELEASE, EventKind.MASTER_CHANGE]
    mc2 = events[1]
    assert isinstance(mc2, MasterChange)
    assert (mc2.from_ip, mc2.to_ip, mc2.cause, mc2.gap_us) == (A, B, Cause.RELEASE, 15 * MS)
    doc = _doc(obs, resign + 2 * S)
    assert [(f["to"], f["cause"]) for f in doc["failovers"]] == [(A, "preempt"), (B, "release")]
    (r,) = doc["routers"]
    assert [(h["ip"], h["cause"]) for h in r["history"]] == [
        (B, "first"),
        (A, "preempt"),
        (B, "release"),
    ]


def test_stale_active_after_hold_and_a_hello() -> None:
    obs = Observer()
    run(obs, series(0, 5, S, hsrp(A, ACTIVE, 110)))
    events = obs.tick(at(4 * S + 3 * S + 900 * MS))
    assert events == []  # within hold + hello
    events = obs.tick(at(4 * S + 4 * S + 1))
    assert [(e.kind, e.time) for e in events] == [(EventKind.STALE, at(8 * S))]
    assert _doc(obs, 9 * S)["routers"][0]["status"] == "stale"


def test_two_actives_are_split_brain_two_speakers_are_not() -> None:
    obs = Observer()
    run(
        obs,
        merge(series(0, 6, S, hsrp(A, ACTIVE, 110)), series(500 * MS, 6, S, hsrp(C, SPEAK, 90))),
    )
    assert _doc(obs, 5 * S + 600 * MS)["routers"][0]["status"] == "ok"
    run(obs, series(6 * S + 500 * MS, 4, S, hsrp(B, ACTIVE, 100)))
    run(obs, series(6 * S, 4, S, hsrp(A, ACTIVE, 110)))
    r = _doc(obs, 9 * S + 600 * MS)["routers"][0]
    assert r["status"] == "split_brain" and sorted(r["split_brain"]) == [A, B]


def test_hsrp_and_vrrp_with_one_number_are_two_rows() -> None:
    from .factory import advert

    obs = Observer()
    run(obs, merge(series(0, 3, S, hsrp(A, ACTIVE, 110)), series(0, 3, S, advert(B, vrid=5))))
    doc = _doc(obs, 2 * S)
    assert sorted((r["protocol"], r["vrid"]) for r in doc["routers"]) == [("hsrp", 5), ("vrrp", 5)]
    assert doc["counters"]["hsrp"] == 3 and doc["counters"]["vrrp"] == 3


def test_glbp_counted_and_labelled_once_per_group() -> None:
    from hatui.codec.frames import GlbpHello

    obs = Observer()
    glbp = GlbpHello(
        link=Link(src_mac="02:00:00:00:00:21", dst_mac="01:00:5e:00:00:66"),
        family=Family.IPV4,
        src_ip="192.0.2.21",
        group=12,
    )
    events = run(obs, series(0, 4, S, glbp))
    assert [(e.kind, e.protocol, e.vrid) for e in events] == [("glbp_seen", "glbp", 12)]
    doc = _doc(obs, 4 * S)
    assert doc["routers"] == [] and doc["counters"]["glbp"] == 4
    assert doc["events"][0]["group"] == 12 and doc["events"][0]["protocol"] == "glbp"


def test_without_an_active_the_highest_state_leads() -> None:
    """No Active heard yet: the row shows the speaker furthest along the state machine
    (Standby over Speak, whatever the priorities), as RFC 2281 orders the states."""
    obs = Observer()
    run(
        obs,
        merge(
            series(0, 3, S, hsrp(A, SPEAK, 200)),
            series(100 * MS, 3, S, hsrp(B, STANDBY, 90)),
            series(200 * MS, 3, S, hsrp(C, HsrpState.LISTEN, 250)),
        ),
    )
    (r,) = _doc(obs, 2 * S + 500 * MS)["routers"]
    assert (r["state"], r["master"]["ip"]) == ("standby", "")
    assert {s["ip"]: s["state"] for s in r["senders"]} == {
        A: "speak",
        B: "standby",
        C: "listen",
    }
    assert [s.rank for s in HsrpState] == list(range(7))
    assert HsrpState.ACTIVE.rank > HsrpState.STANDBY.rank > HsrpState.SPEAK.rank
