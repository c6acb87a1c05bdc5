"""Routers talking on the in-memory LAN: failover, release, preemption, exact timings."""

from __future__ import annotations

from hatui.vrrp.actions import AddVips, Discard, DiscardReason, SendAdvert, Transition
from hatui.vrrp.inputs import Release, Resume
from hatui.vrrp.machine import Router
from hatui.vrrp.sim import Lan, Packet
from hatui.vrrp.spec import Vip
from hatui.vrrp.state import State

from .factory import spec

A, B = "192.0.2.11", "192.0.2.12"


def pair(*, version: int = 2, interval_us: int = 1_000_000, **b_kw: object) -> Lan:
    lan = Lan()
    lan.add(
        "a", Router(spec(priority=150, version=version, advert_int_us=interval_us), primary_ip=A)
    )
    b_spec = spec(priority=100, version=version, advert_int_us=interval_us, **b_kw)
    lan.add("b", Router(b_spec, primary_ip=B))
    lan.start()
    return lan


def took_over_at(lan: Lan, node: str) -> int:
    times = [
        r.at
        for r in lan.records(Transition, node)
        if isinstance(r.action, Transition) and r.action.new is State.MASTER
    ]
    return times[-1]


def last_advert_at(lan: Lan, node: str) -> int:
    return max(r.at for r in lan.records(SendAdvert, node))


def test_higher_priority_wins_the_first_election() -> None:
    lan = pair()
    lan.run_until(10_000_000)
    assert lan.masters() == ["a"]
    assert took_over_at(lan, "a") == 3_414_062  # 3 s + (256 - 150) / 256 s
    assert lan.nodes["a"].vips_held and not lan.nodes["b"].vips_held


def test_v2_failover_after_master_dies_is_exactly_master_down_interval() -> None:
    lan = pair()
    lan.run_until(10_000_000)
    lan.crash("a")
    lan.run_until(20_000_000)
    assert lan.masters() == ["b"]
    assert took_over_at(lan, "b") == last_advert_at(lan, "a") + 3_609_375


def test_v3_failover_at_100ms_is_360937us() -> None:
    lan = pair(version=3, interval_us=100_000)
    lan.run_until(2_000_000)
    lan.crash("a")
    lan.run_until(4_000_000)
    assert took_over_at(lan, "b") == last_advert_at(lan, "a") + 360_937


def test_release_hands_over_after_skew_then_preempts_back_on_resume() -> None:
    lan = pair()
    lan.run_until(10_000_000)
    lan.send("a", Release())
    lan.run_until(10_000_000 + 609_374)  # b waits Skew_Time (priority 0 advert, 6.4.2)
    assert lan.masters() == []
    lan.run_until(20_000_000)
    assert lan.masters() == ["b"]
    assert took_over_at(lan, "b") == 10_000_000 + 609_375
    lan.send("a", Resume())
    lan.run_until(30_000_000)
    assert lan.masters() == ["a"]
    # a discards b's lower adverts and its own Master_Down_Interval (priority 150) runs out.
    assert took_over_at(lan, "a") == 20_000_000 + 3_414_062


def test_nopreempt_keeps_the_lower_master() -> None:
    lan = Lan()
    lan.add("a", Router(spec(priority=150, preempt=False), primary_ip=A))
    lan.add("b", Router(spec(priority=100), primary_ip=B))
    lan.start()
    lan.run_until(10_000_000)
    lan.send("a", Release())
    lan.run_until(15_000_000)
    lan.send("a", Resume())
    lan.run_until(40_000_000)
    assert lan.masters() == ["b"]


def test_vrids_do_not_interfere() -> None:
    lan = Lan()
    lan.add("a1", Router(spec(vrid=1, priority=200), primary_ip=A))
    lan.add("b1", Router(spec(vrid=1, priority=100), primary_ip=B))
    lan.add("a2", Router(spec(vrid=2, priority=100), primary_ip=A))
    lan.add("b2", Router(spec(vrid=2, priority=200), primary_ip=B))
    lan.start()
    lan.run_until(10_000_000)
    assert sorted(lan.masters()) == ["a1", "b2"]


def test_duplicated_and_reordered_adverts_change_nothing() -> None:
    def fate(packet: Packet) -> tuple[int, ...]:
        return (0, 0, 700_000)  # a copy now, a duplicate, a stale copy later

    lan = pair()
    lan.fate = fate
    lan.run_until(30_000_000)
    assert lan.masters() == ["a"]
    assert len(lan.records(AddVips)) == 1


def test_partition_makes_two_masters_and_healing_one() -> None:
    lan = pair()
    lan.run_until(10_000_000)
    lan.partition(["a"], ["b"])
    lan.run_until(20_000_000)
    assert sorted(lan.masters()) == ["a", "b"]
    lan.heal()
    lan.run_until(22_000_000)
    assert lan.masters() == ["a"]
    assert not lan.nodes["b"].vips_held


def test_restart_comes_back_as_backup_then_preempts() -> None:
    lan = pair()
    lan.run_until(10_000_000)
    lan.crash("a")
    lan.run_until(20_000_000)
    lan.restart("a")
    lan.run_until(21_000_000)
    assert lan.nodes["a"].router.state is State.BACKUP
    lan.run_until(40_000_000)
    assert lan.masters() == ["a"]


def test_ipv6_v3_pair_elects_and_fails_over() -> None:
    vips = (Vip(address="2001:db8::100", prefixlen=64),)
    lan = Lan()
    lan.add("a", Router(spec(vips=vips, version=3, priority=200), primary_ip="fe80::11"))
    lan.add("b", Router(spec(vips=vips, version=3, priority=100), primary_ip="fe80::12"))
    lan.start()
    lan.run_until(5_000_000)
    assert lan.masters() == ["a"]
    advert = lan.nodes["b"].router.status(lan.now).last_advert
    assert advert is not None and advert.ip == "fe80::11"
    lan.crash("a")
    lan.run_until(10_000_000)
    assert took_over_at(lan, "b") == last_advert_at(lan, "a") + 3_609_375


def test_v3_backup_learns_the_masters_interval() -> None:
    lan = Lan()
    lan.add("a", Router(spec(version=3, priority=200, advert_int_us=100_000), primary_ip=A))
    lan.add("b", Router(spec(version=3, priority=100, advert_int_us=1_000_000), primary_ip=B))
    lan.start()
    lan.run_until(2_000_000)
    status = lan.nodes["b"].router.status(lan.now)
    assert status.master_adver_interval_us == 100_000
    assert status.master_down_interval_us == 360_937
    lan.crash("a")
    lan.run_until(3_000_000)
    assert took_over_at(lan, "b") == last_advert_at(lan, "a") + 360_937


def test_v2_password_mismatch_means_two_masters_and_auth_discards() -> None:
    lan = Lan()
    lan.add("a", Router(spec(priority=200, auth_pass="one"), primary_ip=A))
    lan.add("b", Router(spec(priority=100, auth_pass="two"), primary_ip=B))
    lan.start()
    lan.run_until(10_000_000)
    assert sorted(lan.masters()) == ["a", "b"]
    reasons = {r.action.reason for r in lan.records(Discard) if isinstance(r.action, Discard)}
    assert reasons == {DiscardReason.AUTH}


def test_preempt_delay_after_restart_holds_off_then_preempts_v3() -> None:
    # keepalived.conf(5) preempt_delay: "the time in seconds to delay preempting compared
    # to if preempt_delay is not specified", counted from the lower-priority master first
    # heard; the delay must hold while that master keeps advertising every 100 ms.
    delay = 2_000_000
    lan = Lan()
    a_spec = spec(priority=150, version=3, advert_int_us=100_000, preempt_delay_us=delay)
    lan.add("a", Router(a_spec, primary_ip=A))
    lan.add("b", Router(spec(priority=100, version=3, advert_int_us=100_000), primary_ip=B))
    lan.start()
    lan.run_until(2_000_000)
    lan.crash("a")
    lan.run_until(4_000_000)
    assert lan.masters() == ["b"]
    lan.restart("a")
    restarted = lan.now
    lan.run_until(restarted + 10_000_000)
    assert lan.masters() == ["a"]
    first_heard = min(r.at for r in lan.records(SendAdvert, "b") if r.at >= restarted)
    down = 300_000 + (256 - 150) * 100_000 // 256  # RFC 5798 6.1, v3 at 0.1 s: 341406 us
    took = took_over_at(lan, "a") - first_heard
    # No sooner than the delay plus the wait without it, less the interval in which the
    # delay's end falls; never later than both in full.
    assert delay + down - 100_000 <= took <= delay + down


def test_the_address_owner_takes_over_at_startup_without_waiting() -> None:
    # RFC 5798 6.4.1: priority 255 goes to Master at startup, sending an advert at once;
    # the running master (priority 100) hears it and steps down (6.4.3).
    vips = (Vip(address="2001:db8::100", prefixlen=64),)
    lan = Lan()
    lan.add("owner", Router(spec(vips=vips, version=3, priority=255), primary_ip="fe80::11"))
    lan.add("b", Router(spec(vips=vips, version=3, priority=100), primary_ip="fe80::12"))
    lan.start("b")
    lan.run_until(10_000_000)
    assert lan.masters() == ["b"]
    lan.start("owner")
    assert took_over_at(lan, "owner") == 10_000_000
    lan.run_until(10_000_001)
    assert lan.masters() == ["owner"]
