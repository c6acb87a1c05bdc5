"""Builders shared by the router tests: specs, adverts, routers in a known state."""

from __future__ import annotations

from typing import Any

from hatui.codec.frames import Auth, Family, Link, VrrpAdvert
from hatui.types import MonoUs
from hatui.vrrp.inputs import Startup, TimerFired
from hatui.vrrp.machine import Router
from hatui.vrrp.spec import InstanceSpec, Vip
from hatui.vrrp.state import State

VIP = Vip(address="192.0.2.100", prefixlen=24)
VIPS = (VIP,)
ADDRS = ("192.0.2.100",)
ME = "192.0.2.11"
PEER = "192.0.2.12"


def spec(**kw: Any) -> InstanceSpec:
    base: dict[str, Any] = {"name": "VI_1", "interface": "eth0", "vrid": 51, "vips": VIPS}
    base.update(kw)
    return InstanceSpec(**base)


def advert(
    *, src: str = PEER, priority: int = 100, interval_cs: int = 100, version: int = 2, **kw: Any
) -> VrrpAdvert:
    fields: dict[str, Any] = {
        "link": Link(src_mac="02:00:00:00:00:12", dst_mac="01:00:5e:00:00:12"),
        "family": Family.IPV4,
        "src_ip": src,
        "dst_ip": "224.0.0.18",
        "ttl": 255,
        "version": version,
        "vrid": 51,
        "priority": priority,
        "interval_cs": interval_cs,
        "addresses": ADDRS,
        "auth": Auth.NONE,
    }
    fields.update(kw)
    return VrrpAdvert(**fields)


def backup(s: InstanceSpec | None = None, *, ip: str = ME, now: int = 0) -> Router:
    r = Router(s or spec(), primary_ip=ip)
    r.handle(Startup(), MonoUs(now))
    assert r.state is State.BACKUP
    return r


def master(s: InstanceSpec | None = None, *, ip: str = ME) -> tuple[Router, MonoUs]:
    """A router that became master by its Master_Down timer; returns it and that time."""
    r = backup(s, ip=ip)
    now = r.deadline()
    assert now is not None
    r.handle(TimerFired(), now)
    assert r.state is State.MASTER
    return r, now
