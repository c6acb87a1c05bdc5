"""One time script per rule of the router state machine (RFC 3768, RFC 5798/9568, keepalived)."""

from __future__ import annotations

import pytest

from hatui.codec.frames import Auth, Family
from hatui.types import MonoUs
from hatui.vrrp.actions import (
    AddVips,
    Discard,
    DiscardReason,
    Log,
    LogLevel,
    Notify,
    RemoveVips,
    SendAdvert,
    SendGarp,
    Transition,
)
from hatui.vrrp.inputs import (
    AdvertReceived,
    LinkChanged,
    SetPriority,
    Shutdown,
    Startup,
    TimerFired,
)
from hatui.vrrp.machine import TRANSITIONS, Router
from hatui.vrrp.spec import GarpSpec, InitialState, Vip
from hatui.vrrp.state import State
from hatui.vrrp.status import TimerKind

from .factory import ADDRS, ME, PEER, VIPS, advert, backup, master, spec

S = State
MDI_100 = 3_609_375  # v2, 1 s, priority 100
SKEW_100 = 609_375


def us(n: int) -> MonoUs:
    return MonoUs(n)


def entering_master(cause: str, priority: int = 100, *, old: State = S.BACKUP) -> list[object]:
    return [
        Transition(old=old, new=S.MASTER, cause=cause),
        SendAdvert(priority=priority, interval_cs=100, addresses=ADDRS),
        AddVips(vips=VIPS),
        SendGarp(vips=VIPS, count=5),
        Notify(state="MASTER", priority=priority),
    ]


# -- Startup (RFC 5798 6.4.1) -------------------------------------------------------


def test_startup_goes_backup_and_arms_master_down() -> None:
    r = Router(spec(), primary_ip=ME)
    assert r.deadline() is None
    assert r.handle(Startup(), us(0)) == [
        Transition(old=S.INIT, new=S.BACKUP, cause="startup"),
        Notify(state="BACKUP", priority=100),
    ]
    assert r.deadline() == MDI_100


def test_startup_as_address_owner_is_master_at_once() -> None:
    r = Router(spec(priority=255), primary_ip=ME)
    assert r.handle(Startup(), us(5)) == entering_master("startup", 255, old=S.INIT)
    assert r.deadline() == 5 + 1_000_000


def test_initial_state_master_still_waits_as_backup() -> None:
    r = Router(spec(priority=254, initial_state=InitialState.MASTER), primary_ip=ME)
    actions = r.handle(Startup(), us(0))
    assert actions[0] == Transition(old=S.INIT, new=S.BACKUP, cause="startup")
    assert r.deadline() == 3_000_000 + 2 * 1_000_000 // 256


def test_adverts_before_startup_are_discarded() -> None:
    r = Router(spec(), primary_ip=ME)
    out = r.handle(AdvertReceived(advert=advert()), us(0))
    assert [type(a) for a in out] == [Discard]
    assert out[0].reason is DiscardReason.NOT_RUNNING  # type: ignore[union-attr]


def test_startup_twice_is_only_logged() -> None:
    r = backup()
    assert r.handle(Startup(), us(1)) == [
        Log(level=LogLevel.WARNING, message="startup ignored: already BACKUP")
    ]
    assert r.deadline() == MDI_100


# -- BACKUP (RFC 5798 6.4.2) ----------------------------------------------------------


def test_backup_master_down_timer_fires_to_master() -> None:
    r = backup()
    now = r.deadline()
    assert now == MDI_100
    assert r.handle(TimerFired(), now) == entering_master("master_down timer")
    assert r.deadline() == MDI_100 + 1_000_000


def test_timer_fired_early_does_nothing() -> None:
    r = backup()
    assert r.handle(TimerFired(), us(MDI_100 - 1)) == []
    assert r.state is S.BACKUP


def test_backup_priority_zero_takes_over_after_skew() -> None:
    r = backup()
    assert r.handle(AdvertReceived(advert=advert(priority=0)), us(1_000_000)) == []
    assert r.deadline() == 1_000_000 + SKEW_100
    now = r.deadline()
    assert now is not None
    assert r.handle(TimerFired(), now) == entering_master(f"master {PEER} released (priority 0)")


def test_a_released_master_is_no_longer_named_master() -> None:
    # RFC 5798 6.4.2: priority 0 means the master stopped participating; until a backup
    # takes over (Skew_Time later) there is no master, and the status says so.
    r = backup()
    r.handle(AdvertReceived(advert=advert(priority=150)), us(1_000_000))
    assert r.status(us(1_000_000)).master_ip == PEER
    r.handle(AdvertReceived(advert=advert(priority=0)), us(2_000_000))
    assert r.status(us(2_000_000)).master_ip is None
    now = r.deadline()
    assert now is not None
    r.handle(TimerFired(), now)
    assert r.status(now).master_ip == ME


@pytest.mark.parametrize(("priority", "preempt"), [(50, False), (150, True), (100, True)])
def test_takeover_after_a_silent_master_says_so_not_preempting(
    priority: int, preempt: bool
) -> None:
    # A nopreempt backup accepts a lower master: when that master crashes, nothing was
    # preempted. The cause names the silence, as the observer's "timeout" does.
    r = backup(spec(preempt=preempt))
    r.handle(AdvertReceived(advert=advert(priority=priority)), us(1_000_000))
    now = r.deadline()
    assert now == 1_000_000 + MDI_100
    assert r.handle(TimerFired(), now) == entering_master(
        f"master_down timer: no advert from {PEER} for 3609 ms"
    )


def test_preempting_is_named_only_while_discarding_a_lower_master() -> None:
    r = backup()
    r.handle(AdvertReceived(advert=advert(priority=50)), us(1_000_000))  # discarded
    r.handle(AdvertReceived(advert=advert(priority=150)), us(2_000_000))  # resets
    now = r.deadline()
    assert now is not None
    assert r.handle(TimerFired(), now)[0] == Transition(
        old=S.BACKUP, new=S.MASTER, cause=f"master_down timer: no advert from {PEER} for 3609 ms"
    )


def test_backup_higher_priority_resets_master_down() -> None:
    r = backup()
    assert r.handle(AdvertReceived(advert=advert(priority=150)), us(2_000_000)) == []
    assert r.deadline() == 2_000_000 + MDI_100
    assert r.status(us(2_000_000)).master_ip == PEER


def test_backup_equal_priority_resets_master_down() -> None:
    r = backup()
    r.handle(AdvertReceived(advert=advert(priority=100)), us(2_000_000))
    assert r.deadline() == 2_000_000 + MDI_100


def test_backup_v3_learns_master_interval_and_logs_mismatch() -> None:
    r = backup(spec(version=3, advert_int_us=1_000_000))
    out = r.handle(AdvertReceived(advert=advert(version=3, interval_cs=10)), us(1_000_000))
    assert out == [
        Log(level=LogLevel.WARNING, message=f"advert interval 0.1 s from {PEER}, ours 1 s")
    ]
    assert r.deadline() == 1_000_000 + 360_937
    assert r.status(us(1_000_000)).master_adver_interval_us == 100_000
    # Logged once per sender and change, not on every advert.
    assert r.handle(AdvertReceived(advert=advert(version=3, interval_cs=10)), us(1_100_000)) == []


def test_backup_lower_priority_is_discarded_and_preempts() -> None:
    r = backup()
    out = r.handle(AdvertReceived(advert=advert(priority=50)), us(1_000_000))
    assert out == [
        Discard(reason=DiscardReason.LOWER_PRIORITY, detail=f"priority 50 from {PEER}, ours 100")
    ]
    assert r.deadline() == MDI_100  # not reset
    assert r.handle(TimerFired(), us(MDI_100)) == entering_master(
        f"master_down timer: preempting {PEER} (priority 50)"
    )


def test_backup_nopreempt_lets_lower_priority_master_stay() -> None:
    r = backup(spec(preempt=False))
    assert r.handle(AdvertReceived(advert=advert(priority=50)), us(1_000_000)) == []
    assert r.deadline() == 1_000_000 + MDI_100


STARTED = "preempt delay started (10 s): lower priority master 192.0.2.12 (50), ours 100"


def test_preempt_delay_starts_when_a_lower_priority_master_is_first_heard() -> None:
    # keepalived 2.2.7 vrrp_state_backup: the delay runs from the first lower advert.
    r = backup(spec(preempt_delay_us=10_000_000))
    low = AdvertReceived(advert=advert(priority=50))
    assert r.handle(low, us(1_000_000)) == [Log(level=LogLevel.INFO, message=STARTED)]
    for t in range(2, 11):
        assert r.handle(low, us(t * 1_000_000)) == []
    assert r.deadline() == 11_000_000
    assert r.status(us(10_000_000)).next_timer is TimerKind.PREEMPT_DELAY
    assert r.status(us(10_000_000)).preempt_until == 11_000_000
    assert r.handle(TimerFired(), us(11_000_000)) == [
        Log(level=LogLevel.INFO, message="preempt delay over")
    ]
    out = r.handle(low, us(11_000_000))
    assert [a.reason for a in out if isinstance(a, Discard)] == [DiscardReason.LOWER_PRIORITY]
    assert r.deadline() == 10_000_000 + MDI_100
    assert r.handle(TimerFired(), us(10_000_000 + MDI_100))[0].new is S.MASTER  # type: ignore[union-attr]


def test_preempt_delay_does_not_hold_a_startup_without_any_master() -> None:
    r = backup(spec(preempt_delay_us=10_000_000))
    assert r.deadline() == MDI_100
    assert r.handle(TimerFired(), us(MDI_100))[0].new is S.MASTER  # type: ignore[union-attr]


def test_preempt_delay_stops_on_a_higher_master_and_restarts_later() -> None:
    r = backup(spec(preempt_delay_us=10_000_000))
    r.handle(AdvertReceived(advert=advert(priority=50)), us(1_000_000))
    assert r.handle(AdvertReceived(advert=advert(priority=150)), us(2_000_000)) == [
        Log(level=LogLevel.INFO, message="preempt delay stopped: master priority >= ours")
    ]
    assert r.status(us(2_000_000)).preempt_until is None
    assert r.deadline() == 2_000_000 + MDI_100
    assert r.handle(AdvertReceived(advert=advert(priority=50)), us(3_000_000)) == [
        Log(level=LogLevel.INFO, message=STARTED)
    ]
    assert r.status(us(3_000_000)).preempt_until == 13_000_000


def test_preempt_delay_starts_afresh_after_leaving_master() -> None:
    r, t0 = master(spec(preempt_delay_us=10_000_000))
    r.handle(AdvertReceived(advert=advert(priority=150)), us(t0 + 1))
    assert r.state is S.BACKUP
    assert r.status(us(t0 + 1)).preempt_until is None
    out = r.handle(AdvertReceived(advert=advert(priority=50)), us(t0 + 2))
    assert out == [Log(level=LogLevel.INFO, message=STARTED)]


def test_preempt_delay_starts_afresh_after_a_term_as_master() -> None:
    # keepalived 2.2.7 vrrp_state_backup: each BACKUP term starts preempt_delay at its own
    # first lower-priority master; a delay that ran out in an earlier term counts for none.
    r = backup(spec(preempt_delay_us=10_000_000))
    low = AdvertReceived(advert=advert(priority=50))
    r.handle(low, us(1_000_000))  # the delay runs to 11 s
    for t in range(2, 12):
        r.handle(low, us(t * 1_000_000))
    for _ in range(2):  # the delay's end, then the Master_Down_Timer
        now = r.deadline()
        assert now is not None
        r.handle(TimerFired(), now)
    assert (r.state, now) == (S.MASTER, 10_000_000 + MDI_100)  # preempted after the delay
    now = us(10_000_000 + MDI_100)
    r.handle(AdvertReceived(advert=advert(priority=150)), us(now + 1))
    assert r.state is S.BACKUP
    later = us(now + 2_000_000)
    assert r.handle(low, later) == [Log(level=LogLevel.INFO, message=STARTED)]
    assert r.status(later).preempt_until == later + 10_000_000


# -- MASTER (RFC 5798 6.4.3, RFC 9568) -------------------------------------------------


def test_master_advert_timer_sends_and_rearms() -> None:
    r, t0 = master()
    now = r.deadline()
    assert now == t0 + 1_000_000
    assert r.handle(TimerFired(), now) == [
        SendAdvert(priority=100, interval_cs=100, addresses=ADDRS)
    ]
    assert r.deadline() == now + 1_000_000


def test_master_hearing_priority_zero_advertises_at_once() -> None:
    r, t0 = master()
    now = us(t0 + 300_000)
    assert r.handle(AdvertReceived(advert=advert(priority=0)), now) == [
        SendAdvert(priority=100, interval_cs=100, addresses=ADDRS)
    ]
    assert r.deadline() == now + 1_000_000


def test_v3_ipv6_master_hearing_priority_zero_advertises_at_once_and_rearms() -> None:
    # RFC 5798 6.4.3: "If the Priority in the ADVERTISEMENT is zero, then: Send an
    # ADVERTISEMENT; Reset the Adver_Timer to Advertisement_Interval". A priority 0 is
    # lower than any priority, yet it is not the lower-priority case (no GARP, no notify).
    vip6 = Vip(address="2001:db8::100", prefixlen=64)
    s = spec(vips=(vip6,), version=3, advert_int_us=500_000, priority=200)
    r, t0 = master(s, ip="fe80::11")
    now = us(t0 + 120_000)
    leaving = advert(
        src="fe80::12",
        priority=0,
        interval_cs=50,
        version=3,
        family=Family.IPV6,
        dst_ip="ff02::12",
        addresses=("2001:db8::100",),
    )
    assert r.handle(AdvertReceived(advert=leaving), now) == [
        SendAdvert(priority=200, interval_cs=50, addresses=("2001:db8::100",))
    ]
    assert r.state is S.MASTER
    assert r.status(now).next_timer is TimerKind.ADVERT
    assert r.deadline() == now + 500_000


def test_master_hearing_higher_priority_steps_down() -> None:
    r, t0 = master()
    now = us(t0 + 300_000)
    assert r.handle(AdvertReceived(advert=advert(priority=150)), now) == [
        Transition(old=S.MASTER, new=S.BACKUP, cause=f"higher priority advert from {PEER}"),
        RemoveVips(vips=VIPS),
        Notify(state="BACKUP", priority=100),
    ]
    assert r.deadline() == now + MDI_100


def test_equal_priority_tie_break_compares_addresses_numerically() -> None:
    # "192.0.2.9" > "192.0.2.10" as text, but 10 is the higher address.
    r, t0 = master(ip="192.0.2.9")
    out = r.handle(AdvertReceived(advert=advert(src="192.0.2.10")), us(t0 + 1))
    assert out[0] == Transition(
        old=S.MASTER, new=S.BACKUP, cause="equal priority advert from higher address 192.0.2.10"
    )


def test_equal_priority_from_lower_address_is_answered() -> None:
    r, t0 = master(ip="192.0.2.10")
    out = r.handle(AdvertReceived(advert=advert(src="192.0.2.9")), us(t0 + 1))
    assert r.state is S.MASTER
    assert out[1:] == [
        SendAdvert(priority=100, interval_cs=100, addresses=ADDRS),
        SendGarp(vips=VIPS, count=5),
        Notify(state="MASTER_RX_LOWER_PRI", priority=100),
    ]


def test_master_hearing_lower_priority_reasserts_with_advert_and_garp() -> None:
    r, t0 = master()
    deadline = r.deadline()
    out = r.handle(AdvertReceived(advert=advert(priority=50)), us(t0 + 300_000))
    assert out == [
        Log(
            level=LogLevel.INFO,
            message=f"lower priority 50 advert from {PEER}, ours 100: reasserting mastership",
        ),
        SendAdvert(priority=100, interval_cs=100, addresses=ADDRS),
        SendGarp(vips=VIPS, count=5),
        Notify(state="MASTER_RX_LOWER_PRI", priority=100),
    ]
    assert r.state is S.MASTER
    assert r.deadline() == deadline


def test_lower_priority_garp_settings_and_second_burst() -> None:
    # keepalived garp_lower_prio_repeat / _delay, and lower_prio_no_advert.
    garp = GarpSpec(lower_prio_repeat=2, lower_prio_delay_us=7_000_000, master_delay_us=0)
    r, t0 = master(spec(garp=garp, lower_prio_no_advert=True))
    out = r.handle(AdvertReceived(advert=advert(priority=50)), us(t0 + 1))
    assert out == [
        Log(level=LogLevel.INFO, message=f"lower priority 50 advert from {PEER}, ours 100"),
        SendGarp(vips=VIPS, count=2),
        Notify(state="MASTER_RX_LOWER_PRI", priority=100),
    ]
    # Adverts go on every second; the second lower-priority burst comes 7 s later.
    later = us(t0 + 1 + 7_000_000)
    out = r.handle(TimerFired(), later)
    assert out.count(SendGarp(vips=VIPS, count=2)) == 1
    assert r.status(later).next_timer is TimerKind.ADVERT


def test_lower_priority_garp_repeat_zero_sends_none() -> None:
    r, t0 = master(spec(garp=GarpSpec(lower_prio_repeat=0)))
    out = r.handle(AdvertReceived(advert=advert(priority=50)), us(t0 + 1))
    assert [type(a) for a in out] == [Log, SendAdvert, Notify]


def test_higher_prio_send_advert_sends_one_before_yielding() -> None:
    r, t0 = master(spec(higher_prio_send_advert=True))
    out = r.handle(AdvertReceived(advert=advert(priority=150)), us(t0 + 1))
    assert out[:2] == [
        SendAdvert(priority=100, interval_cs=100, addresses=ADDRS),
        Transition(old=S.MASTER, new=S.BACKUP, cause=f"higher priority advert from {PEER}"),
    ]
    plain, t1 = master()
    assert type(plain.handle(AdvertReceived(advert=advert(priority=150)), us(t1 + 1))[0]) is (
        Transition
    )


def test_dont_track_primary_ignores_own_link() -> None:
    r, t0 = master(spec(dont_track_primary=True))
    out = r.handle(LinkChanged(up=False), us(t0 + 1))
    assert out == [Log(level=LogLevel.INFO, message="link down ignored (dont_track_primary)")]
    assert r.state is S.MASTER
    tracked, t1 = master()
    assert tracked.handle(LinkChanged(up=False), us(t1 + 1))[0] == Transition(
        old=S.MASTER, new=S.FAULT, cause="link down"
    )


def test_unicast_fault_no_peer_holds_fault() -> None:
    r = Router(spec(fault_no_peer=True), primary_ip=ME)
    assert r.handle(Startup(), us(0))[0] == Transition(
        old=S.INIT, new=S.FAULT, cause="startup: unicast_fault_no_peer: no unicast peer"
    )
    assert r.deadline() is None


def test_skip_check_adv_addr_checks_a_new_master_only() -> None:
    other = ("192.0.2.200",)
    r = backup(spec(skip_check_adv_addr=True))
    out = r.handle(AdvertReceived(advert=advert(priority=150, addresses=other)), us(1))
    assert [a.message for a in out if isinstance(a, Log)] == [
        f"address list mismatch from {PEER}: 192.0.2.200 vs ours 192.0.2.100"
    ]
    checked = backup()
    checked.handle(AdvertReceived(advert=advert(priority=150, addresses=other)), us(1))
    # The same master again: keepalived skips the check, so a changed list is not logged.
    again = ("192.0.2.201",)
    assert r.handle(AdvertReceived(advert=advert(priority=150, addresses=again)), us(2)) == []
    assert checked.handle(AdvertReceived(advert=advert(priority=150, addresses=again)), us(2))


def test_v3_master_learns_interval_when_preempted() -> None:
    r, t0 = master(spec(version=3))
    r.handle(AdvertReceived(advert=advert(version=3, priority=200, interval_cs=50)), us(t0))
    assert r.status(us(t0)).master_adver_interval_us == 500_000
    assert r.deadline() == t0 + 3 * 500_000 + 156 * 500_000 // 256


# -- receive checks (RFC 3768 7.1, RFC 5798 7.1) --------------------------------------


def test_v2_interval_mismatch_is_discarded() -> None:
    r = backup()
    out = r.handle(AdvertReceived(advert=advert(priority=200, interval_cs=200)), us(1_000_000))
    assert out == [
        Discard(reason=DiscardReason.INTERVAL, detail=f"advert interval 2 s from {PEER}, ours 1 s")
    ]
    assert r.deadline() == MDI_100  # not reset


def test_v2_simple_auth_password_must_match() -> None:
    s = spec(auth_pass="secret")
    r = backup(s)
    good = advert(priority=200, auth=Auth.SIMPLE, auth_data=b"secret\0\0")
    bad = advert(priority=200, auth=Auth.SIMPLE, auth_data=b"Secret\0\0")
    none = advert(priority=200)
    assert r.handle(AdvertReceived(advert=bad), us(1)) == [
        Discard(reason=DiscardReason.AUTH, detail=f"wrong password from {PEER}")
    ]
    assert r.handle(AdvertReceived(advert=none), us(2)) == [
        Discard(reason=DiscardReason.AUTH, detail=f"none authentication, ours simple from {PEER}")
    ]
    assert r.deadline() == MDI_100
    assert r.handle(AdvertReceived(advert=good), us(3)) == []
    assert r.deadline() == 3 + MDI_100


def test_v2_auth_password_compared_truncated_to_eight_bytes() -> None:
    r = backup(spec(auth_pass="longpassword"))
    ok = advert(priority=200, auth=Auth.SIMPLE, auth_data=b"longpass")
    assert r.handle(AdvertReceived(advert=ok), us(1)) == []


def test_advert_with_auth_when_we_have_none_is_discarded() -> None:
    r = backup()
    out = r.handle(
        AdvertReceived(advert=advert(auth=Auth.SIMPLE, auth_data=b"x\0\0\0\0\0\0\0")), us(1)
    )
    assert [a.reason for a in out if isinstance(a, Discard)] == [DiscardReason.AUTH]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"vrid": 52}, DiscardReason.VRID),
        ({"version": 3}, DiscardReason.VERSION),
        ({"src": ME}, DiscardReason.OWN),
        ({"interval_cs": 0}, DiscardReason.INTERVAL),
    ],
)
def test_foreign_adverts_are_discarded(changes: dict[str, object], reason: DiscardReason) -> None:
    r = backup()
    out = r.handle(AdvertReceived(advert=advert(**changes)), us(1))  # type: ignore[arg-type]
    assert [a.reason for a in out if isinstance(a, Discard)] == [reason]


def test_address_list_mismatch_is_logged_once_and_processed() -> None:
    r = backup()
    odd = advert(priority=200, addresses=("192.0.2.100", "192.0.2.101"))
    message = f"address list mismatch from {PEER}: 192.0.2.100, 192.0.2.101 vs ours 192.0.2.100"
    assert r.handle(AdvertReceived(advert=odd), us(1)) == [
        Log(level=LogLevel.WARNING, message=message)
    ]
    assert r.deadline() == 1 + MDI_100
    assert r.handle(AdvertReceived(advert=odd), us(2)) == []


# -- GARP (keepalived garp_master_*) ---------------------------------------------------


def test_garp_second_burst_and_refresh() -> None:
    garp = GarpSpec(master_delay_us=1_500_000, refresh_us=4_000_000, refresh_repeat=2)
    r, t0 = master(spec(garp=garp))
    advert_ = SendAdvert(priority=100, interval_cs=100, addresses=ADDRS)
    script = [
        (1_000_000, [advert_]),
        (1_500_000, [SendGarp(vips=VIPS, count=5)]),
        (2_000_000, [advert_]),
        (3_000_000, [advert_]),
        (4_000_000, [advert_, SendGarp(vips=VIPS, count=2)]),
        (5_000_000, [advert_]),
    ]
    for offset, expected in script:
        now = r.deadline()
        assert now == t0 + offset
        assert r.handle(TimerFired(), now) == expected
    assert r.status(us(t0)).next_timer is TimerKind.ADVERT


def test_garp_refresh_repeats_for_as_long_as_master() -> None:
    # keepalived.conf(5) vrrp_garp_master_refresh: "minimum time interval for refreshing
    # gratuitous ARPs while MASTER": a period, not a single late burst.
    garp = GarpSpec(master_delay_us=0, refresh_us=3_000_000, refresh_repeat=2)
    r, t0 = master(spec(garp=garp))
    refreshes: list[int] = []
    while (now := r.deadline()) is not None and now <= t0 + 10_000_000:
        out = r.handle(TimerFired(), now)
        refreshes += [now - t0 for a in out if a == SendGarp(vips=VIPS, count=2, interval_us=0)]
    assert refreshes == [3_000_000, 6_000_000, 9_000_000]


def test_no_second_burst_when_delay_is_zero() -> None:
    r, _ = master(spec(garp=GarpSpec(master_delay_us=0)))
    for _ in range(10):
        now = r.deadline()
        assert now is not None
        assert r.handle(TimerFired(), now) == [
            SendAdvert(priority=100, interval_cs=100, addresses=ADDRS)
        ]


@pytest.mark.parametrize(("version", "interval_us"), [(2, 1_000_000), (3, 300_000)])
def test_default_second_garp_burst_comes_5s_after_becoming_master(
    version: int, interval_us: int
) -> None:
    # keepalived.conf(5): vrrp_garp_master_delay, "delay for second set of gratuitous ARPs
    # after transition to MASTER ... (default: 5)", of vrrp_garp_master_repeat (default 5).
    r, t0 = master(spec(version=version, advert_int_us=interval_us))
    garps: list[tuple[int, SendGarp]] = []
    while (now := r.deadline()) is not None and now <= t0 + 12_000_000:
        out = r.handle(TimerFired(), now)
        garps += [(now - t0, a) for a in out if isinstance(a, SendGarp)]
    assert garps == [(5_000_000, SendGarp(vips=VIPS, count=5, interval_us=0))]


# -- Shutdown (RFC 5798 6.4.3) ---------------------------------------------------------


def test_shutdown_master_sends_priority_zero() -> None:
    r, t0 = master()
    assert r.handle(Shutdown(), us(t0 + 1)) == [
        Transition(old=S.MASTER, new=S.INIT, cause="shutdown"),
        SendAdvert(priority=0, interval_cs=100, addresses=ADDRS),
        RemoveVips(vips=VIPS),
        Notify(state="STOP", priority=100),
    ]
    assert r.deadline() is None


def test_shutdown_backup_only_notifies_stop_and_can_restart() -> None:
    r = backup()
    assert r.handle(Shutdown(), us(1)) == [
        Transition(old=S.BACKUP, new=S.INIT, cause="shutdown"),
        Notify(state="STOP", priority=100),
    ]
    assert r.deadline() is None
    assert r.handle(Shutdown(), us(2)) == []
    r.handle(Startup(), us(10))
    assert r.deadline() == 10 + MDI_100


def test_allow_list_has_no_self_loops() -> None:
    assert all(old is not new for old, new in TRANSITIONS)
    assert (S.INIT, S.INIT) not in TRANSITIONS


@pytest.mark.parametrize(
    ("version", "down_us", "skew_us"),
    [
        # RFC 3768 6.1 / keepalived: v2 skew is (256 - 100) / 256 s at any interval.
        (2, 6_609_375, 609_375),
        # RFC 5798 6.1: v3 scales the skew by the interval.
        (3, 7_218_750, 1_218_750),
    ],
)
def test_two_second_interval_master_down_and_skew(version: int, down_us: int, skew_us: int) -> None:
    r = backup(spec(advert_int_us=2_000_000, version=version))
    assert r.deadline() == down_us
    heard = advert(priority=150, interval_cs=200, version=version)
    r.handle(AdvertReceived(advert=heard), us(1_000_000))
    assert r.deadline() == 1_000_000 + down_us
    # Priority 0: the master leaves, we take over after Skew_Time only.
    r.handle(
        AdvertReceived(advert=advert(priority=0, interval_cs=200, version=version)), us(2_000_000)
    )
    assert r.deadline() == 2_000_000 + skew_us
    assert r.status(us(2_000_000)).skew_us == skew_us


def test_notify_priority_changes_reports_the_new_priority_by_state() -> None:
    r = backup(spec(notify_priority_changes=True))
    assert r.handle(SetPriority(value=90), us(1))[1:] == [
        Notify(state="BACKUP_PRIORITY", priority=90)
    ]
    m, t0 = master(spec(notify_priority_changes=True))
    assert m.handle(SetPriority(value=120), us(t0 + 1))[1:] == [
        Notify(state="MASTER_PRIORITY", priority=120)
    ]
    quiet = backup()
    assert [type(a) for a in quiet.handle(SetPriority(value=90), us(1))] == [Log]
