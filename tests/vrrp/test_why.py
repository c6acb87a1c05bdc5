"""Why a node's instance changed state: RFC 8347's reason and the node's own evidence."""

from __future__ import annotations

from hatui.observe.events import Reason
from hatui.types import MonoUs
from hatui.vrrp.actions import Log, NearFailover, Transition
from hatui.vrrp.inputs import (
    AdvertReceived,
    LinkChanged,
    Pause,
    Reconfigure,
    Release,
    TimerFired,
    TrackChanged,
)
from hatui.vrrp.spec import TrackRef
from hatui.vrrp.state import State

from .factory import PEER, advert, backup, master, spec

CHK = (TrackRef(name="chk_web", weight=-60),)


def transition(out: list) -> Transition:  # type: ignore[type-arg]
    (t,) = [a for a in out if isinstance(a, Transition)]
    return t


def test_failing_script_then_higher_advert_is_preempted_with_the_scripts_evidence() -> None:
    """The issue's example: chk_web fails (exit 1), weight -60, 150 -> 90, and a peer at
    120 preempts us 266 ms later."""
    r, t0 = master(spec(name="VI_97", priority=150, track_scripts=CHK))
    fell = MonoUs(t0 + 50_000)
    out = r.handle(TrackChanged(kind="script", name="chk_web", ok=False, detail="exit 1"), fell)
    (log,) = out
    assert isinstance(log, Log)
    assert log.message == "priority 150 -> 90 (tracked script chk_web fails)"
    assert log.why == "VI_97: chk_web failed (exit 1) -> weight -60 -> priority 150 -> 90"
    out = r.handle(AdvertReceived(advert=advert(priority=120)), MonoUs(fell + 266_000))
    t = transition(out)
    assert (t.old, t.new, t.reason) == (State.MASTER, State.BACKUP, Reason.PREEMPTED)
    assert t.cause == f"higher priority advert from {PEER}"  # keepalived-like wording stays
    assert t.why == (
        f"VI_97: chk_web failed (exit 1) -> weight -60 -> priority 150 -> 90,"
        f" below {PEER}'s 120: preempted, 266 ms"
    )


def test_a_fall_before_this_term_is_not_the_why() -> None:
    r = backup(spec(name="VI_1", priority=150, track_scripts=CHK))
    r.handle(TrackChanged(kind="script", name="chk_web", ok=False, detail="exit 1"), MonoUs(1))
    now = r.deadline()
    assert now is not None
    r.handle(TimerFired(), now)  # master at 90, nobody else heard
    out = r.handle(AdvertReceived(advert=advert(priority=120)), MonoUs(now + 10_000))
    assert transition(out).why == f"VI_1: {PEER} advertises priority 120, above ours 90: preempted"


def test_silent_master_is_no_response_with_silence_and_master_down_interval() -> None:
    r = backup(spec(name="VI_1", priority=100))
    r.handle(AdvertReceived(advert=advert(priority=150)), MonoUs(1_000_000))
    now = r.deadline()
    assert now == 1_000_000 + 3_609_375  # RFC 3768 6.1 at priority 100
    t = transition(r.handle(TimerFired(), now))
    assert (t.new, t.reason) == (State.MASTER, Reason.NO_RESPONSE)
    assert t.why == (
        f"VI_1: no advert from {PEER} (priority 150) for 3609 ms, Master_Down_Interval"
        " 3609 ms: no-response, priority 100"
    )


def test_priority_zero_is_released_after_skew_time() -> None:
    r = backup(spec(name="VI_1", priority=100))
    r.handle(AdvertReceived(advert=advert(priority=150)), MonoUs(1_000_000))
    r.handle(AdvertReceived(advert=advert(priority=0)), MonoUs(2_000_000))
    now = r.deadline()
    assert now == 2_000_000 + 609_375
    t = transition(r.handle(TimerFired(), now))
    assert t.reason is Reason.RELEASED
    assert t.why == (
        f"VI_1: {PEER} sent priority 0; took over 609 ms later (Skew_Time 609 ms):"
        " released, priority 100"
    )


def test_preempting_a_lower_master_after_our_recovery_names_the_rise() -> None:
    r = backup(spec(name="VI_1", priority=150, track_scripts=CHK))
    r.handle(TrackChanged(kind="script", name="chk_web", ok=False, detail="exit 1"), MonoUs(1))
    r.handle(AdvertReceived(advert=advert(priority=120)), MonoUs(10_000))  # 120 >= 90
    r.handle(TrackChanged(kind="script", name="chk_web", ok=True, detail="exit 0"), MonoUs(20_000))
    r.handle(AdvertReceived(advert=advert(priority=120)), MonoUs(1_000_000))  # discarded
    now = r.deadline()
    assert now is not None
    t = transition(r.handle(TimerFired(), now))
    assert t.reason is Reason.PREEMPTED
    assert t.why.startswith(
        f"VI_1: chk_web recovered (exit 0) -> weight +60 -> priority 90 -> 150,"
        f" priority 150 above {PEER}'s 120: preempted after Master_Down_Interval"
    )


def test_fault_operator_and_reload_reasons() -> None:
    r, t0 = master(spec(name="VI_1", track_scripts=(TrackRef(name="chk", weight=0),)))
    timed_out = TrackChanged(kind="script", name="chk", ok=False, detail="timed out after 2 s")
    t = transition(r.handle(timed_out, MonoUs(t0 + 1)))
    assert (t.new, t.reason) == (State.FAULT, Reason.FAULT)
    assert (
        t.why == "VI_1: chk failed (timed out after 2 s) -> FAULT (weight 0) -> FAULT, priority 100"
    )

    r, t0 = master(spec(name="VI_1"))
    t = transition(r.handle(LinkChanged(up=False), MonoUs(t0 + 1)))
    assert (t.reason, t.why) == (Reason.FAULT, "VI_1: link down -> FAULT, priority 100")

    r, t0 = master(spec(name="VI_1"))
    t = transition(r.handle(Release(), MonoUs(t0 + 1)))
    assert t.reason is Reason.RELEASED
    r, t0 = master(spec(name="VI_1"))
    assert transition(r.handle(Pause(), MonoUs(t0 + 1))).reason is Reason.OPERATOR

    r, t0 = master(spec(name="VI_1", priority=150))
    out = r.handle(Reconfigure(spec=spec(name="VI_1", priority=100)), MonoUs(t0 + 1))
    (log,) = [a for a in out if isinstance(a, Log)]
    assert log.why == "VI_1: reload -> priority 150 -> 100"
    t = transition(r.handle(AdvertReceived(advert=advert(priority=120)), MonoUs(t0 + 2)))
    assert t.why == f"VI_1: reload -> priority 150 -> 100, below {PEER}'s 120: preempted, 0 ms"


def test_equality_of_transitions_ignores_the_annotations() -> None:
    a = Transition(old=State.BACKUP, new=State.MASTER, cause="x")
    assert a == Transition(
        old=State.BACKUP, new=State.MASTER, cause="x", reason=Reason.PREEMPTED, why="y"
    )


def test_master_down_timer_within_one_interval_of_expiry_is_a_near_failover() -> None:
    """v3 at 0.1 s, priority 100: Master_Down_Interval 300 + 156 * 100 / 256 ms (RFC 5798
    6.1). One lost advert (200 ms) is not near; two (300 ms, 60.9 ms from expiry) is."""
    r = backup(spec(name="VI_1", priority=100, version=3, advert_int_us=100_000))
    heard = advert(priority=150, version=3, interval_cs=10)
    r.handle(AdvertReceived(advert=heard), MonoUs(1_000_000))
    out = r.handle(AdvertReceived(advert=heard), MonoUs(1_200_000))
    assert not [a for a in out if isinstance(a, NearFailover)]
    out = r.handle(AdvertReceived(advert=heard), MonoUs(1_500_000))
    (near,) = [a for a in out if isinstance(a, NearFailover)]
    assert (near.ip, near.priority) == (PEER, 150)
    assert near.master_down_us == 300_000 + 156 * 100_000 // 256 == 360_937
    assert (near.silence_us, near.margin_us) == (300_000, 60_937)
    assert r.state is State.BACKUP
