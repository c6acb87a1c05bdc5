"""Reload of a running router (Reconfigure): what may change live, and what it does."""

from __future__ import annotations

import dataclasses

import pytest

from hatui.types import MonoUs
from hatui.vrrp import actions as act
from hatui.vrrp.inputs import AdvertReceived, Reconfigure, TimerFired, TrackChanged
from hatui.vrrp.spec import TrackRef, Vip, live_change, same_config
from hatui.vrrp.state import State

from .factory import VIP, advert, backup, master, spec

EXTRA = Vip(address="192.0.2.101", prefixlen=24)


def test_live_fields_and_identity_fields() -> None:
    base = spec()
    assert live_change(base, dataclasses.replace(base, priority=200))
    assert live_change(base, dataclasses.replace(base, vips=(VIP, EXTRA), preempt=False))
    for change in (
        {"vrid": 52},
        {"advert_int_us": 2_000_000},
        {"version": 3},
        {"auth_pass": "x"},
        {"unicast_peers": ("192.0.2.13",)},
        {"interface": "eth1"},
    ):
        assert not live_change(base, dataclasses.replace(base, **change)), change  # type: ignore[arg-type]
    assert same_config(base, dataclasses.replace(base, source="other.conf:9"))
    assert not same_config(base, dataclasses.replace(base, priority=101))


def test_master_keeps_state_and_vips_and_advertises_the_new_priority() -> None:
    r, now = master(spec(priority=150))
    out = r.handle(Reconfigure(spec=spec(priority=160)), MonoUs(now + 10))
    assert [type(a) for a in out] == [act.Log]  # no Transition, no priority 0, no VIP flap
    assert r.state is State.MASTER and r.effective_priority == 160
    at = r.deadline()
    assert at is not None
    assert r.handle(TimerFired(), at)[0] == act.SendAdvert(
        priority=160, interval_cs=100, addresses=("192.0.2.100",)
    )


def test_master_adds_and_removes_only_the_changed_vips() -> None:
    r, now = master(spec())
    out = r.handle(Reconfigure(spec=spec(vips=(VIP, EXTRA))), MonoUs(now + 10))
    assert act.AddVips(vips=(EXTRA,)) in out
    garps = [a for a in out if isinstance(a, act.SendGarp)]
    assert [g.vips for g in garps] == [(EXTRA,)]  # no gratuitous ARP for the VIP it held
    out = r.handle(Reconfigure(spec=spec(vips=(EXTRA,))), MonoUs(now + 20))
    assert act.RemoveVips(vips=(VIP,)) in out and not any(isinstance(a, act.AddVips) for a in out)
    at = r.deadline()
    assert at is not None
    assert r.handle(TimerFired(), at)[0].addresses == ("192.0.2.101",)  # type: ignore[union-attr]


def test_backup_changes_no_vips_and_a_higher_priority_preempts_by_the_rfc() -> None:
    r = backup(spec(priority=100))
    r.handle(AdvertReceived(advert=advert(priority=120)), MonoUs(1000))
    out = r.handle(Reconfigure(spec=spec(priority=130, vips=(VIP, EXTRA))), MonoUs(2000))
    assert not any(isinstance(a, act.AddVips | act.RemoveVips) for a in out)
    # The master's next advert (120) is now lower: discarded, so Master_Down runs out.
    r.handle(AdvertReceived(advert=advert(priority=120)), MonoUs(1_000_000))
    at = r.deadline()
    assert at is not None and at > 1_000_000
    r.handle(TimerFired(), at)
    assert r.state is State.MASTER


def test_tracked_results_survive_with_their_new_weight() -> None:
    s = spec(priority=100, track_scripts=(TrackRef(name="chk", weight=-20),))
    r, now = master(s)
    r.handle(TrackChanged(kind="script", name="chk", ok=False), MonoUs(now + 1))
    assert r.effective_priority == 80
    s2 = dataclasses.replace(s, track_scripts=(TrackRef(name="chk", weight=-50),))
    r.handle(Reconfigure(spec=s2), MonoUs(now + 2))
    assert r.effective_priority == 50  # still failing, now weighing -50


def test_an_identity_change_is_refused() -> None:
    r, now = master(spec())
    with pytest.raises(ValueError, match="restart the instance"):
        r.handle(Reconfigure(spec=spec(vrid=52)), MonoUs(now + 1))
