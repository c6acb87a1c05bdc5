"""Property tests over the simulated LAN: chaos for a while, then heal and check the election."""

from __future__ import annotations

import random
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from hatui.types import MonoUs
from hatui.vrrp.actions import Transition
from hatui.vrrp.inputs import (
    AdjustPriority,
    Input,
    LinkChanged,
    Pause,
    Release,
    Resume,
    SendGarp,
    SetPriority,
)
from hatui.vrrp.machine import TRANSITIONS, Router
from hatui.vrrp.sim import Lan, Packet
from hatui.vrrp.state import State
from hatui.vrrp.timing import master_down_us

from .factory import spec

CHAOS_US = 15_000_000
# (vrid, version, interval): a v2 1 s group and a v3 0.3 s group share the LAN.
GROUPS = ((1, 2, 1_000_000), (2, 3, 300_000))

commands = st.one_of(
    st.builds(SetPriority, value=st.integers(1, 254)),
    st.builds(AdjustPriority, delta=st.integers(-253, 253).filter(bool)),
    st.just(Release()),
    st.just(Pause()),
    st.just(Resume()),
    st.just(SendGarp()),
    st.builds(LinkChanged, up=st.booleans()),
)


@dataclass(frozen=True)
class Chaos:
    """Per-packet fate drawn from a hypothesis-controlled Random."""

    rnd: random.Random
    loss: float
    dup: float
    delay_us: int

    def __call__(self, packet: Packet) -> tuple[int, ...]:
        if self.rnd.random() < self.loss:
            return ()
        copies = [self.rnd.randrange(self.delay_us + 1)]
        if self.rnd.random() < self.dup:
            copies.append(self.rnd.randrange(self.delay_us + 1))
        return tuple(copies)


def check_invariants(lan: Lan) -> None:
    for node in lan.nodes.values():
        router = node.router
        # VIPs are held if and only if MASTER, as seen from the actions alone.
        assert node.vips_held == (router.state is State.MASTER), node.name
        if router.state is State.MASTER:
            assert router.deadline() is not None, node.name


@settings(max_examples=100)
@given(
    sizes=st.tuples(st.integers(2, 3), st.integers(1, 2)),
    priorities=st.lists(st.integers(1, 254), min_size=5, max_size=5),
    preempt=st.lists(st.booleans(), min_size=5, max_size=5),
    events=st.lists(st.tuples(st.integers(0, CHAOS_US), st.integers(0, 4), commands), max_size=12),
    partitions=st.lists(
        st.tuples(st.integers(0, CHAOS_US), st.lists(st.integers(0, 1), min_size=5, max_size=5)),
        max_size=3,
    ),
    rnd=st.randoms(use_true_random=False),
    loss=st.sampled_from([0.0, 0.1, 0.5]),
    dup=st.sampled_from([0.0, 0.2]),
    delay_us=st.sampled_from([0, 50_000, 400_000]),
)
def test_one_master_per_vrid_after_healing(
    sizes: tuple[int, int],
    priorities: list[int],
    preempt: list[bool],
    events: list[tuple[int, int, Input]],
    partitions: list[tuple[int, list[int]]],
    rnd: random.Random,
    loss: float,
    dup: float,
    delay_us: int,
) -> None:
    lan = Lan(fate=Chaos(rnd, loss, dup, delay_us))
    names: list[str] = []
    for (vrid, version, interval), size in zip(GROUPS, sizes, strict=True):
        for _ in range(size):
            i = len(names)
            s = spec(
                vrid=vrid,
                version=version,
                advert_int_us=interval,
                priority=priorities[i],
                preempt=preempt[i],
            )
            name = f"r{i}"
            lan.add(name, Router(s, primary_ip=f"192.0.2.{11 + i}"))
            names.append(name)
    lan.start()
    for when, who, command in events:
        lan.at(when, names[who % len(names)], command)
    cuts = sorted(partitions, key=lambda p: p[0])

    def run_checked(until: int) -> None:
        while (t := lan.next_time()) is not None and t <= until:
            lan.step()
            check_invariants(lan)
        lan.run_until(until)

    for when, sides in cuts:
        run_checked(when)
        lan.partition(
            [n for n, side in zip(names, sides, strict=False) if side == 0],
            [n for n, side in zip(names, sides, strict=False) if side == 1],
        )
    run_checked(CHAOS_US)

    # Heal: the network, and every link.
    lan.fate = None
    lan.heal()
    for name in names:
        lan.send(name, LinkChanged(up=True))
    settle = max(
        master_down_us(1, interval, version=version) + 2 * interval
        for _, version, interval in GROUPS
    )
    # Deliveries delayed during the chaos may still be in flight: let them land first.
    run_checked(lan.now + max(delay_us, 1) + settle)

    for vrid, _, _ in GROUPS:
        masters = lan.masters(vrid)
        assert len(masters) <= 1, (vrid, masters)
        eligible = [
            n
            for n in lan.nodes.values()
            if n.router.spec.vrid == vrid
            and not (n.router.status(MonoUs(lan.now)).hold or n.router.status(lan.now).paused)
        ]
        if eligible:
            assert len(masters) == 1, (vrid, lan.states())
    for record in lan.records(Transition):
        assert isinstance(record.action, Transition)
        assert (record.action.old, record.action.new) in TRANSITIONS
