"""The node runtime with fake I/O and a manual scheduler: actions run in order, one timer."""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest

from hatui.clock import ManualClock
from hatui.codec.frames import Family, Link, VrrpAdvert
from hatui.errors import RuntimeFault
from hatui.runtime.node import Node
from hatui.runtime.pacing import ADVERT_GROUP, ADVERT_SLACK_US, GROUP_STEP_US
from hatui.types import MonoUs
from hatui.vrrp import actions as act
from hatui.vrrp import inputs as inp
from hatui.vrrp.spec import GarpSpec, InstanceSpec, NodeSpec, Vip
from hatui.vrrp.state import State

VIP = Vip(address="192.0.2.100", prefixlen=24)


@dataclass
class FakeIO:
    log: list[tuple[str, object]] = field(default_factory=list)

    def send_advert(self, spec: InstanceSpec, primary_ip: str, advert: act.SendAdvert) -> None:
        self.log.append(("advert", advert.priority))

    def add_vips(self, spec: InstanceSpec, vips: tuple[Vip, ...]) -> None:
        self.log.append(("add", vips))

    def remove_vips(self, spec: InstanceSpec, vips: tuple[Vip, ...]) -> None:
        self.log.append(("remove", vips))

    def garp(self, spec: InstanceSpec, vips: tuple[Vip, ...]) -> None:
        self.log.append(("garp", vips))

    def notify(self, spec: InstanceSpec, state: str, priority: int) -> None:
        self.log.append(("notify", state))

    def open_instance(self, spec: InstanceSpec) -> str:
        if spec.interface == "missing0":
            raise RuntimeFault("interface 'missing0' does not exist")
        self.log.append(("open", spec.name))
        return "192.0.2.11"

    def close_instance(self, spec: InstanceSpec) -> None:
        self.log.append(("close", spec.name))


class ManualScheduler:
    """Runs callbacks as the manual clock passes them, like the asyncio adapter does."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.queue: list[tuple[int, int, Callable[[], None], list[bool]]] = []
        self.seq = itertools.count()

    def call_at(self, at: MonoUs, fn: Callable[[], None]) -> object:
        cancelled = [False]
        heapq.heappush(self.queue, (at, next(self.seq), fn, cancelled))

        class H:
            def cancel(self) -> None:
                cancelled[0] = True

        return H()

    def pending(self) -> int:
        return sum(1 for *_, c in self.queue if not c[0])

    def run_until(self, t: int) -> None:
        while self.queue and self.queue[0][0] <= t:
            at, _, fn, cancelled = heapq.heappop(self.queue)
            if cancelled[0]:
                continue
            self.clock.advance(max(0, at - self.clock.mono_us()))  # a stall runs it late
            fn()
        self.clock.advance(max(0, t - self.clock.mono_us()))


def make_node(
    priority: int = 100, vips: tuple[Vip, ...] = (VIP,), **kw: object
) -> tuple[Node, FakeIO, ManualScheduler]:
    spec = InstanceSpec(
        name="VI_1",
        interface="eth0",
        vrid=51,
        priority=priority,
        advert_int_us=100_000,
        version=3,
        vips=vips,
        **kw,
    )  # type: ignore[arg-type]
    clock = ManualClock(mono=1_000_000)
    io, sched = FakeIO(), ManualScheduler(clock)
    node = Node(NodeSpec(instances=(spec,)), io, clock, sched, {"VI_1": "192.0.2.11"})
    return node, io, sched


def advert(src: str, priority: int) -> VrrpAdvert:
    return VrrpAdvert(
        link=Link(src_mac="02:00:00:00:00:12", dst_mac="01:00:5e:00:00:12"),
        family=Family.IPV4,
        src_ip=src,
        dst_ip="224.0.0.18",
        ttl=255,
        version=3,
        vrid=51,
        priority=priority,
        interval_cs=10,
        addresses=("192.0.2.100",),
    )


def test_alone_becomes_master_after_master_down_then_advertises_each_interval() -> None:
    node, io, sched = make_node(garp=GarpSpec(master_repeat=2, master_delay_us=5_000_000))
    node.start()
    assert io.log == [("notify", "BACKUP")] and sched.pending() == 1  # one timer: Master_Down
    io.log.clear()
    # v3 0.1 s, priority 100: 3 * 100 ms + 156 * 100 ms / 256 = 360,937 µs.
    sched.run_until(1_000_000 + 360_936)
    assert node.router("VI_1").state is State.BACKUP
    sched.run_until(1_000_000 + 360_937)
    assert node.router("VI_1").state is State.MASTER
    assert io.log == [
        ("advert", 100),
        ("add", (VIP,)),
        ("garp", (VIP,)),
        ("garp", (VIP,)),
        ("notify", "MASTER"),
    ]
    io.log.clear()
    sched.run_until(1_000_000 + 360_937 + 300_000)
    assert io.log == [("advert", 100)] * 3
    assert sched.pending() == 1  # still exactly one timer armed


def test_release_sends_priority_zero_and_drops_vips_then_holds() -> None:
    node, io, sched = make_node()
    node.start()
    sched.run_until(2_000_000)
    io.log.clear()
    node.command("VI_1", inp.Release())
    assert io.log[:2] == [("advert", 0), ("remove", (VIP,))]
    io.log.clear()
    sched.run_until(10_000_000)  # held: never takes over again
    assert node.router("VI_1").state is State.BACKUP and io.log == []
    node.command("VI_1", inp.Resume())
    sched.run_until(11_000_000)
    assert node.router("VI_1").state is State.MASTER


def test_higher_priority_advert_demotes_master_and_own_adverts_are_ignored() -> None:
    node, io, sched = make_node()
    node.start()
    sched.run_until(2_000_000)
    node.on_frame("eth0", advert("192.0.2.11", 200), False)
    assert node.router("VI_1").state is State.MASTER  # our own address: dropped
    node.on_frame("eth0", advert("192.0.2.12", 200), True)
    assert node.router("VI_1").state is State.MASTER  # outgoing: dropped
    node.on_frame("eth1", advert("192.0.2.12", 200), False)
    assert node.router("VI_1").state is State.MASTER  # another interface's VRID 51
    node.on_frame("eth0", advert("192.0.2.12", 200), False)
    assert node.router("VI_1").state is State.BACKUP
    assert ("remove", (VIP,)) in io.log


def test_unknown_instance_is_a_key_error() -> None:
    node, _io, _sched = make_node()
    with pytest.raises(KeyError):
        node.command("nope", inp.Release())


def test_shutdown_of_master_sends_priority_zero_and_stops_timers() -> None:
    node, io, sched = make_node()
    node.start()
    sched.run_until(2_000_000)
    io.log.clear()
    node.shutdown()
    assert io.log == [("advert", 0), ("remove", (VIP,)), ("notify", "STOP")]
    assert sched.pending() == 0


@dataclass
class NamedIO(FakeIO):
    """FakeIO that also records which instance sent each advert, and when."""

    clock: ManualClock | None = None
    sent: list[tuple[str, int]] = field(default_factory=list)

    def send_advert(self, spec: InstanceSpec, primary_ip: str, advert: act.SendAdvert) -> None:
        assert self.clock is not None
        self.sent.append((spec.name, self.clock.mono_us()))


def many_specs(
    count: int, interval_us: int = 100_000, *, alike: bool = False
) -> tuple[InstanceSpec, ...]:
    """VI_1..VI_count, VRRPv3, VIP 198.51.100.<vrid> each."""
    return tuple(
        InstanceSpec(
            name=f"VI_{v}",
            interface="eth0",
            vrid=v,
            priority=100,
            # Intervals differ per instance (unless `alike`), so their deadlines
            # interleave in the heap.
            advert_int_us=interval_us + (0 if alike else (v % 7) * 10_000),
            version=3,
            vips=(Vip(address=f"198.51.100.{v}", prefixlen=24),),
        )
        for v in range(1, count + 1)
    )


def many(
    count: int, interval_us: int = 100_000, *, alike: bool = False
) -> tuple[Node, NamedIO, ManualScheduler]:
    specs = many_specs(count, interval_us, alike=alike)
    clock = ManualClock(mono=1_000_000)
    io, sched = NamedIO(clock=clock), ManualScheduler(clock)
    node = Node(NodeSpec(instances=specs), io, clock, sched, {s.name: "192.0.2.11" for s in specs})
    return node, io, sched


def test_many_instances_each_advertise_on_their_own_interval_with_one_timer() -> None:
    node, io, sched = many(50)
    node.start()
    sched.run_until(3_000_000)  # every instance master long before this
    io.sent.clear()
    sched.run_until(5_000_000)
    assert sched.pending() == 1
    for v in range(1, 51):
        interval = 100_000 + (v % 7) * 10_000
        times = [t for name, t in io.sent if name == f"VI_{v}"]
        # An advert may share an earlier wake-up (ADVERT_SLACK_US), never drift: each one
        # is run at its own deadline, so the next is one interval after that deadline.
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(abs(g - interval) <= ADVERT_SLACK_US for g in gaps), (v, gaps)
        assert len(times) in (2_000_000 // interval, 2_000_000 // interval + 1), v
        assert abs((times[-1] - times[0]) - interval * len(gaps)) <= ADVERT_SLACK_US, v


def wake_ups(sent: list[tuple[str, int]]) -> Counter[int]:
    """Adverts per wake-up (the manual clock stands still within one)."""
    return Counter(t for _, t in sent)


def phases(sent: list[tuple[str, int]], interval: int) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for name, t in sent:
        out.setdefault(name, set()).add(t % interval)
    return out


def stall(sched: ManualScheduler, clock: ManualClock, at: int, us: int) -> None:
    """The process stops for `us` at `at`: every timer due meanwhile runs late."""
    sched.call_at(MonoUs(at), lambda: clock.advance(us))


def test_adverts_that_fall_into_step_beyond_a_group_move_a_step_on_once() -> None:
    """After a stall longer than half an interval every master advertises at once, so
    40 masters share one deadline; the next round sends ADVERT_GROUP of them and moves
    the rest GROUP_STEP_US on, once; from then on each keeps its new phase exactly."""
    node, io, sched = many(40, alike=True)
    node.start()
    sched.run_until(2_000_000)
    assert max(wake_ups(io.sent).values()) <= ADVERT_GROUP  # started in groups
    stall(sched, node.clock, 2_050_000, 300_000)  # type: ignore[arg-type]
    io.sent.clear()
    sched.run_until(2_400_000)
    assert list(wake_ups(io.sent).values()) == [40]  # at the end of the stall, together
    io.sent.clear()
    sched.run_until(2_500_000)  # the next round: in step, so split
    per_wake = sorted(wake_ups(io.sent).items())
    assert [n for _, n in per_wake] == [ADVERT_GROUP, ADVERT_GROUP, 40 - 2 * ADVERT_GROUP]
    steps = [b - a for (a, _), (b, _) in itertools.pairwise(per_wake)]
    assert steps == [GROUP_STEP_US] * 2
    io.sent.clear()
    sched.run_until(4_500_000)
    assert max(wake_ups(io.sent).values()) == ADVERT_GROUP
    for name, ph in phases(io.sent, 100_000).items():
        assert len(ph) == 1, name  # moved once, then exactly on its new grid


def test_a_wake_up_sends_its_adverts_before_the_announcements_its_takeovers_cause() -> None:
    """Two instances take over in one wake-up: both adverts go out before either's GARP
    burst and notify, and each instance's own effects keep their order."""
    node, io, sched = many(2, alike=True)
    sent = io.send_advert

    def logged(spec: InstanceSpec, primary_ip: str, advert: act.SendAdvert) -> None:
        sent(spec, primary_ip, advert)
        io.log.append(("advert", spec.name))

    io.send_advert = logged  # type: ignore[method-assign]
    node.start()
    sched.run_until(1_500_000)
    kinds = [kind for kind, _ in io.log]
    adverts = [i for i, k in enumerate(kinds) if k == "advert"]
    garps = [i for i, k in enumerate(kinds) if k == "garp"]
    notifies = [i for i, (k, v) in enumerate(io.log) if k == "notify" and v == "MASTER"]
    assert len(adverts) >= 2 and len(garps) == 2 * 5 and len(notifies) == 2
    assert adverts[1] < garps[0]  # the second takeover's advert before the first's GARPs
    vip1 = (Vip(address="198.51.100.1", prefixlen=24),)
    first = [i for i in garps if io.log[i] == ("garp", vip1)]
    assert kinds.index("add") < first[0] and max(first) < notifies[0]  # keepalived's order


def test_a_late_wake_up_keeps_each_groups_phase() -> None:
    """Groups a few ms apart that one late wake-up serves together are not in step:
    none of them moves, each advert runs at its own deadline."""
    node, io, sched = many(40, alike=True)
    node.start()
    sched.run_until(2_000_000)
    io.sent.clear()
    sched.run_until(2_300_000)
    before = phases(io.sent, 100_000)
    assert len({next(iter(p)) for p in before.values()}) == 3  # three start groups
    first = min(next(iter(p)) for p in before.values())
    stall(sched, node.clock, 2_300_000 + first - 500, 6_000)  # type: ignore[arg-type]
    io.sent.clear()
    sched.run_until(2_400_000)
    assert sorted(wake_ups(io.sent).values()) == [40]  # one late wake-up served all three
    io.sent.clear()
    sched.run_until(3_000_000)
    assert phases(io.sent, 100_000) == before


def test_a_deadline_pushed_later_does_not_fire_at_its_old_time() -> None:
    """The heap keeps superseded entries: each must be skipped, not fired early."""
    node, _io, sched = many(3)
    armed: list[int] = []
    call_at = sched.call_at

    def recording(at: MonoUs, fn: Callable[[], None]) -> object:
        armed.append(at)
        return call_at(at, fn)

    sched.call_at = recording  # type: ignore[method-assign]
    node.start()
    start = 1_000_000
    # VI_2 keeps hearing a better master: each advert moves its Master_Down later.
    heard = advert("192.0.2.12", 200)
    heard = VrrpAdvert(**{**{f: getattr(heard, f) for f in heard.__slots__}, "vrid": 2})
    for k in range(1, 20):
        sched.run_until(start + k * 100_000)
        node.on_frame("eth0", heard, False)
    assert node.router("VI_1").state is State.MASTER
    assert node.router("VI_2").state is State.BACKUP
    last = start + 19 * 100_000
    # Master_Down for a 110 ms master interval at priority 100 (RFC 5798 6.1).
    down = 3 * 100_000 + (256 - 100) * 100_000 // 256
    sched.run_until(last + down - 1)
    assert node.router("VI_2").state is State.BACKUP
    sched.run_until(last + down + 1)
    assert node.router("VI_2").state is State.MASTER
    # The timer was never armed for a Master_Down that a later advert had superseded.
    superseded = {start + k * 100_000 + down for k in range(1, 19)} | {start + down}
    assert not superseded & set(armed)
    assert last + down in armed


def test_reload_adds_updates_restarts_and_removes_instances() -> None:
    node, io, sched = make_node(priority=150)
    node.start()
    sched.run_until(2_000_000)
    keep = node.router("VI_1").spec
    added = InstanceSpec(
        name="VI_2", interface="eth0", vrid=52, priority=100, advert_int_us=100_000,
        version=3, vips=(Vip(address="192.0.2.102", prefixlen=24),),
    )  # fmt: skip
    io.log.clear()
    changes = node.reload(NodeSpec(instances=(replace(keep, priority=160), added)))
    assert changes == ["VI_2: added", "VI_1: updated"]
    assert node.router("VI_1").state is State.MASTER
    assert ("advert", 0) not in io.log and ("remove", (VIP,)) not in io.log
    assert node.instance_names() == ["VI_1", "VI_2"]
    assert node.router("VI_2").state is State.BACKUP  # started as keepalived starts one
    sched.run_until(3_000_000)
    assert node.router("VI_2").state is State.MASTER and sched.pending() == 1
    io.log.clear()
    assert node.reload(NodeSpec(instances=(added,))) == ["VI_1: removed"]
    assert io.log[:2] == [("advert", 0), ("remove", (VIP,))] and ("close", "VI_1") in io.log
    assert node.instance_names() == ["VI_2"]
    changes = node.reload(NodeSpec(instances=(replace(added, vrid=53),)))
    assert changes == ["VI_2: restarted"] and node.router("VI_2").spec.vrid == 53
    assert node.router("VI_2").state is State.BACKUP
    sched.run_until(4_000_000)  # the old VI_2's timers are gone; the new one runs alone
    assert node.router("VI_2").state is State.MASTER and sched.pending() == 1


def test_reload_that_cannot_open_a_new_instance_changes_nothing() -> None:
    node, _io, sched = make_node(priority=150)
    node.start()
    sched.run_until(2_000_000)
    keep = node.router("VI_1").spec
    broken = replace(keep, name="VI_2", vrid=52, interface="missing0")
    with pytest.raises(RuntimeFault, match="missing0"):
        node.reload(NodeSpec(instances=(replace(keep, priority=10), broken)))
    assert node.instance_names() == ["VI_1"] and node.router("VI_1").effective_priority == 150


def test_only_adverts_go_early_a_master_down_never_does() -> None:
    """A wake-up for one master's advert takes other adverts due within the slack along,
    but a backup's Master_Down_Timer due inside that slack still fires on time."""
    node, _io, sched = many(2)
    node.start()
    sched.run_until(2_000_000)
    backup = node.router("VI_2")
    heard = advert("192.0.2.12", 200)
    heard = VrrpAdvert(**{**{f: getattr(heard, f) for f in heard.__slots__}, "vrid": 2})
    # VI_1 (master, 110 ms) advertises at its deadline; VI_2 hears a master so that its
    # Master_Down lands 400 us after that advert deadline, inside the slack.
    next_advert = node.router("VI_1").deadline()
    assert next_advert is not None
    down = 3 * 100_000 + (256 - 100) * 100_000 // 256
    advert_at = next_advert + 4 * 110_000  # on VI_1's grid, more than `down` ahead
    sched.run_until(advert_at + 400 - down)
    node.on_frame("eth0", heard, False)
    assert backup.deadline() == advert_at + 400
    sched.run_until(advert_at + 399)
    assert backup.state is State.BACKUP
    sched.run_until(advert_at + 400)
    assert backup.state is State.MASTER
