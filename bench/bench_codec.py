"""Micro-benchmark: pcap read and codec decode per frame. Run: python bench/bench_codec.py"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from hatui.adapters.pcap import PcapWriter, ethernet_frame, read_records
from hatui.codec.build import build_garp_frame, build_na_frame, build_vrrp_frame
from hatui.codec.decode import clear_cache, decode
from hatui.codec.frames import Auth, Family

N = 200_000
MAC = "02:00:00:00:00:11"


def per_item(label: str, n: int, fn: Callable[[], object]) -> float:
    best = min(_timed(fn) for _ in range(3))
    us = best / n * 1e6
    print(f"{label:<44} {us:6.3f} us/frame  ({n / best:,.0f}/s)")
    return us


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    # Varying IP identification, as keepalived sends: each frame is a distinct bytes object.
    v2 = [
        build_vrrp_frame(
            src_mac=MAC,
            src_ip="192.0.2.11",
            vrid=51,
            addresses=["192.0.2.100"],
            version=2,
            auth=Auth.SIMPLE,
            auth_pass=b"secret",
            ident=i & 0xFFFF,
        )
        for i in range(N)
    ]
    v3 = build_vrrp_frame(src_mac=MAC, src_ip="192.0.2.11", vrid=51, addresses=["192.0.2.100"])
    v6 = build_vrrp_frame(
        src_mac=MAC, src_ip="fe80::11", vrid=51, addresses=["2001:db8::100"], family=Family.IPV6
    )
    garp = build_garp_frame(mac=MAC, ip="192.0.2.100")
    na = build_na_frame(src_mac=MAC, src_ip="fe80::11", target_ip="2001:db8::100")

    def copies(frame: bytes) -> list[bytes]:
        return [frame[:-1] + frame[-1:] for _ in range(N)]

    def run(frames: list[bytes]) -> Callable[[], object]:
        def loop() -> None:
            for f in frames:
                decode(f)

        return loop

    print(f"decode, {N:,} frames, memoised (steady state of a real capture):")
    per_item("  VRRPv2 simple auth, IPv4 (varying IP id)", N, run(v2))
    per_item("  VRRPv3 IPv4", N, run(copies(v3)))
    per_item("  VRRPv3 IPv6", N, run(copies(v6)))
    per_item("  gratuitous ARP", N, run(copies(garp)))
    per_item("  unsolicited NA", N, run(copies(na)))
    cold = v2[:20_000]

    def uncached() -> None:
        for f in cold:
            clear_cache()
            decode(f)

    print("decode, cold (cache cleared before every frame):")
    per_item("  VRRPv2 simple auth, IPv4", len(cold), uncached)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.pcap"
        with PcapWriter(path) as w:
            for i, f in enumerate(v2):
                w.write(1_700_000_000_000_000 + i * 1000, f)
        print("pcap:")
        per_item("  read_records", N, lambda: sum(1 for _ in read_records(path)))

        def replay() -> None:
            for r in read_records(path):
                decode(ethernet_frame(r) or b"")

        per_item("  read_records + ethernet_frame + decode", N, replay)


if __name__ == "__main__":
    main()
