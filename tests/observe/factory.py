"""Builders for observer tests: adverts, ARP/ND frames and timed captures."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hatui.codec.frames import (
    ArpFrame,
    Auth,
    Captured,
    CarpAdvert,
    Family,
    Link,
    NeighborAdvert,
    Rejected,
    RejectReason,
    VrrpAdvert,
)
from hatui.observe.events import Event
from hatui.observe.observer import Observer
from hatui.types import WallUs

S = 1_000_000  # one second in microseconds
MS = 1_000
T0 = 1_700_000_000 * S  # an arbitrary, whole-second epoch for every scenario

A, B, C = "192.0.2.11", "192.0.2.12", "192.0.2.13"
VIP = "192.0.2.100"
GROUP_V4 = "224.0.0.18"


def mac_of(ip: str) -> str:
    """02:00:00:00:00:XX from the address's last number (hex digits as decimal text)."""
    last = ip.replace(":", ".").split(".")[-1] or "0"
    return f"02:00:00:00:00:{int(last) % 100:02d}"


def at(us: int) -> WallUs:
    """A timestamp `us` microseconds after T0."""
    return WallUs(T0 + us)


def advert(
    src: str = A,
    *,
    vrid: int = 51,
    priority: int = 150,
    interval_cs: int = 100,
    version: int = 2,
    vips: tuple[str, ...] = (VIP,),
    family: Family = Family.IPV4,
    dst: str | None = None,
    mac: str | None = None,
    **kw: Any,
) -> VrrpAdvert:
    if dst is None:
        dst = GROUP_V4 if family is Family.IPV4 else "ff02::12"
    return VrrpAdvert(
        link=Link(src_mac=mac or mac_of(src), dst_mac="01:00:5e:00:00:12"),
        family=family,
        src_ip=src,
        dst_ip=dst,
        ttl=255,
        version=version,
        vrid=vrid,
        priority=priority,
        interval_cs=interval_cs,
        addresses=vips,
        **kw,
    )


def cap(us: int, frame: Any, interface: str = "eth0") -> Captured:
    return Captured(time=at(us), interface=interface, frame=frame)


def series(
    start_us: int, count: int, every_us: int, frame: Any, iface: str = "eth0"
) -> list[Captured]:
    """`count` copies of `frame`, the first at start_us, then every `every_us`."""
    return [cap(start_us + i * every_us, frame, iface) for i in range(count)]


def merge(*streams: Iterable[Captured]) -> list[Captured]:
    """Interleave streams by time (stable: equal stamps keep argument order)."""
    out = [c for s in streams for c in s]
    out.sort(key=lambda c: c.time)
    return out


def arp(
    ip: str, mac: str, *, op: int = 2, gratuitous: bool = False, target_ip: str = "192.0.2.9"
) -> ArpFrame:
    return ArpFrame(
        link=Link(src_mac=mac, dst_mac="ff:ff:ff:ff:ff:ff"),
        op=1 if gratuitous else op,
        sender_mac=mac,
        sender_ip=ip,
        target_mac="ff:ff:ff:ff:ff:ff" if gratuitous else "02:00:00:00:00:09",
        target_ip=ip if gratuitous else target_ip,
    )


def na(ip: str, mac: str, *, solicited: bool = False) -> NeighborAdvert:
    return NeighborAdvert(
        link=Link(src_mac=mac, dst_mac="33:33:00:00:00:01"),
        src_ip="fe80::1",
        dst_ip="ff02::1",
        target_ip=ip,
        target_mac=mac,
        router=False,
        solicited=solicited,
        override=True,
    )


def carp(vhid: int = 7, src: str = C) -> CarpAdvert:
    return CarpAdvert(
        link=Link(src_mac=mac_of(src), dst_mac="01:00:5e:00:00:12"),
        family=Family.IPV4,
        src_ip=src,
        dst_ip=GROUP_V4,
        vhid=vhid,
        advbase=1,
        advskew=0,
    )


def rejected(reason: RejectReason, src: str = A, vrid: int | None = 51) -> Rejected:
    return Rejected(reason=reason, detail=f"bad {reason}", src_ip=src, vrid=vrid)


def run(obs: Observer, items: Iterable[Captured]) -> list[Event]:
    """Feed every item; return all events in order."""
    out: list[Event] = []
    for item in items:
        out.extend(obs.feed(item))
    return out


def kinds(events: Iterable[Event]) -> list[tuple[str, int]]:
    """(kind, microseconds after T0) for each event: compact exact expectations."""
    return [(str(e.kind), e.time - T0) for e in events]


__all__ = ["Auth"]
