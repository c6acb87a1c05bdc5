"""State-machine campaign over the simulated LAN: what tests/vrrp/test_properties.py leaves out.

That test covers symmetric loss, duplication, reordering, operator commands and
partitions. This one adds crashes and restarts (a crashed node keeps its VIP, as a real
crash does), one-way loss per ordered pair of nodes, tracked-script failures, and a time
bound: once faults stop, exactly one master per VRID within Master_Down_Interval plus
one interval (after in-flight deliveries land), and it alone holds the VIPs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from hatui.vrrp.inputs import LinkChanged, Release, Resume, SetPriority, TrackChanged
from hatui.vrrp.machine import Router
from hatui.vrrp.sim import Lan, Packet
from hatui.vrrp.spec import TrackRef
from hatui.vrrp.state import State
from hatui.vrrp.timing import master_down_us
from tests.vrrp.factory import spec

INTERVAL = 100_000
CHAOS_US = 6_000_000
N = 3

faults = st.one_of(
    st.tuples(st.just("crash"), st.integers(0, N - 1)),
    st.tuples(st.just("restart"), st.integers(0, N - 1)),
    st.tuples(st.just("track"), st.integers(0, N - 1), st.booleans()),
    st.tuples(
        st.just("cmd"), st.integers(0, N - 1), st.sampled_from(["release", "resume", "prio"])
    ),
    st.tuples(st.just("link"), st.integers(0, N - 1), st.booleans()),
)


@dataclass(frozen=True)
class OneWay:
    """Per ordered (sender, receiver) loss rates, plus random delay (reordering)."""

    rnd: random.Random
    loss: dict[tuple[str, str], float]
    delay_us: int

    def __call__(self, packet: Packet) -> tuple[int, ...]:
        if self.rnd.random() < self.loss.get((packet.sender, packet.receiver), 0.0):
            return ()
        return (self.rnd.randrange(self.delay_us + 1),)


@settings(max_examples=60)
@given(
    priorities=st.lists(st.integers(1, 254), min_size=N, max_size=N, unique=True),
    events=st.lists(st.tuples(st.integers(0, CHAOS_US), faults), max_size=10),
    loss=st.dictionaries(
        st.tuples(st.integers(0, N - 1), st.integers(0, N - 1)).filter(lambda p: p[0] != p[1]),
        st.sampled_from([0.3, 0.8, 1.0]),
        max_size=4,
    ),
    delay_us=st.sampled_from([0, 50_000, 90_000]),
    rnd=st.randoms(use_true_random=False),
)
def test_one_master_within_master_down_after_crashes_and_one_way_loss(
    priorities: list[int],
    events: list[tuple[int, tuple[object, ...]]],
    loss: dict[tuple[int, int], float],
    delay_us: int,
    rnd: random.Random,
) -> None:
    names = [f"r{i}" for i in range(N)]
    lan = Lan(fate=OneWay(rnd, {(names[a], names[b]): p for (a, b), p in loss.items()}, delay_us))
    for i, name in enumerate(names):
        s = spec(
            version=3,
            advert_int_us=INTERVAL,
            priority=priorities[i],
            track_scripts=(TrackRef(name="chk", weight=-50),),
        )
        lan.add(name, Router(s, primary_ip=f"192.0.2.{11 + i}"))
    lan.start()
    crashed: set[str] = set()
    for when, fault in sorted(events, key=lambda e: e[0]):
        lan.run_until(when)
        kind, who = fault[0], names[int(fault[1])]  # type: ignore[call-overload]
        if kind == "crash":
            lan.crash(who)
            crashed.add(who)
        elif kind == "restart":
            lan.restart(who)
            crashed.discard(who)
        elif who in crashed:
            continue
        elif kind == "track":
            lan.send(who, TrackChanged(kind="script", name="chk", ok=bool(fault[2])))
        elif kind == "link":
            lan.send(who, LinkChanged(up=bool(fault[2])))
        elif kind == "cmd":
            cmd = {"release": Release(), "resume": Resume(), "prio": SetPriority(value=1)}
            lan.send(who, cmd[str(fault[2])])
    lan.run_until(CHAOS_US)

    # Faults stop: no loss, links up, crashed nodes restarted, operators clear overrides.
    lan.fate = None
    for name in names:
        if name in crashed:
            lan.restart(name)
        lan.send(name, LinkChanged(up=True))
        lan.send(name, Resume())
    stop = lan.now
    # RFC 5798 6.1: the lowest-priority backup waits at most Master_Down_Interval(1).
    bound = delay_us + master_down_us(1, INTERVAL, version=3) + INTERVAL
    lan.run_until(stop + bound)
    masters = lan.masters()
    assert len(masters) == 1, (lan.states(), masters)
    for node in lan.nodes.values():
        assert node.alive
        assert node.vips_held == (node.router.state is State.MASTER), node.name
