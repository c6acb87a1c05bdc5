"""An in-memory LAN of Routers on one manual clock, for tests, screenshots and the demo.

Every SendAdvert reaches every other live router of the same VRID and family as the
VrrpAdvert the codec would have produced. Delivery can be shaped per packet: a `fate`
hook returns the extra delays of the copies to deliver (none: lost; two: duplicated;
a longer delay: reordered), and `partition()` cuts the LAN into islands. `group()` puts
routers of one host in a vrrp_sync_group, coordinated as the node runtime does.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from hatui.codec.frames import Auth, ChecksumForm, Family, Link, VrrpAdvert
from hatui.types import MonoUs
from hatui.vrrp.actions import Action, AddVips, RemoveVips, SendAdvert
from hatui.vrrp.group import SyncGroup, member_view
from hatui.vrrp.inputs import AdvertReceived, Input, Startup, TimerFired
from hatui.vrrp.machine import Router
from hatui.vrrp.receive import pad_password
from hatui.vrrp.state import State

MCAST_MAC = {Family.IPV4: "01:00:5e:00:00:12", Family.IPV6: "33:33:00:00:00:12"}
# A bug that makes routers answer each other forever at one instant must not hang a test.
MAX_EVENTS_PER_INSTANT = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Packet:
    """One advert on its way from one node to another."""

    sender: str
    receiver: str
    advert: VrrpAdvert
    sent_at: MonoUs


Fate = Callable[[Packet], Sequence[int]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """One action a node's router returned, with when and why (the input)."""

    at: MonoUs
    node: str
    action: Action


class Node:
    """A router on the LAN plus what the simulator tracks about it from its actions."""

    def __init__(self, name: str, router: Router, mac: str) -> None:
        self.name = name
        self.router = router
        self.mac = mac
        self.alive = True
        self.vips_held = False  # follows AddVips/RemoveVips, as netlink would


def advert_from(router: Router, action: SendAdvert, mac: str) -> VrrpAdvert:
    """The VrrpAdvert a receiver's codec would produce from this router's SendAdvert."""
    spec = router.spec
    simple = spec.auth_pass is not None
    return VrrpAdvert(
        link=Link(src_mac=mac, dst_mac=MCAST_MAC[spec.family]),
        family=spec.family,
        src_ip=router.primary_ip,
        dst_ip=spec.group,
        ttl=255,
        version=spec.version,
        vrid=spec.vrid,
        priority=action.priority,
        interval_cs=action.interval_cs,
        addresses=action.addresses,
        auth=Auth.SIMPLE if simple else Auth.NONE,
        auth_data=pad_password((spec.auth_pass or "").encode()) if simple else b"",
        checksum_form=ChecksumForm.V2 if spec.version == 2 else spec.checksum_form,
    )


class Lan:
    """Routers, a clock and a queue of pending inputs (deliveries and scheduled commands)."""

    def __init__(self, *, start: int = 0, latency_us: int = 0, fate: Fate | None = None) -> None:
        self.now = MonoUs(start)
        self.latency_us = latency_us
        self.fate = fate
        self.nodes: dict[str, Node] = {}
        self.trace: list[Record] = []
        self._queue: list[tuple[int, int, str, Input]] = []
        self._seq = 0
        self._island: dict[str, int] = {}
        self._groups: dict[str, tuple[SyncGroup, dict[str, str]]] = {}
        self.group_trace: list[tuple[MonoUs, str, State]] = []  # (when, group, entered)

    # -- building -------------------------------------------------------------------

    def add(self, name: str, router: Router, *, mac: str | None = None) -> Node:
        if name in self.nodes:
            raise ValueError(f"node {name!r} already on the LAN")
        mac = mac or f"02:00:00:00:{len(self.nodes) // 256:02x}:{len(self.nodes) % 256:02x}"
        node = Node(name, router, mac)
        self.nodes[name] = node
        return node

    def group(self, name: str, *members: str) -> SyncGroup:
        """Put these LAN nodes (one host's instances, distinct names) in a sync group."""
        by_instance = {self.nodes[m].router.spec.name: m for m in members}
        if len(by_instance) != len(members):
            raise ValueError("sync group members need distinct instance names")
        group = SyncGroup(name, tuple(by_instance))
        for member in members:
            self._groups[member] = (group, by_instance)
        return group

    def start(self, *names: str) -> None:
        """Startup now for the named nodes (all when none are named), in LAN order."""
        for name in names or tuple(self.nodes):
            self.send(name, Startup())

    # -- faults and commands --------------------------------------------------------

    def crash(self, name: str) -> None:
        """The node stops dead: no more inputs or timers, its VIPs stay where they were."""
        self.nodes[name].alive = False

    def restart(self, name: str) -> None:
        """A fresh router with the same spec and address, started now."""
        old = self.nodes[name]
        node = Node(name, Router(old.router.spec, primary_ip=old.router.primary_ip), old.mac)
        self.nodes[name] = node
        self.send(name, Startup())

    def partition(self, *groups: Iterable[str]) -> None:
        """Cut the LAN: nodes hear only nodes of their own group (unlisted ones: alone)."""
        self._island = {}
        for i, group in enumerate(groups):
            for name in group:
                self._island[name] = i

    def heal(self) -> None:
        self._island = {}

    def at(self, when: int, name: str, event: Input) -> None:
        """Schedule an input (operator command, link change...) for a node."""
        heapq.heappush(self._queue, (when, self._seq, name, event))
        self._seq += 1

    def send(self, name: str, event: Input) -> list[Action]:
        """Apply an input to a node now and propagate what it does (its group's too)."""
        first: list[Action] | None = None
        pending: deque[tuple[str, Input]] = deque([(name, event)])
        while pending:
            target, item = pending.popleft()
            actions = self._deliver(target, item)
            first = actions if first is None else first
            pending.extend(self._group_inputs(target, actions))
        return first or []

    def _group_inputs(self, name: str, actions: list[Action]) -> list[tuple[str, Input]]:
        entry = self._groups.get(name)
        if entry is None or not self.nodes[name].alive:
            return []
        group, by_instance = entry
        view = {m: member_view(self.nodes[n].router) for m, n in by_instance.items()}
        step = group.follow(self.nodes[name].router.spec.name, actions, view)
        if step.entered is not None:
            self.group_trace.append((self.now, group.name, step.entered))
        return [(by_instance[m], e) for m, e in step.inputs]

    def _deliver(self, name: str, event: Input) -> list[Action]:
        node = self.nodes[name]
        if not node.alive:
            return []
        actions = node.router.handle(event, self.now)
        for action in actions:
            self.trace.append(Record(at=self.now, node=name, action=action))
            match action:
                case AddVips():
                    node.vips_held = True
                case RemoveVips():
                    node.vips_held = False
                case SendAdvert():
                    self._broadcast(node, action)
                case _:
                    pass
        return actions

    def _broadcast(self, node: Node, action: SendAdvert) -> None:
        advert = advert_from(node.router, action, node.mac)
        for peer in self.nodes.values():
            if peer is node or not peer.alive or not self._hears(node, peer):
                continue
            packet = Packet(sender=node.name, receiver=peer.name, advert=advert, sent_at=self.now)
            delays = (0,) if self.fate is None else self.fate(packet)
            for delay in delays:
                when = self.now + self.latency_us + delay
                self.at(when, peer.name, AdvertReceived(advert=advert))

    def _hears(self, sender: Node, receiver: Node) -> bool:
        a, b = sender.router.spec, receiver.router.spec
        if (a.vrid, a.family) != (b.vrid, b.family):
            return False
        if not self._island:
            return True
        island = self._island.get(sender.name)
        return island is not None and island == self._island.get(receiver.name)

    # -- running --------------------------------------------------------------------

    def next_time(self) -> MonoUs | None:
        """The earliest pending delivery, scheduled input or router deadline."""
        times = [n.router.deadline() for n in self.nodes.values() if n.alive]
        found = [t for t in times if t is not None]
        if self._queue:
            found.append(MonoUs(self._queue[0][0]))
        return min(found, default=None)

    def step(self) -> bool:
        """Advance to the next event time and process everything due then."""
        when = self.next_time()
        if when is None:
            return False
        self.now = MonoUs(max(self.now, when))
        for _ in range(MAX_EVENTS_PER_INSTANT):
            if self._queue and self._queue[0][0] <= self.now:
                _, _, name, event = heapq.heappop(self._queue)
                self.send(name, event)
                continue
            due = [n for n in self.nodes.values() if n.alive and _due(n, self.now)]
            if not due:
                return True
            self.send(due[0].name, TimerFired())
        raise RuntimeError(f"more than {MAX_EVENTS_PER_INSTANT} events at {self.now} µs")

    def run_until(self, until: int) -> None:
        """Process every event up to `until`, stepping from deadline to deadline."""
        while (t := self.next_time()) is not None and t <= until:
            self.step()
        self.now = MonoUs(max(self.now, until))

    def run_for(self, duration: int) -> None:
        self.run_until(self.now + duration)

    # -- looking --------------------------------------------------------------------

    def states(self) -> dict[str, State]:
        return {name: n.router.state for name, n in self.nodes.items()}

    def masters(self, vrid: int | None = None) -> list[str]:
        """Live nodes in MASTER (for one VRID if given)."""
        return [
            n.name
            for n in self.nodes.values()
            if n.alive
            and n.router.state is State.MASTER
            and (vrid is None or n.router.spec.vrid == vrid)
        ]

    def records(self, kind: type[Action] | None = None, node: str | None = None) -> list[Record]:
        return [
            r
            for r in self.trace
            if (kind is None or isinstance(r.action, kind)) and (node is None or r.node == node)
        ]


def _due(node: Node, now: MonoUs) -> bool:
    deadline = node.router.deadline()
    return deadline is not None and deadline <= now
