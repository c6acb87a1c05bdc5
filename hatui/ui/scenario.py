"""Deterministic scenarios for tests, snapshots and screenshots: real observer output.

Frames are built with the codec's builders and fed to a real Observer at fixed times, so
the documents are exactly what a capture would give, with no wall clock anywhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hatui.codec.build import build_garp_frame, build_vrrp_frame
from hatui.codec.decode import decode
from hatui.codec.frames import Captured
from hatui.observe.observer import Observer
from hatui.observe.report import event_to_json, snapshot_to_json
from hatui.types import WallUs

if TYPE_CHECKING:
    from hatui.adapters.haproxy import Poll

Json = dict[str, Any]
T0 = 1_700_000_000_000_000  # 2023-11-14 22:13:20 UTC, in microseconds
IFACE = "eth0"
VIP = "192.0.2.100"


def mac_of(ip: str) -> str:
    """The lab's MAC convention: 02:00:00:00:00:<last octet>."""
    return f"02:00:00:00:00:{int(ip.rsplit('.', 1)[1]):02x}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Stream:
    """One sender advertising one VRID from `start` to `end` (seconds after T0)."""

    ip: str
    vrid: int
    priority: int
    start: float
    end: float
    interval_cs: int = 100
    vips: tuple[str, ...] = (VIP,)
    version: int = 2
    release_at_end: bool = False  # send a priority 0 advert when the stream ends
    garp: bool = True  # a burst of gratuitous ARPs at the start, as keepalived does
    jitter_us: int = 0  # alternating lateness, to give the interval sparkline a shape

    def frames(self) -> Iterator[tuple[int, bytes]]:
        step = self.interval_cs * 10_000
        t = T0 + round(self.start * 1e6)
        end = T0 + round(self.end * 1e6)
        n = 0
        mac = mac_of(self.ip)
        if self.garp:
            for k in range(3):
                for vip in self.vips:
                    yield t + k * 1000, build_garp_frame(mac=mac, ip=vip)
        while t <= end:
            wobble = (n % 5) * self.jitter_us
            yield t + wobble, self._advert(self.priority)
            t += step
            n += 1
        if self.release_at_end:
            yield end + 1000, self._advert(0)

    def _advert(self, priority: int) -> bytes:
        return build_vrrp_frame(
            src_mac=mac_of(self.ip),
            src_ip=self.ip,
            vrid=self.vrid,
            priority=priority,
            interval_cs=self.interval_cs,
            addresses=self.vips,
            version=self.version,
        )


def run(
    streams: list[Stream], until: float, extra: list[tuple[int, bytes]] | None = None
) -> tuple[Json, list[Json]]:
    """Feed every stream's frames (and `extra` ones) in time order; the document at
    `until` and all events."""
    obs = Observer()
    frames = sorted([*((t, data) for s in streams for t, data in s.frames()), *(extra or [])])
    events: list[Json] = []
    for t, data in frames:
        frame = decode(data)
        if frame is not None:
            events += map(
                event_to_json, obs.feed(Captured(time=WallUs(t), interface=IFACE, frame=frame))
            )
    end = WallUs(T0 + round(until * 1e6))
    events += map(event_to_json, obs.tick(end))
    doc = snapshot_to_json(obs.snapshot(end))
    doc["events"] = []
    counters = doc["counters"]
    assert isinstance(counters, dict)
    counters["kernel_drops"] = 0
    return doc, events


def pair() -> tuple[Json, list[Json]]:
    """VRID 51: .11 (150) masters, releases at 20 s, .12 (100) takes over, .11 preempts back
    at 40 s. VRID 52 (v3, 0.1 s) steady with jitter; VRID 60 went stale at 30 s."""
    return run(
        [
            Stream(ip="192.0.2.11", vrid=51, priority=150, start=0, end=20, release_at_end=True),
            Stream(ip="192.0.2.12", vrid=51, priority=100, start=20.61, end=40.5),
            Stream(ip="192.0.2.11", vrid=51, priority=150, start=40, end=45),
            Stream(
                ip="192.0.2.13",
                vrid=52,
                priority=200,
                start=30,
                end=45,
                interval_cs=10,
                version=3,
                vips=("192.0.2.101", "192.0.2.102"),
                jitter_us=4000,
            ),
            Stream(ip="192.0.2.14", vrid=60, priority=100, start=0, end=30, vips=("192.0.2.110",)),
        ],
        until=45.3,
    )


def split_brain() -> tuple[Json, list[Json]]:
    """VRID 51 with both .11 and .12 advertising for 8 s: each claims 192.0.2.100."""
    return run(
        [
            Stream(ip="192.0.2.11", vrid=51, priority=150, start=0, end=30),
            Stream(ip="192.0.2.12", vrid=51, priority=100, start=22, end=30),
            Stream(ip="192.0.2.14", vrid=60, priority=100, start=0, end=30, vips=("192.0.2.110",)),
        ],
        until=30.2,
    )


def vendors() -> tuple[Json, list[Json]]:
    """A LAN of several vendors: keepalived VRRP (VRID 51), a Cisco VRRPv2 router with MD5
    (VRID 20), an HSRPv2 group (10) whose standby (priority 120, preempt) stages a coup at
    20 s and the old active steps down to standby, a CARP group
    (VHID 7) answering ARP with its virtual MAC, and GLBP."""
    from hatui.codec.build import build_carp_frame, build_hsrp_frame, build_udp_frame
    from hatui.codec.frames import Auth, Family, HsrpOp, HsrpState
    from hatui.codec.hsrp import encode_glbp
    from hatui.codec.vrrp import encode_vrrp

    at = _at
    extra: list[tuple[int, bytes]] = []
    cisco = encode_vrrp(
        version=2,
        vrid=20,
        priority=110,
        interval_cs=100,
        addresses=["192.0.2.120"],
        family=Family.IPV4,
        src_ip="192.0.2.20",
        dst_ip="224.0.0.18",
        auth=Auth.CISCO_MD5,
        trailer=bytes((3, 25)) + bytes(23),
    )
    for k in range(31):
        extra.append(
            (
                at(k),
                build_vrrp_frame(
                    src_mac="00:00:5e:00:01:14",
                    src_ip="192.0.2.20",
                    vrid=20,
                    addresses=[],
                    version=2,
                    vrrp=cisco,
                ),
            )
        )
    hsrp_vip = "192.0.2.1"
    for k in range(31):
        first = k * 1.0
        a_state = HsrpState.ACTIVE if first < 20 else HsrpState.STANDBY
        b_state = HsrpState.STANDBY if first < 20 else HsrpState.ACTIVE
        b_op = HsrpOp.COUP if k == 20 else HsrpOp.HELLO
        extra.append(
            (
                at(first + (0.1 if k != 20 else 0.2)),
                build_hsrp_frame(
                    src_mac="00:00:0c:9f:f0:0a"
                    if a_state is HsrpState.ACTIVE
                    else "02:00:00:00:00:21",
                    src_ip="192.0.2.21",
                    version=2,
                    group=10,
                    state=a_state,
                    priority=100,
                    hello_ms=1000,
                    hold_ms=3000,
                    vip=hsrp_vip,
                ),
            )
        )
        extra.append(
            (
                at(first + 0.15),
                build_hsrp_frame(
                    src_mac="00:00:0c:9f:f0:0a"
                    if b_state is HsrpState.ACTIVE
                    else "02:00:00:00:00:22",
                    src_ip="192.0.2.22",
                    version=2,
                    group=10,
                    state=b_state,
                    priority=120,
                    op=b_op,
                    hello_ms=1000,
                    hold_ms=3000,
                    vip=hsrp_vip,
                ),
            )
        )
    for k in range(31):
        extra.append(
            (
                at(k + 0.3),
                build_carp_frame(
                    src_mac="00:00:5e:00:01:07", src_ip="192.0.2.31", vhid=7, advskew=0
                ),
            )
        )
    extra.append((at(0.31), build_garp_frame(mac="00:00:5e:00:01:07", ip="192.0.2.130")))
    glbp = encode_glbp(group=3) + bytes(16)
    for k in range(0, 31, 3):
        extra.append(
            (
                at(k + 0.5),
                build_udp_frame(
                    src_mac="02:00:00:00:00:41",
                    src_ip="192.0.2.41",
                    dst_ip="224.0.0.102",
                    sport=3222,
                    dport=3222,
                    payload=glbp,
                ),
            )
        )
    streams = [Stream(ip="192.0.2.11", vrid=51, priority=150, start=0, end=30)]
    return run(streams, until=30.4, extra=extra)


def _at(seconds: float) -> int:
    return T0 + round(seconds * 1e6)


def many(n: int = 255) -> Json:
    """`n` VRIDs, one master each (VRID k from 192.0.2.k), for sorting and scrolling."""
    streams = [
        Stream(
            ip=f"192.0.2.{k}" if k < 255 else "198.51.100.255",
            vrid=k,
            priority=100 + k % 50,
            start=k * 0.001,
            end=3.5 if k % 17 else 1,  # every 17th VRID goes stale
            vips=(f"198.51.100.{k}",),
            garp=False,
        )
        for k in range(1, n + 1)
    ]
    doc, _events = run(streams, until=6.0)
    return doc


def node(state: str = "MASTER", *, held: bool | None = None) -> Json:
    """A node status document (`node_status_to_json`) for instance VI_1 as 192.0.2.11."""
    master = state == "MASTER"
    return {
        "instances": [
            {
                "name": "VI_1",
                "interface": IFACE,
                "vrid": 51,
                "version": 2,
                "family": "ipv4",
                "state": state,
                "state_age_s": 5.3,
                "state_cause": "preempted 192.0.2.12 (priority 100)",
                "primary_ip": "192.0.2.11",
                "base_priority": 150,
                "override": None,
                "effective_priority": 140,
                "trackers": [
                    {
                        "kind": "script",
                        "name": "chk_haproxy",
                        "weight": -10,
                        "ok": False,
                        "value": 0,
                        "contribution": -10,
                        "faulting": False,
                    }
                ],
                "faults": [],
                "link_up": True,
                "hold": False,
                "paused": False,
                "vips": [f"{VIP}/24"],
                "vips_held": master if held is None else held,
                "master_ip": "192.0.2.11" if master else "192.0.2.12",
                "last_advert": None,
                "advert_interval_ms": 1000.0,
                "master_adver_interval_ms": 1000.0,
                "skew_ms": 453.125,
                "master_down_ms": 3453.125,
                "preempt": True,
                "peers": [],
                "next_timer": "advert" if master else "master_down",
                "next_in_ms": 420.0 if master else 2800.0,
            }
        ],
        "counters": {"adverts_sent": 46, "adverts_received": 21},
    }


def many_node(n: int = 255) -> Json:
    """A node status document of `n` instances (VI_k, VRID k, VIP 198.51.100.k/24): odd
    VRIDs master, even ones backup, VI_7 paused, VI_9 and VI_11 under an operator priority."""
    status = node()
    base = status["instances"][0]
    status["instances"] = [
        dict(
            base,
            name=f"VI_{k}",
            vrid=k,
            state="MASTER" if k % 2 else "BACKUP",
            vips=[f"198.51.100.{k}/24"],
            vips_held=bool(k % 2),
            paused=k == 7,
            override={9: 200, 11: 50}.get(k),
        )
        for k in range(1, n + 1)
    ]
    return status


def haproxy_stopped(status: Json, at: float = 46.0) -> ScriptedHaproxy:
    """haproxy installed and not running beside the node of `status`: its stats socket
    (from haproxy.cfg) refuses, and every VIP the node holds is down."""
    from hatui.adapters.haproxy import HINT, Poll
    from hatui.haproxy.join import Unreached

    refused = f"{HAPROXY_SOCKET}: connection refused (haproxy not running, stale socket)"
    held = [i["vips"][0].split("/")[0] for i in status["instances"] if i["vips_held"]]
    poll = Poll(
        time_us=T0 + round(at * 1e6),
        socket=HAPROXY_SOCKET,
        outcome=Unreached(status=refused, configured=True, hint=HINT),
        local=frozenset(held),
    )
    return ScriptedHaproxy([poll])


def write_pcap(path: str, streams: list[Stream]) -> int:
    """The streams as a capture file (for --read tests and demos); returns the frame count."""
    from hatui.adapters.pcap import PcapWriter

    frames = sorted((t, data) for s in streams for t, data in s.frames())
    with PcapWriter(path) as out:
        for t, data in frames:
            out.write(t, data)
    return len(frames)


PAIR_STREAMS = [
    Stream(ip="192.0.2.11", vrid=51, priority=150, start=0, end=20, release_at_end=True),
    Stream(ip="192.0.2.12", vrid=51, priority=100, start=20.61, end=40.5),
    Stream(ip="192.0.2.11", vrid=51, priority=150, start=40, end=45),
]


# -- haproxy beside the VIP ----------------------------------------------------------------

HAPROXY_SOCKET = "/run/haproxy/admin.sock"
HAPROXY_CFG = """\
global
    stats socket /run/haproxy/admin.sock mode 600 level admin
frontend vip_web
    bind 192.0.2.100:80
    default_backend web
frontend vip_api
    bind 192.0.2.101:8080
    default_backend api
backend web
    server w1 192.0.2.21:80 check
    server w2 192.0.2.22:80 check
backend api
    server a1 192.0.2.23:8080 check
"""
_STAT_HEADER = (
    "# pxname,svname,qcur,scur,smax,slim,status,type,lastchg,check_status,check_code,"
    "check_duration,last_chk,req_rate,rate,addr\n"
)


def haproxy_stat(w1: str = "UP", w2: str = "UP", a1: str = "UP", *, sessions: int = 3) -> str:
    """A `show stat` answer for HAPROXY_CFG with the servers in the given states."""

    def server(backend: str, name: str, status: str, addr: str, since: int) -> str:
        check = "L7OK,200,1,OK" if status.startswith("UP") else "L4CON,,0,Connection refused"
        return f"{backend},{name},0,0,4,,{status},2,{since},{check},,,{addr}"

    up = sum(s.startswith("UP") for s in (w1, w2))
    rows = [
        f"vip_web,FRONTEND,,{sessions},12,2000,OPEN,0,,,,,,7,7,",
        "vip_api,FRONTEND,,0,2,2000,OPEN,0,,,,,,0,0,",
        server("web", "w1", w1, "192.0.2.21:80", 1520 if w1 == "UP" else 3),
        server("web", "w2", w2, "192.0.2.22:80", 1520 if w2 == "UP" else 3),
        f"web,BACKEND,0,{sessions},12,200,{'UP' if up else 'DOWN'},1,1520,,,,,,7,",
        server("api", "a1", a1, "192.0.2.23:8080", 1520),
        "api,BACKEND,0,0,2,200,UP,1,1520,,,,,,0,",
    ]
    return _STAT_HEADER + "\n".join(rows) + "\n"


def haproxy_poll(at: float, stat: str, *, local: tuple[str, ...] = ("192.0.2.11", VIP)) -> Poll:
    """A poll as the adapter makes it, `at` seconds after T0, of haproxy 2.6 on node a."""
    from hatui.adapters.haproxy import Poll
    from hatui.haproxy.config import parse_config
    from hatui.haproxy.join import Reached
    from hatui.haproxy.stats import Info, Stats, parse_stat

    stats = parse_stat(stat)
    assert isinstance(stats, Stats), stats
    outcome = Reached(
        info=Info(version="2.6.12-1+deb12u4", pid=4242, uptime_s=1520),
        stats=stats,
        config=parse_config(HAPROXY_CFG),
        config_path="/etc/haproxy/haproxy.cfg",
    )
    return Poll(
        time_us=T0 + round(at * 1e6),
        socket=HAPROXY_SOCKET,
        outcome=outcome,
        local=frozenset(local),
    )


class ScriptedHaproxy:
    """Posts fixed polls, then more on `push`: the console's haproxy source in tests."""

    def __init__(self, polls: list[Poll]) -> None:
        self.polls = polls
        self.on_poll: Callable[[Poll], object] | None = None

    async def run(self, on_poll: Callable[[Poll], object], stop: asyncio.Event) -> None:
        self.on_poll = on_poll
        for poll in self.polls:
            on_poll(poll)
        await stop.wait()

    def push(self, poll: Poll) -> None:
        assert self.on_poll is not None, "the poller is not running yet"
        self.on_poll(poll)


def haproxy_story() -> ScriptedHaproxy:
    """haproxy on node a: all UP at 44 s, then web's w2 fails its checks at 45 s."""
    return ScriptedHaproxy(
        [haproxy_poll(44.0, haproxy_stat()), haproxy_poll(45.0, haproxy_stat(w2="DOWN"))]
    )
