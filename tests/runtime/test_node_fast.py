"""The node's steady path (a master's lone Adver_Timer through Router.advert_fired): taken
when it may be, and the full handle() path whenever it may not."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import replace

import pytest

from hatui.errors import RuntimeFault
from hatui.runtime.node import Counts, Node
from hatui.types import MonoUs
from hatui.vrrp import actions as act
from hatui.vrrp import inputs as inp
from hatui.vrrp.group import Member, Step, SyncGroup
from hatui.vrrp.machine import Router
from hatui.vrrp.spec import GarpSpec, InstanceSpec, NodeSpec, Vip
from hatui.vrrp.state import State
from hatui.vrrp.status import TimerKind

from .test_node import FakeIO, ManualScheduler, advert, make_node, many, stall
from .test_node_group import START
from .test_node_group import make_node as make_group_node

QUIET = GarpSpec(master_delay_us=0)
MASTER_AT = 1_000_000 + 360_937  # v3 0.1 s, priority 100, alone


class Calls:
    """Counts the router's TimerFired inputs that went through handle()."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.timer_fired = 0
        handle = Router.handle

        def counting(router: Router, event: inp.Input, now: MonoUs) -> list[act.Action]:
            if isinstance(event, inp.TimerFired):
                self.timer_fired += 1
            return handle(router, event, now)

        monkeypatch.setattr(Router, "handle", counting)


def adverts(io: FakeIO) -> list[object]:
    return [p for kind, p in io.log if kind == "advert"]


def master_for_a_second(
    monkeypatch: pytest.MonkeyPatch, garp: GarpSpec
) -> tuple[Node, FakeIO, ManualScheduler, Calls]:
    """One instance alone: MASTER, then one second of its adverts, with handle() counted
    over that second only."""
    node, io, sched = make_node(garp=garp)
    node.start()
    sched.run_until(MASTER_AT)
    calls = Calls(monkeypatch)
    io.log.clear()
    sched.run_until(MASTER_AT + 1_000_000)
    return node, io, sched, calls


def test_a_lone_masters_adverts_skip_handle_and_keep_their_grid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    node, io, sched, calls = master_for_a_second(monkeypatch, QUIET)
    assert adverts(io) == [100] * 10
    assert calls.timer_fired == 0  # all ten by the short way
    assert node.counters["adverts_out"] == 11 and node.instance_stats("VI_1")["advert_sent"] == 11
    assert node.router("VI_1").deadline() == MASTER_AT + 1_100_000
    assert sched.pending() == 1


def test_a_pending_garp_timer_sends_adverts_the_long_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A refresh every 250 ms beside the 100 ms Adver_Timer: the router declines the short way.
    refresh = GarpSpec(master_delay_us=0, refresh_us=250_000)
    _node, io, _sched, calls = master_for_a_second(monkeypatch, refresh)
    assert adverts(io) == [100] * 10
    assert sum(1 for kind, _ in io.log if kind == "garp") == 4
    assert calls.timer_fired >= 10


def test_a_priority_change_between_adverts_goes_out_next() -> None:
    node, io, sched = make_node(garp=QUIET)
    node.start()
    sched.run_until(MASTER_AT + 150_000)
    node.command("VI_1", inp.SetPriority(value=150))
    io.log.clear()
    sched.run_until(MASTER_AT + 300_000)
    assert adverts(io) == [150, 150]


def test_a_higher_master_heard_between_adverts_stops_them() -> None:
    node, io, sched = make_node(garp=QUIET)
    node.start()
    sched.run_until(MASTER_AT + 150_000)
    node.on_frame("eth0", advert("192.0.2.12", 200), False)
    assert node.router("VI_1").state is State.BACKUP
    io.log.clear()
    sched.run_until(MASTER_AT + 300_000)  # before its Master_Down
    assert adverts(io) == []


class FailingIO(FakeIO):
    def send_advert(self, spec: InstanceSpec, primary_ip: str, advert: act.SendAdvert) -> None:
        raise RuntimeFault("network is down")


def test_a_failed_send_on_the_short_way_is_counted_and_the_timer_runs_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    node, _io, sched = make_node(garp=QUIET)
    node.start()
    sched.run_until(MASTER_AT)
    failing = FailingIO()
    node.io = failing
    events: list[str] = []
    node.listeners.append(lambda e: events.append(e.kind))
    calls = Calls(monkeypatch)
    sched.run_until(MASTER_AT + 300_000)
    assert calls.timer_fired == 0
    assert node.counters["io_errors"] == 3
    assert events == ["error"] * 3
    assert node.router("VI_1").deadline() == MASTER_AT + 400_000
    assert sched.pending() == 1


def test_sync_group_members_advertise_the_long_way_so_the_group_hears_each_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    node, _io, sched = make_group_node()
    node.start()
    mdi = 360_937
    sched.run_until(START + mdi + 5_100_000)  # masters, the second GARP burst done
    heard: list[str] = []
    follow = SyncGroup.follow

    def spying(
        group: SyncGroup, member: str, actions: Sequence[act.Action], view: dict[str, Member]
    ) -> Step:
        heard.append(member)
        return follow(group, member, actions, view)

    monkeypatch.setattr(SyncGroup, "follow", spying)
    sched.run_until(START + mdi + 6_100_000)
    assert sorted(set(heard)) == ["VI_1", "VI_2"]
    assert len(heard) == 20  # every advert of both members, one second at 0.1 s


def test_a_reload_between_adverts_sends_the_new_vips_by_the_short_way() -> None:
    """A reload's new spec makes the router's advert memo miss: the new VIPs go out."""
    node, _io, sched = make_node(garp=QUIET)
    node.start()
    sched.run_until(MASTER_AT + 50_000)
    old = node.router("VI_1").spec
    more = (*old.vips, Vip(address="192.0.2.101", prefixlen=24))
    sent: list[tuple[str, ...]] = []

    class Recording(FakeIO):
        def send_advert(self, spec: InstanceSpec, primary_ip: str, advert: act.SendAdvert) -> None:
            sent.append(advert.addresses)

    node.io = Recording()
    assert node.reload(NodeSpec(instances=(replace(old, vips=more),))) == ["VI_1: updated"]
    sched.run_until(MASTER_AT + 250_000)
    assert sent == [("192.0.2.100", "192.0.2.101")] * 2


def test_an_advert_after_a_stall_goes_once_at_the_wake_up_not_as_a_catch_up_burst() -> None:
    node, _io, sched = make_node(garp=QUIET)
    sent: list[int] = []

    class Timed(FakeIO):
        def send_advert(self, spec: InstanceSpec, primary_ip: str, advert: act.SendAdvert) -> None:
            sent.append(node.clock.mono_us())

    node.io = Timed()
    node.start()
    sched.run_until(MASTER_AT)
    woke = MASTER_AT + 50_000 + 350_000
    stall(sched, node.clock, MASTER_AT + 50_000, 350_000)  # type: ignore[arg-type]
    sched.run_until(woke + 250_000)
    # Due at +100, +200, +300 and +400 ms: one advert at the wake-up, the grid from there.
    assert sent == [MASTER_AT, woke, woke + 100_000, woke + 200_000]


def test_the_deadline_heap_holds_one_entry_per_master_in_the_steady_state() -> None:
    node, io, sched = many(40, alike=True)
    node.start()
    sched.run_until(7_000_000)  # masters, their second GARP bursts done
    io.sent.clear()
    sched.run_until(9_000_000)
    assert len(io.sent) == 40 * 20
    # Each advert's new deadline replaced its entry: nothing stale piles up.
    assert sorted(one.deadline for *_, one in node.pacer._due) == sorted(
        e[0] for e in node.pacer._due
    )
    assert len(node.pacer._due) == 40
    assert sched.pending() == 1


def test_a_superseded_heap_entry_does_not_keep_a_due_advert_out_of_its_wake_up() -> None:
    """White-box: a stale entry between two adverts of one wake-up is skipped, so the
    second still goes in that wake-up (ADVERT_SLACK_US) rather than in one of its own."""
    node, io, sched = many(3, alike=True)
    node.start()
    sched.run_until(7_000_000)
    node.command("VI_3", inp.Pause())  # no timer left: any VI_3 entry is stale
    first, second, third = (node._instances[f"VI_{v}"] for v in (1, 2, 3))
    d = first.deadline
    assert d is not None and second.deadline == d and third.deadline is None
    # VI_2's Adver_Timer 600 µs later, and a superseded VI_3 entry between the two.
    node.router("VI_2")._timers[TimerKind.ADVERT] = MonoUs(d + 600)
    second.deadline = MonoUs(d + 600)
    heapq.heappush(node.pacer._due, (MonoUs(d + 600), -2, second))
    heapq.heappush(node.pacer._due, (MonoUs(d + 300), -1, third))
    io.sent.clear()
    sched.run_until(d + 1_000)
    assert io.sent == [("VI_1", d), ("VI_2", d)]


def test_counts_read_zero_until_counted_and_list_only_what_was_counted() -> None:
    c = Counts()
    assert c["io_errors"] == 0 and "io_errors" not in c  # as a Counter: no entry made
    c["adverts_out"] += 2
    assert dict(c) == {"adverts_out": 2}
    node, _io, sched = make_node(garp=QUIET)
    node.start()
    sched.run_until(MASTER_AT + 100_000)
    assert node.status().counters == {"adverts_out": 2, "garp_rounds": 5}
    assert dict(node.instance_stats("VI_1")) == {
        "advert_sent": 2,
        "become_master": 1,
        "garp_rounds": 5,
    }


def test_a_reload_into_a_sync_group_takes_its_members_off_the_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fast path skips the action list a sync group's coordinator reads: once a reload
    puts the masters in a group, none of their adverts may take it, and out of it again
    they all do."""
    node, io, sched = many(4, alike=True)
    served: list[str] = []
    fired = Router.advert_fired

    def counted(self: Router, now: MonoUs) -> act.SendAdvert | None:
        served.append(self.spec.name)
        return fired(self, now)

    monkeypatch.setattr(Router, "advert_fired", counted)
    node.start()
    sched.run_until(2_000_000)
    assert {r.state for r in node.status().routers} == {State.MASTER}
    assert served
    specs = [replace(s, sync_group="G") for s in node.spec.instances]
    node.reload(NodeSpec(instances=tuple(specs)))
    served.clear()
    sent = len(io.sent)
    sched.run_until(3_000_000)
    assert served == [] and len(io.sent) > sent  # advertising, through handle()
    node.reload(NodeSpec(instances=tuple(replace(s, sync_group=None) for s in specs)))
    sched.run_until(4_000_000)
    assert sorted(set(served)) == sorted(s.name for s in specs)
