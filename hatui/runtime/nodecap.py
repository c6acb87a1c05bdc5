"""What a serving node hears: its own VRIDs' adverts on its interfaces, and nothing else.

The kernel filter (adapters/capture.py `node_bpf_program`) keeps only VRRP of the node's
families and VRIDs that this host did not send, as keepalived's own socket sees them: a
LAN flooded with other routers' adverts never wakes the node. The LAN view (every other
router, ARP, HSRP) is decoded in another process (runtime/lanview.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from hatui.adapters.capture import CaptureSocket
from hatui.codec.decode import decode
from hatui.codec.frames import Family, Frame, Rejected
from hatui.vrrp.spec import InstanceSpec

log = logging.getLogger(__name__)

# Frames read per wake-up: the node's timers wait for a read, so keep a read short.
READ_BATCH = 32

Receiver = Callable[[str, Frame | Rejected, bool], None]  # Node.on_frame
VridSets = dict[int, set[int]]  # IP version -> VRIDs


def vrid_sets(instances: Iterable[InstanceSpec]) -> dict[str, VridSets]:
    """Per interface, the VRIDs the node runs there in each family."""
    out: dict[str, VridSets] = {}
    for ispec in instances:
        version = 4 if ispec.family is Family.IPV4 else 6
        out.setdefault(ispec.interface, {4: set(), 6: set()})[version].add(ispec.vrid)
    return out


class NodeCapture:
    """One filtered capture socket per interface, read on the event loop."""

    def __init__(self, instances: Iterable[InstanceSpec], receive: Receiver) -> None:
        self.receive = receive
        self.sets = vrid_sets(instances)
        self.interfaces = tuple(sorted(self.sets))
        self._captures: list[CaptureSocket] = []
        self.read = 0
        self.kernel_drops = 0

    def open(self) -> None:
        """Open every socket first, so a missing interface fails before anything runs."""
        try:
            for name in self.interfaces:
                self._captures.append(CaptureSocket(name, vrids=self.sets[name]))
        except Exception:
            self.close()
            raise

    def retune(self, instances: Iterable[InstanceSpec]) -> None:
        """A reload changed the instances: each socket's filter follows (atomically, in
        the kernel). Interfaces stay those of the start (a reload cannot add one)."""
        sets = vrid_sets(instances)
        for cap in self._captures:
            wanted = sets.get(cap.interface, {4: set(), 6: set()})
            if wanted != self.sets.get(cap.interface):
                cap.set_vrids(wanted)
        self.sets = {name: sets.get(name, {4: set(), 6: set()}) for name in self.interfaces}

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        for cap in self._captures:
            loop.add_reader(cap.fileno(), self._on_readable, cap)

    def stop(self, loop: asyncio.AbstractEventLoop) -> None:
        for cap in self._captures:
            loop.remove_reader(cap.fileno())

    def _on_readable(self, cap: CaptureSocket) -> None:
        interface = cap.interface
        receive = self.receive
        packets = cap.read_batch(READ_BATCH)
        self.read += len(packets)
        for packet in packets:
            frame = decode(packet.data)
            if frame is not None:
                receive(interface, frame, False)

    def check_drops(self) -> int:
        """Frames the kernel dropped since the last call (logged: a node that misses its
        peers' adverts may take over wrongly)."""
        new = 0
        for cap in self._captures:
            _packets, drops = cap.statistics()
            if drops:
                log.warning(
                    "the kernel dropped %d adverts for the node on %s", drops, cap.interface
                )
            new += drops
        self.kernel_drops += new
        return new

    def close(self) -> None:
        for cap in self._captures:
            cap.close()
        self._captures.clear()
