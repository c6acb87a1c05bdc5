"""A node with a vrrp_sync_group, fake I/O and a manual scheduler: members move together."""

from __future__ import annotations

from dataclasses import dataclass

from hatui.clock import ManualClock
from hatui.runtime.node import Node
from hatui.vrrp.spec import InstanceSpec, NodeSpec, NotifySpec, SyncGroupSpec, Vip
from hatui.vrrp.state import State

from .test_node import FakeIO, ManualScheduler

MDI = 360_937  # v3 0.1 s, priority 100
START = 1_000_000


@dataclass
class GroupIO(FakeIO):
    def notify(self, spec: InstanceSpec | SyncGroupSpec, state: str, priority: int) -> None:
        kind = "group" if isinstance(spec, SyncGroupSpec) else "notify"
        self.log.append((kind, f"{spec.name} {state}"))


def make_node() -> tuple[Node, GroupIO, ManualScheduler]:
    def inst(name: str, iface: str, vrid: int, vip: str) -> InstanceSpec:
        return InstanceSpec(
            name=name,
            interface=iface,
            vrid=vrid,
            advert_int_us=100_000,
            version=3,
            vips=(Vip(address=vip, prefixlen=24),),
            sync_group="G",
        )

    group = SyncGroupSpec(name="G", members=("VI_1", "VI_2"), notify=NotifySpec(master="/bin/true"))
    spec = NodeSpec(
        instances=(
            inst("VI_1", "eth0", 51, "192.0.2.100"),
            inst("VI_2", "eth1", 52, "198.51.100.100"),
        ),
        sync_groups=(group,),
    )
    clock = ManualClock(mono=START)
    io, sched = GroupIO(), ManualScheduler(clock)
    ips = {"VI_1": "192.0.2.11", "VI_2": "198.51.100.11"}
    # The shared harness returns `object` handles; Node only calls cancel() on them.
    return Node(spec, io, clock, sched, ips), io, sched  # type: ignore[arg-type]


def test_members_become_master_together_and_the_group_notify_runs_once() -> None:
    node, io, sched = make_node()
    node.start()
    assert io.log == [("notify", "VI_1 BACKUP"), ("group", "G BACKUP"), ("notify", "VI_2 BACKUP")]
    io.log.clear()
    sched.run_until(START + MDI - 1)
    assert {node.router(n).state for n in ("VI_1", "VI_2")} == {State.BACKUP}
    sched.run_until(START + MDI)
    assert node.router("VI_1").state is State.MASTER and node.router("VI_2").state is State.MASTER
    notes = [e for e in io.log if e[0] in ("notify", "group")]
    assert notes == [("notify", "VI_2 MASTER"), ("group", "G MASTER"), ("notify", "VI_1 MASTER")]
    assert node.router("VI_1").status(node.clock.mono_us()).state_cause == (
        "sync group G: VI_2 became MASTER"
    )
    assert sched.pending() == 1  # still one timer for the whole node


def test_one_member_link_down_faults_the_group_and_recovery_releases_it() -> None:
    node, io, sched = make_node()
    node.start()
    sched.run_until(START + 1_000_000)
    io.log.clear()
    node.link("eth0", False)
    assert node.router("VI_1").state is State.FAULT and node.router("VI_2").state is State.FAULT
    assert ("group", "G FAULT") in io.log
    assert sum(1 for e in io.log if e[0] == "remove") == 2  # both masters dropped their VIPs
    io.log.clear()
    node.link("eth0", True)
    assert node.router("VI_1").state is State.BACKUP and node.router("VI_2").state is State.BACKUP
    assert ("group", "G BACKUP") in io.log
    sched.run_until(START + 1_000_000 + MDI)
    assert node.router("VI_1").state is State.MASTER and node.router("VI_2").state is State.MASTER
