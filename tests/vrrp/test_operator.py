"""Operator commands (priority override, release, pause, resume, garp) and construction errors."""

from __future__ import annotations

import pytest

from hatui.codec.frames import Family
from hatui.types import MonoUs
from hatui.vrrp.actions import (
    Log,
    LogLevel,
    Notify,
    RemoveVips,
    SendAdvert,
    SendGarp,
    Transition,
)
from hatui.vrrp.inputs import (
    AdjustPriority,
    AdvertReceived,
    Pause,
    Release,
    Resume,
    SetPriority,
    Startup,
    TimerFired,
    TrackChanged,
)
from hatui.vrrp.inputs import SendGarp as SendGarpCommand
from hatui.vrrp.machine import Router
from hatui.vrrp.spec import GarpSpec, TrackRef, Vip
from hatui.vrrp.state import State
from hatui.vrrp.status import TimerKind

from .factory import ADDRS, ME, PEER, VIPS, advert, backup, master, spec

S = State


def us(n: int) -> MonoUs:
    return MonoUs(n)


def test_set_priority_changes_the_masters_next_advert() -> None:
    r, t0 = master()
    assert r.handle(SetPriority(value=42), us(t0 + 1)) == [
        Log(level=LogLevel.INFO, message="priority 100 -> 42 (operator set priority 42)")
    ]
    now = r.deadline()
    assert now is not None
    assert r.handle(TimerFired(), now) == [
        SendAdvert(priority=42, interval_cs=100, addresses=ADDRS)
    ]
    # A peer at 50 now preempts us.
    out = r.handle(AdvertReceived(advert=advert(priority=50)), us(now + 1))
    assert out[0] == Transition(
        old=S.MASTER, new=S.BACKUP, cause=f"higher priority advert from {PEER}"
    )


def test_adjust_priority_is_relative_to_the_override_and_clamped() -> None:
    r = backup()
    r.handle(AdjustPriority(delta=-30), us(0))
    assert r.status(us(0)).override == 70
    r.handle(AdjustPriority(delta=-100), us(0))
    assert r.status(us(0)).override == 1
    r.handle(AdjustPriority(delta=253), us(0))
    assert r.status(us(0)).override == 254


def test_raised_backup_preempts_the_master() -> None:
    r = backup()
    r.handle(AdvertReceived(advert=advert(priority=150)), us(1_000_000))
    r.handle(SetPriority(value=200), us(1_500_000))
    out = r.handle(AdvertReceived(advert=advert(priority=150)), us(2_000_000))
    assert [type(a).__name__ for a in out] == ["Discard"]
    assert r.deadline() == 1_000_000 + 3_609_375
    r.handle(TimerFired(), us(1_000_000 + 3_609_375))
    assert r.state is S.MASTER


def test_release_sends_priority_zero_then_holds() -> None:
    r, t0 = master()
    now = us(t0 + 10)
    assert r.handle(Release(), now) == [
        Transition(old=S.MASTER, new=S.BACKUP, cause="operator release"),
        SendAdvert(priority=0, interval_cs=100, addresses=ADDRS),
        RemoveVips(vips=VIPS),
        Notify(state="BACKUP", priority=100),
    ]
    assert r.deadline() is None  # held: never takes over
    r.handle(AdvertReceived(advert=advert(priority=0)), us(now + 1))
    assert r.deadline() is None
    assert r.status(now).hold
    assert r.handle(Resume(), us(now + 2)) == []
    assert r.deadline() == now + 2 + 3_609_375
    assert not r.status(now).hold


def test_pause_drops_vips_without_priority_zero() -> None:
    r, t0 = master()
    now = us(t0 + 10)
    assert r.handle(Pause(), now) == [
        Transition(old=S.MASTER, new=S.BACKUP, cause="operator pause"),
        RemoveVips(vips=VIPS),
        Notify(state="BACKUP", priority=100),
    ]
    assert r.deadline() is None
    assert r.status(now).paused


def test_pause_and_release_in_backup_stop_the_master_down_timer() -> None:
    for command in (Pause(), Release()):
        r = backup()
        out = r.handle(command, us(1))
        assert [type(a) for a in out] == [Log]
        assert r.deadline() is None


def test_resume_clears_the_override() -> None:
    r = backup()
    r.handle(SetPriority(value=10), us(0))
    assert r.handle(Resume(), us(1)) == [
        Log(level=LogLevel.INFO, message="priority 10 -> 100 (operator resume)")
    ]
    assert r.status(us(1)).override is None


def test_released_owner_takes_over_again_on_resume() -> None:
    r = Router(spec(priority=255), primary_ip=ME)
    r.handle(Startup(), us(0))
    r.handle(Release(), us(1))
    assert r.state is S.BACKUP
    out = r.handle(Resume(), us(2))
    assert out[0] == Transition(old=S.BACKUP, new=S.MASTER, cause="operator resume (address owner)")


def test_send_garp_only_when_master() -> None:
    r = backup()
    assert r.handle(SendGarpCommand(), us(1)) == [
        Log(level=LogLevel.WARNING, message="gratuitous ARP not sent: not master")
    ]
    m, t0 = master(spec(garp=GarpSpec(master_repeat=3)))
    assert m.handle(SendGarpCommand(), us(t0 + 1_000)) == [SendGarp(vips=VIPS, count=3)]


def test_status_snapshot() -> None:
    r = backup(spec(track_scripts=(TrackRef(name="chk", weight=-5),)))
    r.handle(AdvertReceived(advert=advert(priority=150)), us(1_000_000))
    r.handle(TrackChanged(kind="script", name="chk", ok=False), us(1_100_000))
    st = r.status(us(1_200_000))
    assert st.state is S.BACKUP
    assert (st.base_priority, st.effective_priority, st.override) == (100, 95, None)
    assert st.master_ip == PEER
    assert st.last_advert is not None and st.last_advert.priority == 150
    assert st.state_cause == "startup" and st.state_since == 0
    assert st.skew_us == 161 * 1_000_000 // 256
    assert st.master_down_interval_us == 3_000_000 + st.skew_us
    assert st.next_deadline == 1_000_000 + 3_609_375  # armed before the priority fell
    assert st.next_timer is TimerKind.MASTER_DOWN
    assert not st.vips_held


@pytest.mark.parametrize(
    "make",
    [
        lambda: SetPriority(value=0),
        lambda: SetPriority(value=255),
        lambda: AdjustPriority(delta=0),
        lambda: AdjustPriority(delta=300),
        lambda: TrackChanged(kind="disk", name="x", ok=True),  # type: ignore[arg-type]
        lambda: TrackChanged(kind="script", name="", ok=True),
    ],
)
def test_bad_operator_arguments_raise(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("kw", "ip"),
    [
        ({}, "2001:db8::11"),  # family mismatch
        ({"vips": (Vip(address="2001:db8::100", prefixlen=64),), "version": 3}, "192.0.2.11"),
        ({}, "not-an-ip"),
        ({}, "224.0.0.18"),
        ({}, "0.0.0.0"),
        ({"preempt_delay_us": -1}, ME),
        ({"garp": GarpSpec(master_repeat=-1)}, ME),
        ({"track_scripts": (TrackRef(name="a"), TrackRef(name="a"))}, ME),
    ],
)
def test_router_rejects_nonsense(kw: dict[str, object], ip: str) -> None:
    with pytest.raises(ValueError):
        Router(spec(**kw), primary_ip=ip)


def test_ipv6_router_is_fine() -> None:
    s = spec(vips=(Vip(address="2001:db8::100", prefixlen=64),), version=3)
    r = Router(s, primary_ip="fe80::11")
    assert r.status(us(0)).family == Family.IPV6
