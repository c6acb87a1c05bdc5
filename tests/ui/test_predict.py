"""The confirmation dialog's sentence: who should take over, and when."""

from __future__ import annotations

from dataclasses import replace

from hatui.ui import scenario
from hatui.ui.model import node_view, observer_view
from hatui.ui.predict import describe, new_priority
from hatui.vrrp.inputs import AdjustPriority, Pause, Release, Resume, SendGarp, SetPriority


def _setup(state: str = "MASTER"):  # type: ignore[no-untyped-def]
    doc, _ = scenario.pair()
    inst = node_view(scenario.node(state)).instances[0]
    return inst, observer_view(doc).router(inst.router_key)


def test_release_names_the_peer_and_its_skew() -> None:
    inst, router = _setup()
    assert describe(Release(), inst, router) == (
        "VI_1 on eth0 will send priority 0; 192.0.2.12 should take over 192.0.2.100 within ~0.6 s."
    )


def test_pause_waits_for_master_down() -> None:
    inst, router = _setup()
    assert "192.0.2.12 should take over after its Master_Down_Interval, ~3.6 s" in describe(
        Pause(), inst, router
    )


def test_no_peer_heard_is_said_plainly() -> None:
    inst, router = _setup()
    assert router is not None
    alone = replace(router, senders=tuple(s for s in router.senders if s.ip == inst.primary_ip))
    assert "no other router has been heard: 192.0.2.100 may be left without an owner" in (
        describe(Release(), inst, alone)
    )
    assert "no other router has been heard" in describe(Release(), inst, None)


def test_priority_changes_predict_preemption() -> None:
    inst, router = _setup()
    # Override replaces the base; the failing tracker's -10 still applies.
    assert new_priority(inst, SetPriority(value=90)) == 80
    assert new_priority(inst, AdjustPriority(delta=-10)) == 130
    assert "192.0.2.12 (priority 100) should preempt" in describe(
        SetPriority(value=90), inst, router
    )
    assert "no VIP should move" in describe(AdjustPriority(delta=10), inst, router)
    backup, router = _setup("BACKUP")
    assert "VI_1 should preempt 192.0.2.12" in describe(AdjustPriority(delta=10), backup, router)


def test_backup_release_moves_nothing_and_garp_needs_master() -> None:
    inst, router = _setup("BACKUP")
    assert "no VIP moves now" in describe(Release(), inst, router)
    assert "only by the master" in describe(SendGarp(), inst, router)
    assert "advertise again" in describe(Resume(), inst, router)
