"""vrrp_sync_group: the router's side (WantMaster, SyncGroupChanged), the coordinator, a LAN."""

from __future__ import annotations

import pytest

from hatui.types import MonoUs
from hatui.vrrp.actions import RemoveVips, SendAdvert, Transition, WantMaster
from hatui.vrrp.group import Member, SyncGroup
from hatui.vrrp.inputs import (
    AdvertReceived,
    LinkChanged,
    Pause,
    Startup,
    SyncGroupChanged,
    TimerFired,
)
from hatui.vrrp.machine import Router
from hatui.vrrp.sim import Lan
from hatui.vrrp.spec import Vip
from hatui.vrrp.state import State

from .factory import ME, advert, spec

S = State
MDI_100 = 3_609_375  # v2, 1 s, priority 100


def grouped(name: str = "VI_1", **kw: object) -> Router:
    r = Router(spec(name=name, sync_group="G", **kw), primary_ip=ME)
    r.handle(Startup(), MonoUs(0))
    return r


def go(state: State, member: str, cause: str = "why") -> SyncGroupChanged:
    return SyncGroupChanged(state=state, member=member, cause=cause)


# -- the router's side --------------------------------------------------------------


def test_grouped_backup_asks_instead_of_taking_over_and_retries() -> None:
    r = grouped()
    assert r.handle(TimerFired(), MonoUs(MDI_100)) == [WantMaster(cause="master_down timer")]
    assert r.state is S.BACKUP and r.wants_master
    assert r.deadline() == 2 * MDI_100  # keepalived re-arms and asks again


def test_group_consent_to_its_own_request_enters_master_with_its_own_cause() -> None:
    r = grouped()
    r.handle(TimerFired(), MonoUs(MDI_100))
    out = r.handle(go(S.MASTER, "VI_1"), MonoUs(MDI_100))
    assert out[0] == Transition(old=S.BACKUP, new=S.MASTER, cause="master_down timer")
    assert not r.wants_master


def test_consent_without_a_request_is_ignored() -> None:
    r = grouped()
    assert r.handle(go(S.MASTER, "VI_1"), MonoUs(5)) == []
    assert r.state is S.BACKUP


def test_a_live_master_withdraws_the_request() -> None:
    r = grouped()
    r.handle(TimerFired(), MonoUs(MDI_100))
    r.handle(AdvertReceived(advert=advert(priority=150)), MonoUs(MDI_100 + 10))
    assert not r.wants_master


def test_forced_master_records_the_group_cause() -> None:
    r = grouped()
    cause = "sync group G: VI_2 became MASTER"
    out = r.handle(go(S.MASTER, "VI_2", cause), MonoUs(7))
    assert out[0] == Transition(old=S.BACKUP, new=S.MASTER, cause=cause)
    assert r.state is S.MASTER and r.deadline() == 7 + 1_000_000


def test_forced_master_is_refused_while_paused() -> None:
    r = grouped()
    r.handle(Pause(), MonoUs(1))
    out = r.handle(go(S.MASTER, "VI_2"), MonoUs(2))
    assert r.state is S.BACKUP and len(out) == 1 and "pause" in str(out[0])


def test_forced_backup_demotes_a_master_only() -> None:
    r = grouped()
    r.handle(go(S.MASTER, "VI_2"), MonoUs(0))
    out = r.handle(go(S.BACKUP, "VI_2", "sync group G: VI_2 left MASTER"), MonoUs(9))
    assert out[0] == Transition(old=S.MASTER, new=S.BACKUP, cause="sync group G: VI_2 left MASTER")
    assert isinstance(out[1], RemoveVips)
    assert r.handle(go(S.BACKUP, "VI_2"), MonoUs(10)) == []  # already BACKUP


def test_forced_fault_holds_until_the_group_recovers() -> None:
    r = grouped()
    r.handle(go(S.MASTER, "VI_2"), MonoUs(0))
    cause = "sync group G: VI_2 is in FAULT"
    out = r.handle(go(S.FAULT, "VI_2", cause), MonoUs(5))
    assert out[0] == Transition(old=S.MASTER, new=S.FAULT, cause=cause)
    assert r.group_fault and r.own_faults == () and r.status(MonoUs(5)).faults == (cause,)
    r.handle(LinkChanged(up=False), MonoUs(6))
    r.handle(LinkChanged(up=True), MonoUs(7))
    assert r.state is S.FAULT  # its own link is back, the group still holds it
    out = r.handle(go(S.BACKUP, "VI_2", "sync group G: VI_2 recovered"), MonoUs(8))
    assert out[0] == Transition(old=S.FAULT, new=S.BACKUP, cause="sync group G: VI_2 recovered")
    assert r.deadline() == 8 + MDI_100


def test_group_change_to_init_is_a_construction_error() -> None:
    with pytest.raises(ValueError):
        SyncGroupChanged(state=S.INIT, member="VI_1", cause="x")


# -- the coordinator ----------------------------------------------------------------


def view(**states: Member) -> dict[str, Member]:
    return dict(states)


B = Member(state=S.BACKUP)
M = Member(state=S.MASTER)


def test_master_is_agreed_only_when_every_member_wants_it() -> None:
    g = SyncGroup("G", ("VI_1", "VI_2"))
    want = [WantMaster(cause="master_down timer")]
    step = g.follow("VI_1", want, view(VI_1=Member(state=S.BACKUP, wants_master=True), VI_2=B))
    assert step.inputs == () and step.entered is None
    wanting = Member(state=S.BACKUP, wants_master=True)
    step = g.follow("VI_2", want, view(VI_1=wanting, VI_2=wanting))
    agreed = "sync group G: every member wants MASTER"
    assert step.inputs == (("VI_2", go(S.MASTER, "VI_2", agreed)),)


def test_of_three_members_two_wanting_master_is_not_enough() -> None:
    # keepalived vrrp_sync.c vrrp_sync_can_goto_master: "Only sync to master if everyone
    # wants to, i.e. prefer backup state to avoid thrashing". With three members, one
    # other wanting MASTER is not every other.
    g = SyncGroup("G", ("VI_1", "VI_2", "VI_3"))
    want = [WantMaster(cause="master_down timer")]
    wanting = Member(state=S.BACKUP, wants_master=True)
    step = g.follow("VI_1", want, view(VI_1=wanting, VI_2=wanting, VI_3=B))
    assert step.inputs == () and step.entered is None
    step = g.follow("VI_3", want, view(VI_1=wanting, VI_2=wanting, VI_3=wanting))
    agreed = "sync group G: every member wants MASTER"
    assert step.inputs == (("VI_3", go(S.MASTER, "VI_3", agreed)),)


def test_a_member_entering_master_moves_the_others_once() -> None:
    g = SyncGroup("G", ("VI_1", "VI_2", "VI_3"))
    g.follow(
        "VI_1",
        [Transition(old=S.INIT, new=S.BACKUP, cause="startup")],
        view(VI_1=B, VI_2=B, VI_3=B),
    )
    step = g.follow(
        "VI_2", [Transition(old=S.BACKUP, new=S.MASTER, cause="x")], view(VI_1=B, VI_2=M, VI_3=B)
    )
    forced = go(S.MASTER, "VI_2", "sync group G: VI_2 became MASTER")
    assert step.inputs == (("VI_1", forced), ("VI_3", forced)) and step.entered is S.MASTER
    # The forced transitions come back: the group is already MASTER, nothing more.
    again = g.follow(
        "VI_1", [Transition(old=S.BACKUP, new=S.MASTER, cause="f")], view(VI_1=M, VI_2=M, VI_3=B)
    )
    assert again.inputs == () and again.entered is None


def test_a_master_falling_back_takes_the_group_to_backup() -> None:
    g = SyncGroup("G", ("VI_1", "VI_2"))
    g.follow("VI_1", [Transition(old=S.BACKUP, new=S.MASTER, cause="x")], view(VI_1=M, VI_2=B))
    step = g.follow(
        "VI_2", [Transition(old=S.MASTER, new=S.BACKUP, cause="y")], view(VI_1=M, VI_2=B)
    )
    assert step.inputs == (("VI_1", go(S.BACKUP, "VI_2", "sync group G: VI_2 left MASTER")),)
    assert step.entered is S.BACKUP


def test_a_master_shutting_down_does_not_move_the_group() -> None:
    # A member stopping (MASTER -> INIT: its priority 0 advert hands its VRID over) is not
    # the group falling back: the other members stay MASTER (module rule "Loops").
    g = SyncGroup("G", ("VI_1", "VI_2"))
    g.follow("VI_1", [Transition(old=S.BACKUP, new=S.MASTER, cause="x")], view(VI_1=M, VI_2=B))
    init = Member(state=S.INIT)
    step = g.follow(
        "VI_2", [Transition(old=S.MASTER, new=S.INIT, cause="shutdown")], view(VI_1=M, VI_2=init)
    )
    assert step.inputs == () and step.entered is None
    assert g.state is S.MASTER


def test_fault_holds_the_group_until_no_member_has_a_fault_of_its_own() -> None:
    g = SyncGroup("G", ("VI_1", "VI_2"))
    failed = Member(state=S.FAULT, own_fault=True)
    step = g.follow("VI_1", [], view(VI_1=failed, VI_2=M))
    held = go(S.FAULT, "VI_1", "sync group G: VI_1 is in FAULT")
    assert step.inputs == (("VI_2", held),) and step.entered is S.FAULT
    forced = Member(state=S.FAULT, group_fault=True)
    assert g.follow("VI_2", [], view(VI_1=failed, VI_2=forced)).inputs == ()
    step = g.follow("VI_1", [], view(VI_1=B, VI_2=forced))
    assert step.inputs == (("VI_2", go(S.BACKUP, "VI_1", "sync group G: VI_1 recovered")),)
    assert step.entered is S.BACKUP


# -- on the LAN ---------------------------------------------------------------------

A, B_IP = "192.0.2.11", "192.0.2.12"
VIP2 = (Vip(address="192.0.2.101", prefixlen=24),)


def transitions(lan: Lan, node: str | None = None) -> list[tuple[str, int, Transition]]:
    return [
        (r.node, r.at, r.action)
        for r in lan.records(Transition, node)
        if isinstance(r.action, Transition)
    ]


def grouped_pair() -> Lan:
    """Hosts a (priority 150) and b (100), each with VI_1 (VRID 51) and VI_2 (VRID 52)."""
    lan = Lan()
    for host, ip, prio in (("a", A, 150), ("b", B_IP, 100)):
        lan.add(f"{host}1", Router(spec(priority=prio, sync_group="G"), primary_ip=ip))
        s2 = spec(name="VI_2", vrid=52, vips=VIP2, priority=prio, sync_group="G")
        lan.add(f"{host}2", Router(s2, primary_ip=ip))
        lan.group("G", f"{host}1", f"{host}2")
    lan.start()
    return lan


def test_group_elects_together_at_the_first_master_down() -> None:
    lan = grouped_pair()
    lan.run_until(10_000_000)
    assert sorted(lan.masters()) == ["a1", "a2"]
    times = {node: at for node, at, t in transitions(lan) if t.new is S.MASTER}
    assert times == {"a1": 3_414_062, "a2": 3_414_062}


def test_losing_only_vi1_adverts_does_not_split_the_group() -> None:
    lan = grouped_pair()
    lan.run_until(10_000_000)
    lan.fate = lambda p: () if p.sender == "a1" else (0,)
    lan.run_until(30_000_000)
    # keepalived prefers BACKUP to thrashing: b's VI_1 asks, VI_2 still hears a master.
    assert sorted(lan.masters()) == ["a1", "a2"]
    assert lan.nodes["b1"].router.wants_master
    assert lan.records(WantMaster, "b1") and not lan.records(Transition, "b2")[1:]


def test_vi1_failing_on_the_master_moves_both_instances() -> None:
    lan = grouped_pair()
    lan.run_until(10_000_000)
    last = max(r.at for r in lan.records() if r.node == "a1" and isinstance(r.action, SendAdvert))
    lan.at(10_000_000, "a1", LinkChanged(up=False))
    lan.run_until(20_000_000)
    assert sorted(lan.masters()) == ["b1", "b2"]
    assert lan.states()["a1"] is S.FAULT and lan.states()["a2"] is S.FAULT
    assert not lan.nodes["a2"].vips_held and lan.nodes["b2"].vips_held
    moved = {n: at for n, at, t in transitions(lan) if n in ("b1", "b2") and t.new is S.MASTER}
    assert moved == {"b1": last + MDI_100, "b2": last + MDI_100}
    assert transitions(lan, "a2")[-1][2] == Transition(
        old=S.MASTER, new=S.FAULT, cause="sync group G: VI_1 is in FAULT"
    )
    # VI_1's link comes back: a's group recovers and preempts back as one.
    lan.at(20_000_000, "a1", LinkChanged(up=True))
    lan.run_until(40_000_000)
    assert sorted(lan.masters()) == ["a1", "a2"]
    assert lan.states()["b1"] is S.BACKUP and lan.states()["b2"] is S.BACKUP
    entered = [state for _, _, state in lan.group_trace]
    assert entered.count(S.FAULT) == 1 and entered[-2:] == [S.MASTER, S.BACKUP]
