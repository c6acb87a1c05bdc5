"""ARP / ND ownership of addresses: which MAC answers for each IP, and its GARP bursts."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from hatui.codec.frames import is_virtual_mac
from hatui.observe.model import ArpView
from hatui.observe.rules import GARP_BURST_GAP_US
from hatui.types import WallUs

ArpKey = tuple[str, str]  # (interface, ip): ARP is per link


@dataclass(slots=True, kw_only=True)
class ArpEntry:
    """The last answer for one address on one link."""

    interface: str
    ip: str
    mac: str
    first_seen: int
    last_seen: int
    gratuitous: bool = False
    garps: int = 0
    garp_bursts: int = 0
    last_garp: int | None = None
    last_garp_mac: str = ""
    owner_changes: int = 0
    foreign_reported: str | None = None  # the foreign MAC already reported, to report once

    def view(self, vip: bool, source: str | None = None) -> ArpView:
        return ArpView(
            interface=self.interface,
            ip=self.ip,
            mac=self.mac,
            first_seen=WallUs(self.first_seen),
            last_seen=WallUs(self.last_seen),
            gratuitous=self.gratuitous,
            garps=self.garps,
            garp_bursts=self.garp_bursts,
            owner_changes=self.owner_changes,
            vip=vip,
            virtual_mac=is_virtual_mac(self.mac),
            source=source,
        )


class ArpTable:
    """Entries for virtual IPs (as many as routers advertise) plus an LRU of other
    addresses, so a busy LAN's ARP chatter cannot grow memory without bound."""

    def __init__(self, *, other_limit: int = 256) -> None:
        self._vips: dict[ArpKey, ArpEntry] = {}
        self._others: OrderedDict[ArpKey, ArpEntry] = OrderedDict()
        self._other_limit = other_limit

    def answer(
        self, key: ArpKey, mac: str, t: int, gratuitous: bool, vip: bool
    ) -> tuple[ArpEntry, str | None]:
        """Record an answer; returns the entry and the previous MAC if the owner changed."""
        table = self._vips if vip else self._others
        entry = table.get(key)
        old: str | None = None
        if entry is None:
            entry = ArpEntry(interface=key[0], ip=key[1], mac=mac, first_seen=t, last_seen=t)
            table[key] = entry
            if not vip and len(self._others) > self._other_limit:
                self._others.popitem(last=False)
        else:
            if not vip:
                self._others.move_to_end(key)
            if entry.mac != mac:
                old = entry.mac
                entry.mac = mac
                entry.owner_changes += 1
        entry.last_seen = t
        entry.gratuitous = gratuitous
        if gratuitous:
            entry.garps += 1
            # One burst: GARPs for this VIP from this MAC with < 1 s between them.
            last = entry.last_garp
            if last is None or entry.last_garp_mac != mac or t - last >= GARP_BURST_GAP_US:
                entry.garp_bursts += 1
            entry.last_garp = t
            entry.last_garp_mac = mac
        return entry, old

    def promote(self, key: ArpKey) -> None:
        """An address became a VIP (observe/vips.py): keep its entry out of the LRU."""
        entry = self._others.pop(key, None)
        if entry is not None:
            self._vips[key] = entry

    def demote(self, key: ArpKey) -> None:
        """The address is no VIP any more: back to the LRU."""
        entry = self._vips.pop(key, None)
        if entry is not None:
            self._others[key] = entry
            if len(self._others) > self._other_limit:
                self._others.popitem(last=False)

    def mark_vip(self, key: ArpKey, vip: bool) -> None:
        """The VIP ledger (observe/vips.py) says whether this address is a VIP."""
        if vip:
            self.promote(key)
        else:
            self.demote(key)

    def __len__(self) -> int:
        return len(self._vips) + len(self._others)

    def views(self, sources: Mapping[ArpKey, str] | None = None) -> tuple[ArpView, ...]:
        """Every entry, VIPs first per interface; `sources` says why each VIP is one."""
        src = sources or {}
        rows = [e.view(True, src.get(k)) for k, e in self._vips.items()]
        rows += [e.view(False) for e in self._others.values()]
        rows.sort(key=lambda v: (v.interface, not v.vip, v.ip))
        return tuple(rows)
