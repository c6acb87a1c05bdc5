"""Write a benchmark capture: 255 VRIDs x (IPv4, IPv6), failovers, ARP/ND, a few rejects.

Run: python bench/gen.py OUT.pcap [--frames N] [--seed S] [--mix]

--mix adds the other vendors of a mixed LAN: 96 HSRP groups (v1 at 1 s, v2 over IPv4 and
IPv6 at 300 ms; active and standby both say hello), 64 CARP VHIDs (advbase 1, IPv4 and
IPv6) and 8 GLBP groups: about a quarter of the frames.

Every distinct frame is built once with hatui.codec.build; the loop only patches the
IPv4 identification (keepalived increments it per advert) and its header checksum, then
appends bytes. Timestamps are in order: one heap merges every router's advert schedule
with the ARP, ND, gratuitous-burst and reject frames they cause.
"""

from __future__ import annotations

import argparse
import heapq
import random
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from hatui.adapters.pcap import PcapWriter
from hatui.codec.build import (
    build_arp_frame,
    build_carp_frame,
    build_garp_frame,
    build_hsrp_frame,
    build_na_frame,
    build_udp_frame,
    build_vrrp_frame,
)
from hatui.codec.frames import Auth, Family, HsrpState
from hatui.codec.hsrp import encode_glbp

START_US = 1_700_000_000_000_000
PAIRS = 8  # keepalived node pairs; each runs a share of the 255 VRIDs
FAILOVER_EVERY = 17  # every 17th router (IPv4 and IPv6) has a failover script
ARP_ANSWER_P = 0.03  # share of adverts followed by a client's ARP/ND question and its answer
REJECT_EVERY = 20_000  # about one rejected frame per this many frames
GARP_BURST = 5  # keepalived: 5 gratuitous ARPs at the transition, 5 more after 5 s
GARP_REPEAT_US = 5_000_000
GARP_SPACING_US = 1_000


@dataclass(slots=True)
class Speaker:
    """One node's frames for one router, built once."""

    ip: str
    mac: str
    priority: int
    advert: bytes
    release: bytes  # the same advert with priority 0
    announce: list[bytes]  # gratuitous ARP (IPv4) or unsolicited NA (IPv6) per VIP
    answer: bytes  # reply to a client's question for the first VIP
    ttl_254: bytes  # a spoofed-looking advert with TTL 254: rejected (RFC 5798 7.1)
    bad_sum: bytes  # one bit flipped in the VRRP checksum: rejected


@dataclass(slots=True)
class Router:
    vrid: int
    family: Family
    version: int
    interval_us: int
    a: Speaker  # the preferred master
    b: Speaker  # the backup
    question: bytes  # a client asking for the first VIP
    v4: bool
    ident: int = 0
    master: Speaker | None = None
    script: list[tuple[int, str]] = field(default_factory=list)  # (time, kill|release|preempt)


def _addresses(vrid: int, family: Family) -> list[str]:
    if family is Family.IPV6:
        return [f"2001:db8:1::{vrid:x}", f"2001:db8:2::{vrid:x}"]
    return [f"198.51.100.{vrid}" if vrid < 255 else "203.0.113.255", f"203.0.113.{vrid % 255}"]


def _speaker(
    vrid: int, family: Family, version: int, interval_cs: int, node: int, priority: int
) -> Speaker:
    octet = 11 + node
    mac = f"02:00:00:00:00:{octet:02x}"
    ip = f"192.0.2.{octet}" if family is Family.IPV4 else f"fe80::{octet:x}"
    vips = _addresses(vrid, family)
    auth = Auth.SIMPLE if version == 2 and vrid % 3 == 0 else Auth.NONE

    def advert(prio: int, ttl: int = 255) -> bytes:
        return build_vrrp_frame(
            src_mac=mac,
            src_ip=ip,
            vrid=vrid,
            priority=prio,
            interval_cs=interval_cs,
            addresses=vips,
            version=version,
            family=family,
            auth=auth,
            auth_pass=b"bench" if auth is Auth.SIMPLE else b"",
            ttl=ttl,
        )

    good = advert(priority)
    at = 14 + (20 if family is Family.IPV4 else 40) + 6  # the VRRP checksum's low byte
    bad = good[:at] + bytes((good[at] ^ 1,)) + good[at + 1 :]
    if family is Family.IPV4:
        announce = [build_garp_frame(mac=mac, ip=v) for v in vips]
        answer = build_arp_frame(
            op=2, sender_mac=mac, sender_ip=vips[0], target_mac=_CLIENT_MAC, target_ip=_CLIENT_V4
        )
    else:
        announce = [build_na_frame(src_mac=mac, src_ip=ip, target_ip=v) for v in vips]
        answer = build_na_frame(
            src_mac=mac,
            src_ip=ip,
            target_ip=vips[0],
            dst_ip=_CLIENT_V6,
            solicited=True,
            override=False,
        )
    return Speaker(
        ip=ip,
        mac=mac,
        priority=priority,
        advert=good,
        release=advert(0),
        announce=announce,
        answer=answer,
        ttl_254=advert(priority, ttl=254),
        bad_sum=bad,
    )


_CLIENT_MAC = "02:00:00:00:00:99"
_CLIENT_V4 = "192.0.2.99"
_CLIENT_V6 = "fe80::99"


def _question(vrid: int, family: Family) -> bytes:
    vip = _addresses(vrid, family)[0]
    if family is Family.IPV4:
        return build_arp_frame(
            op=1, sender_mac=_CLIENT_MAC, sender_ip=_CLIENT_V4, target_ip=vip, pad=True
        )
    return b""  # a neighbour solicitation: the capture filter and the codec skip it


def routers() -> list[Router]:
    """255 VRIDs in both families: v2 at 1 s, v3 at 1 s, v3 at 0.1 s (a third each, IPv4);
    IPv6 is always v3 (RFC 5798), at the VRID's interval."""
    out = []
    for vrid in range(1, 256):
        pair = vrid % PAIRS
        fast = vrid > 170
        interval_cs = 10 if fast else 100
        for family in (Family.IPV4, Family.IPV6):
            version = 2 if family is Family.IPV4 and vrid <= 85 else 3
            a = _speaker(vrid, family, version, interval_cs, 2 * pair, 150)
            b = _speaker(vrid, family, version, interval_cs, 2 * pair + 1, 100)
            out.append(
                Router(
                    vrid=vrid,
                    family=family,
                    version=version,
                    interval_us=interval_cs * 10_000,
                    a=a,
                    b=b,
                    question=_question(vrid, family),
                    v4=family is Family.IPV4,
                )
            )
    return out


def _skew_us(r: Router, priority: int) -> int:
    # RFC 3768 6.1 (v2: seconds) and RFC 5798 6.1 (v3: scaled by the interval).
    if r.version == 2:
        return (256 - priority) * 1_000_000 // 256
    return (256 - priority) * r.interval_us // 256


def _patch_ident(frame: bytes, ident: int) -> bytes:
    """The IPv4 advert with identification `ident` and its header checksum redone."""
    head = bytearray(frame[14:34])
    head[4:6] = ident.to_bytes(2, "big")
    head[10:12] = b"\x00\x00"
    total = sum(struct.unpack("!10H", head))
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    head[10:12] = (~total & 0xFFFF).to_bytes(2, "big")
    return frame[:14] + bytes(head) + frame[34:]


@dataclass(slots=True)
class Periodic:
    """A frame repeated every `interval_us` (HSRP hellos, CARP adverts, GLBP hellos)."""

    interval_us: int
    frame: bytes
    kind: str
    v4: bool
    ident: int = 0


def others() -> list[Periodic]:
    """The mixed LAN's HSRP, CARP and GLBP speakers (see the module docstring)."""
    out: list[Periodic] = []
    for g in range(1, 97):
        version, family = (1, Family.IPV4) if g <= 32 else (2, Family.IPV4)
        if g > 64:
            family = Family.IPV6
        hello = 1_000_000 if version == 1 else 300_000
        for node, state, prio in ((0, HsrpState.ACTIVE, 120), (1, HsrpState.STANDBY, 100)):
            octet = 100 + node
            v6 = family is Family.IPV6
            frame = build_hsrp_frame(
                src_mac=f"02:00:00:00:01:{octet:02x}",
                src_ip=f"fe80::1:{octet:x}" if v6 else f"192.0.2.{octet}",
                version=version,
                group=g,
                state=state,
                priority=prio,
                hello_ms=hello // 1000,
                hold_ms=3 * hello // 1000 + 100,
                vip=f"2001:db8:3::{g:x}" if v6 else f"203.0.113.{g}",
                family=family,
            )
            out.append(Periodic(interval_us=hello, frame=frame, kind="hsrp", v4=not v6))
    for vhid in range(1, 65):
        v6 = vhid > 32
        frame = build_carp_frame(
            src_mac=f"00:00:5e:00:01:{vhid:02x}",
            src_ip=f"fe80::2:{vhid:x}" if v6 else f"192.0.2.{150 + vhid}",
            vhid=vhid,
            family=Family.IPV6 if v6 else Family.IPV4,
        )
        out.append(Periodic(interval_us=1_000_000, frame=frame, kind="carp", v4=not v6))
    for group in range(1, 9):
        frame = build_udp_frame(
            src_mac=f"02:00:00:00:02:{group:02x}",
            src_ip=f"192.0.2.{230 + group}",
            dst_ip="224.0.0.102",
            sport=3222,
            dport=3222,
            payload=encode_glbp(group=group) + bytes(40),
        )
        out.append(Periodic(interval_us=3_000_000, frame=frame, kind="glbp", v4=True))
    return out


def generate(path: Path, frames: int, seed: int = 1, *, mix: bool = False) -> dict[str, int]:
    """Write `frames` records to `path`; returns counts by kind."""
    rng = random.Random(seed)
    rs = routers()
    extra = others() if mix else []
    rate = sum(1_000_000 / r.interval_us for r in rs) + sum(
        1_000_000 / p.interval_us for p in extra
    )
    duration = int(frames / rate * 1_000_000)
    for i, r in enumerate(rs):
        r.master = r.a
        if i % FAILOVER_EVERY == 3:
            # A crash, the preferred node back (preempt), then a graceful release.
            t0 = rng.randrange(duration // 10, duration // 3)
            t1 = t0 + rng.randrange(duration // 10, duration // 4)
            t2 = t1 + rng.randrange(duration // 10, duration // 4)
            r.script = [(t0, "kill"), (t1, "preempt"), (t2, "release")]
    counts = {"advert": 0, "garp": 0, "arp": 0, "reject": 0, "hsrp": 0, "carp": 0, "glbp": 0}
    heap: list[tuple[int, int, int, bytes]] = []  # (time, seq, router index or -1, frame)
    seq = 0
    for i, r in enumerate(rs):
        heap.append((START_US + rng.randrange(r.interval_us), seq, i, b""))
        seq += 1
    for k, per in enumerate(extra):
        heap.append((START_US + rng.randrange(per.interval_us), seq, len(rs) + k, b""))
        seq += 1
    heapq.heapify(heap)

    def later(t: int, frame: bytes, kind: str) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(heap, (t, seq, -1, frame))
        counts[kind] += 1

    def burst(r: Router, s: Speaker, t: int) -> None:
        for rep in (0, GARP_REPEAT_US):
            for k in range(GARP_BURST):
                for frame in s.announce:
                    later(t + rep + (k + 1) * GARP_SPACING_US, frame, "garp")

    written = 0
    next_reject = REJECT_EVERY // 2
    rand = rng.random
    with PcapWriter(path) as w:
        write = w.write
        while written < frames:
            t, _, i, frame = heap[0]
            if i < 0:
                heapq.heappop(heap)
                write(t, frame)
                written += 1
                continue
            if i >= len(rs):  # another vendor's periodic hello
                per = extra[i - len(rs)]
                frame = per.frame
                if per.v4:
                    per.ident = (per.ident + 1) & 0xFFFF
                    frame = _patch_ident(frame, per.ident)
                heapq.heapreplace(heap, (t + per.interval_us, seq, i, b""))
                seq += 1
                write(t, frame)
                written += 1
                counts[per.kind] += 1
                continue
            r = rs[i]
            s = r.master
            assert s is not None
            interval = r.interval_us
            if r.script and t - START_US >= r.script[0][0]:
                _, what = r.script.pop(0)
                if what == "kill":  # A dies silently; B waits Master_Down_Interval
                    s = r.b
                    t = t - interval + 3 * interval + _skew_us(r, s.priority)
                    burst(r, s, t)
                elif what == "preempt":  # A is back with the higher priority: it takes over
                    s = r.a
                    burst(r, s, t)
                else:  # A shuts down gracefully: priority 0, B takes over after Skew_Time
                    later(t, r.a.release, "advert")
                    s = r.b
                    t += _skew_us(r, s.priority)
                    burst(r, s, t)
                r.master = s
                if what != "preempt":  # the new master's first advert comes later
                    heapq.heapreplace(heap, (t, seq, i, b""))
                    seq += 1
                    continue
            frame = s.advert
            if r.v4:
                r.ident = (r.ident + 1) & 0xFFFF
                frame = _patch_ident(frame, r.ident)
            heapq.heapreplace(heap, (t + interval, seq, i, b""))
            seq += 1
            write(t, frame)
            written += 1
            counts["advert"] += 1
            if rand() < ARP_ANSWER_P:
                if r.question:
                    later(t + 200, r.question, "arp")
                later(t + 400, s.answer, "arp")
            if written >= next_reject:
                next_reject += REJECT_EVERY
                later(t + 100, s.ttl_254 if rng.random() < 0.5 else s.bad_sum, "reject")
    return counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--frames", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--mix", action="store_true", help="add HSRP, CARP and GLBP (a mixed LAN)")
    args = p.parse_args(argv)
    start = time.perf_counter()
    counts = generate(args.out, args.frames, args.seed, mix=args.mix)
    took = time.perf_counter() - start
    size = args.out.stat().st_size
    print(
        f"{args.out}: {args.frames:,} frames, {size / 1e6:.1f} MB in {took:.1f} s"
        f" (scheduled: {counts})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
