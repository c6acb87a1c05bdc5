"""RealNodeIO's advert memo: a repeat reuses the bytes, any change re-encodes them."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from types import SimpleNamespace

from hatui.codec.frames import Link, VrrpAdvert
from hatui.codec.vrrp import parse_vrrp
from hatui.runtime.nodeio import RealNodeIO
from hatui.vrrp import actions as act
from hatui.vrrp.spec import InstanceSpec, Vip

LINK = Link(src_mac="02:00:00:00:00:0b", dst_mac="01:00:5e:00:00:12")


@dataclass
class FakeSender:
    src_ip: str = "192.0.2.11"
    interface: str = "eth0"
    sent: list[tuple[bytes, str]] = field(default_factory=list)

    def send(self, payload: bytes, dst: str) -> bool:
        self.sent.append((payload, dst))
        return True


def io_with(spec: InstanceSpec) -> tuple[RealNodeIO, FakeSender]:
    io = RealNodeIO.__new__(RealNodeIO)  # no sockets: the memo is what is under test
    sender = FakeSender()
    io.senders = {spec.name: sender}  # type: ignore[dict-item]
    io._encoded = {}
    io.garps = {"eth0": SimpleNamespace(mac="02:00:00:00:00:0b")}  # type: ignore[dict-item]
    return io, sender


def decoded(payload: bytes, dst: str) -> VrrpAdvert:
    addrs = socket.inet_aton("192.0.2.11") + socket.inet_aton(dst)
    out = parse_vrrp(payload, v6=False, addrs=addrs, ttl=255, link=LINK)
    assert isinstance(out, VrrpAdvert), out
    return out


def spec(**kw: object) -> InstanceSpec:
    base: dict[str, object] = {
        "name": "VI_1",
        "interface": "eth0",
        "vrid": 51,
        "priority": 100,
        "advert_int_us": 100_000,
        "version": 3,
        "vips": (Vip(address="192.0.2.100", prefixlen=24),),
    }
    return InstanceSpec(**{**base, **kw})  # type: ignore[arg-type]


def test_repeated_advert_reuses_bytes_and_every_change_reencodes() -> None:
    s = spec()
    io, sender = io_with(s)
    base = act.SendAdvert(priority=100, interval_cs=10, addresses=("192.0.2.100",))
    io.send_advert(s, "192.0.2.11", base)
    io.send_advert(s, "192.0.2.11", base)
    assert sender.sent[0][0] is sender.sent[1][0]  # a memo hit: the same object
    # An equal advert in another object (a router rebuilt it) is a hit too.
    io.send_advert(
        s, "192.0.2.11", act.SendAdvert(priority=100, interval_cs=10, addresses=("192.0.2.100",))
    )
    assert sender.sent[2][0] is sender.sent[0][0]
    del sender.sent[2]
    changes = [
        act.SendAdvert(priority=0, interval_cs=10, addresses=("192.0.2.100",)),
        act.SendAdvert(priority=0, interval_cs=20, addresses=("192.0.2.100",)),
        act.SendAdvert(priority=0, interval_cs=20, addresses=("192.0.2.100", "192.0.2.101")),
    ]
    for advert in changes:
        io.send_advert(s, "192.0.2.11", advert)
    got = [decoded(p, d) for p, d in sender.sent]
    assert [(a.priority, a.interval_cs, a.addresses) for a in got] == [
        (100, 10, ("192.0.2.100",)),
        (100, 10, ("192.0.2.100",)),
        (0, 10, ("192.0.2.100",)),
        (0, 20, ("192.0.2.100",)),
        (0, 20, ("192.0.2.100", "192.0.2.101")),
    ]


def test_unicast_peers_each_get_their_own_checksummed_copy() -> None:
    s = spec(unicast_peers=("192.0.2.12", "192.0.2.13"))
    io, sender = io_with(s)
    advert = act.SendAdvert(priority=100, interval_cs=10, addresses=("192.0.2.100",))
    io.send_advert(s, "192.0.2.11", advert)
    io.send_advert(s, "192.0.2.11", advert)
    assert [d for _, d in sender.sent] == ["192.0.2.12", "192.0.2.13"] * 2
    # v3's IPv4 checksum covers the pseudo-header: each peer's bytes differ and verify.
    assert sender.sent[0][0] != sender.sent[1][0]
    for payload, dst in sender.sent:
        assert decoded(payload, dst).priority == 100
