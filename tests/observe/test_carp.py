"""CARP groups modelled: the master and its MAC, master changes with gap and cause,
advbase/advskew/demotion in the JSON, and the addresses taken from who answers ARP/ND
with the CARP virtual MAC (CARP adverts do not list them)."""

from __future__ import annotations

from typing import Any

from hatui.codec.frames import CarpAdvert, Family, Link
from hatui.observe.events import Cause, MasterChange
from hatui.observe.observer import Observer
from hatui.observe.report import snapshot_to_json

from .factory import MS, A, B, S, arp, at, cap, mac_of, merge, na, run, series

VMAC = "00:00:5e:00:01:07"


def carp(
    src: str,
    *,
    advskew: int = 0,
    advbase: int = 1,
    demote: int = 0,
    vhid: int = 7,
    family: Family = Family.IPV4,
) -> CarpAdvert:
    return CarpAdvert(
        link=Link(src_mac=VMAC, dst_mac="01:00:5e:00:00:12"),
        family=family,
        src_ip=src,
        dst_ip="224.0.0.18" if family is Family.IPV4 else "ff02::12",
        vhid=vhid,
        advbase=advbase,
        advskew=advskew,
        demote=demote,
    )


def _doc(obs: Observer, us: int) -> Any:
    return snapshot_to_json(obs.snapshot(at(us)))


def test_master_vhid_timers_and_addresses_from_arp() -> None:
    obs = Observer()
    run(
        obs,
        merge(
            series(0, 10, S, carp(A, advskew=0, demote=0)),
            [cap(500 * MS, arp("192.0.2.50", VMAC, gratuitous=True))],
            [cap(600 * MS, arp("192.0.2.51", mac_of(B)))],  # someone else's: not CARP's
            [cap(700 * MS, na("2001:db8::50", VMAC))],  # IPv6: belongs to an IPv6 group
        ),
    )
    (r,) = _doc(obs, 9 * S + 500 * MS)["routers"]
    assert (r["protocol"], r["vrid"], r["version"], r["status"]) == ("carp", 7, 2, "ok")
    assert r["master"] == {"ip": A, "mac": VMAC, "virtual_mac": True}
    assert (r["advbase"], r["advskew"], r["demote"], r["advert_interval_ms"]) == (1, 0, 0, 1000)
    assert r["vips"] == ["192.0.2.50"]
    assert (r["auth"], r["auth_verifiable"], r["master_down_ms"]) == ("hmac", False, 3000.0)


def test_backup_takes_over_after_three_of_its_intervals() -> None:
    """The backup (advskew 100: interval 1.390625 s) waits 3 of its own intervals; the
    figure beside the gap is exact, not the rules' centiseconds (4170 ms)."""
    obs = Observer()
    takeover = 9 * S + 4_171_875 + 2 * MS
    events = run(
        obs,
        merge(
            series(0, 10, S, carp(A, advskew=0)),
            series(takeover, 3, 1_390_000, carp(B, advskew=100)),
        ),
    )
    (mc,) = [e for e in events if isinstance(e, MasterChange)]
    assert (mc.from_ip, mc.to_ip, mc.cause, mc.protocol) == (A, B, Cause.TIMEOUT, "carp")
    assert mc.gap_us == 4_171_875 + 2 * MS and mc.rfc_us == 4_171_875
    assert "carp vhid 7" in mc.detail and "2.0 ms after the CARP wait" in mc.detail
    doc = _doc(obs, takeover + 2 * S)
    (r,) = doc["routers"]
    assert (r["master"]["ip"], r["advskew"]) == (B, 100)
    (f,) = doc["failovers"]
    assert (f["protocol"], f["cause"], f["to"]) == ("carp", "timeout", B)


def test_lower_advskew_preempts_and_demotion_loses() -> None:
    obs = Observer()
    back = 10 * S + 200 * MS
    events = run(
        obs,
        merge(
            series(0, 11, S, carp(B, advskew=100)),
            series(back, 5, S, carp(A, advskew=0)),
        ),
    )
    (mc,) = [e for e in events if isinstance(e, MasterChange)]
    assert (mc.to_ip, mc.cause) == (A, Cause.PREEMPT)
    # A demoted (interface down elsewhere): B, with the lower advskew + demote, wins back.
    demoted = back + 5 * S
    events = run(
        obs,
        merge(
            series(demoted, 3, S, carp(A, advskew=0, demote=200)),
            series(demoted + 100 * MS, 3, S, carp(B, advskew=100)),
        ),
    )
    (mc,) = [e for e in events if isinstance(e, MasterChange)]
    assert (mc.to_ip, mc.cause) == (B, Cause.PREEMPT)


def test_leaving_advert_is_a_release() -> None:
    obs = Observer()
    leave = 5 * S + 300 * MS
    events = run(
        obs,
        merge(
            series(0, 6, S, carp(A)),
            [cap(leave, carp(A, advbase=255, advskew=255))],
            series(leave + 10 * MS, 3, S, carp(B, advskew=100)),
        ),
    )
    (mc,) = [e for e in events if isinstance(e, MasterChange)]
    assert (mc.to_ip, mc.cause, mc.gap_us, mc.rfc_us) == (B, Cause.RELEASE, 10 * MS, None)


def test_vhid_and_vrid_of_one_number_are_two_rows() -> None:
    from .factory import advert

    obs = Observer()
    run(obs, merge(series(0, 3, S, carp(A)), series(0, 3, S, advert(B, vrid=7))))
    doc = _doc(obs, 2 * S)
    assert [(r["protocol"], r["vrid"]) for r in doc["routers"]] == [("carp", 7), ("vrrp", 7)]


def test_members_advskews_differ_by_design_not_a_mismatch() -> None:
    # CARP elects by advskew (carp(4): the lower skew advertises more often and wins), so
    # the members' intervals differ on purpose; VRRP's 'same interval' rule is not CARP's.
    obs = Observer()
    events = run(
        obs,
        merge(
            series(0, 4, S + 100 * S // 256, carp(B, advskew=100)),  # 0 .. 4.17 s
            series(5 * S + 300 * MS, 10, S, carp(A, advskew=0)),
        ),
    )
    assert [str(e.kind) for e in events if str(e.kind) != "carp_seen"] == [
        "new_router",
        "master_change",
    ]
    (r,) = _doc(obs, 14 * S)["routers"]
    assert (r["master"]["ip"], r["status"]) == (A, "ok")
