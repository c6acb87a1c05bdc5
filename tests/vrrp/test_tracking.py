"""Tracked objects, FAULT, and the effective priority (keepalived's tracking rules)."""

from __future__ import annotations

import pytest

from hatui.types import MonoUs
from hatui.vrrp.actions import Log, LogLevel, Notify, RemoveVips, SendAdvert, Transition
from hatui.vrrp.inputs import AdvertReceived, LinkChanged, Startup, TimerFired, TrackChanged
from hatui.vrrp.machine import Router
from hatui.vrrp.priority import effective_priority, tracker_status
from hatui.vrrp.spec import TrackRef
from hatui.vrrp.state import State

from .factory import ADDRS, ME, VIPS, advert, backup, master, spec

S = State


def us(n: int) -> MonoUs:
    return MonoUs(n)


@pytest.mark.parametrize(
    ("kind", "weight", "ok", "value", "contribution", "faulting"),
    [
        ("script", -20, False, 0, -20, False),  # failing, negative weight subtracts
        ("script", -20, True, 0, 0, False),
        ("script", 10, True, 0, 10, False),  # succeeding, positive weight adds
        ("script", 10, False, 0, 0, False),
        ("script", 0, False, 0, 0, True),  # weight 0: failure is FAULT
        ("interface", -30, False, 0, -30, False),
        ("interface", 0, False, 0, 0, True),
        ("file", 5, True, 3, 15, False),  # weight * value
        ("file", -2, True, 10, -20, False),
        ("file", 5, False, 3, 0, False),  # unreadable: no contribution
        ("file", 0, True, 1, 0, True),  # weight 0: non-zero value is FAULT
        ("file", 0, True, 0, 0, False),
        ("file", -1, True, 254, -254, True),  # keepalived: priority driven to <= 0
    ],
)
def test_tracker_rules(
    kind: str, weight: int, ok: bool, value: int, contribution: int, faulting: bool
) -> None:
    t = tracker_status(kind, "x", weight, ok, value)  # type: ignore[arg-type]
    assert (t.contribution, t.faulting) == (contribution, faulting)


def test_effective_priority_clamps_and_spares_the_owner() -> None:
    assert effective_priority(100, None, -20) == 80
    assert effective_priority(100, None, -500) == 1
    assert effective_priority(240, None, 50) == 254
    assert effective_priority(255, None, -50) == 255
    assert effective_priority(255, 200, -50) == 150  # an override is no longer the owner
    assert effective_priority(100, 30, 10) == 40


def test_failing_script_lowers_a_masters_next_advert() -> None:
    r, t0 = master(spec(track_scripts=(TrackRef(name="chk", weight=-20),)))
    out = r.handle(TrackChanged(kind="script", name="chk", ok=False), us(t0 + 10))
    assert out == [
        Log(level=LogLevel.INFO, message="priority 100 -> 80 (tracked script chk fails)")
    ]
    now = r.deadline()
    assert now == t0 + 1_000_000
    assert r.handle(TimerFired(), now) == [
        SendAdvert(priority=80, interval_cs=100, addresses=ADDRS)
    ]
    status = r.status(now)
    assert status.effective_priority == 80
    assert status.trackers[0].contribution == -20


def test_succeeding_script_with_positive_weight_adds() -> None:
    r = Router(spec(track_scripts=(TrackRef(name="chk", weight=10),)), primary_ip=ME)
    assert r.status(us(0)).effective_priority == 110  # scripts start ok
    r.handle(TrackChanged(kind="script", name="chk", ok=False), us(0))
    assert r.status(us(0)).effective_priority == 100


def test_backup_priority_change_recomputes_skew() -> None:
    r = backup(spec(track_interfaces=(TrackRef(name="eth1", weight=-50),)))
    assert r.status(us(0)).skew_us == 609_375
    r.handle(TrackChanged(kind="interface", name="eth1", ok=False), us(0))
    assert r.status(us(0)).skew_us == (256 - 50) * 1_000_000 // 256
    r.handle(AdvertReceived(advert=advert(priority=0)), us(1_000_000))
    assert r.deadline() == 1_000_000 + 804_687


def test_tracked_file_contributes_weight_times_value() -> None:
    r = backup(spec(track_files=(TrackRef(name="prio", weight=3),)))
    r.handle(TrackChanged(kind="file", name="prio", ok=True, value=-7), us(0))
    assert r.status(us(0)).effective_priority == 79


def test_weight_zero_failure_faults_a_master_and_recovery_returns_to_backup() -> None:
    r, t0 = master(spec(track_scripts=(TrackRef(name="chk", weight=0),)))
    now = us(t0 + 10)
    assert r.handle(TrackChanged(kind="script", name="chk", ok=False), now) == [
        Transition(old=S.MASTER, new=S.FAULT, cause="tracked script chk fails"),
        RemoveVips(vips=VIPS),
        Notify(state="FAULT", priority=100),
    ]
    assert r.deadline() is None  # no adverts in FAULT
    assert r.status(now).faults == ("tracked script chk fails",)
    # Adverts are heard but change nothing.
    assert r.handle(AdvertReceived(advert=advert(priority=0)), us(t0 + 20)) == []
    assert r.deadline() is None
    later = us(t0 + 5_000_000)
    assert r.handle(TrackChanged(kind="script", name="chk", ok=True), later) == [
        Transition(old=S.FAULT, new=S.BACKUP, cause="tracked script chk recovers"),
        Notify(state="BACKUP", priority=100),
    ]
    assert r.deadline() == later + 3_609_375


def test_link_down_faults_until_every_fault_clears() -> None:
    r = backup(spec(track_scripts=(TrackRef(name="chk", weight=0),)))
    assert r.handle(LinkChanged(up=False), us(1)) == [
        Transition(old=S.BACKUP, new=S.FAULT, cause="link down"),
        Notify(state="FAULT", priority=100),
    ]
    assert r.handle(LinkChanged(up=False), us(2)) == []
    assert r.handle(TrackChanged(kind="script", name="chk", ok=False), us(3)) == []
    assert r.handle(LinkChanged(up=True), us(4)) == []  # the script still fails
    assert r.state is S.FAULT
    out = r.handle(TrackChanged(kind="script", name="chk", ok=True), us(5))
    assert out[0] == Transition(old=S.FAULT, new=S.BACKUP, cause="tracked script chk recovers")
    assert r.deadline() == 5 + 3_609_375


def test_startup_with_link_down_goes_to_fault() -> None:
    r = Router(spec(), primary_ip=ME)
    r.handle(LinkChanged(up=False), us(0))
    assert r.handle(Startup(), us(0)) == [
        Transition(old=S.INIT, new=S.FAULT, cause="startup: link down"),
        Notify(state="FAULT", priority=100),
    ]
    assert r.deadline() is None


def test_owner_leaving_fault_is_master_at_once() -> None:
    r = Router(spec(priority=255), primary_ip=ME)
    r.handle(Startup(), us(0))
    r.handle(LinkChanged(up=False), us(1))
    assert r.state is S.FAULT
    out = r.handle(LinkChanged(up=True), us(2))
    assert out[0] == Transition(old=S.FAULT, new=S.MASTER, cause="link up")


def test_unknown_tracked_object_is_logged() -> None:
    r = backup()
    assert r.handle(TrackChanged(kind="script", name="nope", ok=False), us(1)) == [
        Log(level=LogLevel.WARNING, message="script nope is not tracked")
    ]


# keepalived.conf(5), priority: "if an instance has priority 255 configured, the priority
# cannot be reduced by track_scripts, track_process etc, and likewise track_scripts etc
# cannot increase the priority to 255 if the configured priority is not 255."


def test_trackers_cannot_raise_an_instance_to_the_owners_255() -> None:
    r = Router(spec(priority=250, track_scripts=(TrackRef(name="chk", weight=10),)), primary_ip=ME)
    out = r.handle(Startup(), us(0))
    assert out[0] == Transition(old=S.INIT, new=S.BACKUP, cause="startup")  # not the owner
    now = r.deadline()
    assert now == 3_000_000 + 2 * 1_000_000 // 256  # RFC 3768 6.1 at priority 254
    out = r.handle(TimerFired(), now)
    assert SendAdvert(priority=254, interval_cs=100, addresses=ADDRS) in out


def test_trackers_cannot_lower_the_owner() -> None:
    r = Router(spec(priority=255, track_scripts=(TrackRef(name="chk", weight=-20),)), primary_ip=ME)
    assert r.handle(Startup(), us(0))[0] == Transition(old=S.INIT, new=S.MASTER, cause="startup")
    assert r.handle(TrackChanged(kind="script", name="chk", ok=False), us(10)) == []
    now = r.deadline()
    assert now is not None
    assert r.handle(TimerFired(), now) == [
        SendAdvert(priority=255, interval_cs=100, addresses=ADDRS)
    ]
