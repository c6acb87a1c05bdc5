"""VIPs from ARP/ND (observe/vips.py): CPU per frame and memory held, for 10,000 announced
addresses and for an ARP storm, through the decoder and the observer as `--read` feeds them.

Run from the repository root (no root needed, nothing is sent):
    python bench/bench_vips.py [--addresses 10000] [--storm 100000] [--runs 1]
With PYTHONPATH at a checkout without observe/vips.py it measures that baseline.

Scenarios, each on a fresh observer:
- boot: every address announced twice 2 s apart by its own MAC (RFC 5227), then asked for
  and answered: ordinary hosts, no VIP;
- periodic: every address announced every 3 s by one MAC, three rounds (kube-vip): every
  one a VIP up to the announced-VIP bound;
- moved: every address announced by one MAC, then by another (a LAN of floating addresses);
- storm: ARP requests from random senders for random targets, a tenth answered;
- nd: the periodic scenario over IPv6 (unsolicited NAs with the override flag).

Printed per scenario: frames, CPU us per frame (process time: decode + observer, best of
--runs; process time, not wall time, so a loaded machine skews it less), VIPs,
the ledger's table sizes (VIPs, candidates, hosts), ARP entries, and the memory the
observer holds after the run (tracemalloc, frames excluded). Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hatui.codec.build import build_arp_frame, build_na_frame
from hatui.codec.decode import clear_cache, decode
from hatui.observe.observer import Observer

S = 1_000_000
T0 = 1_700_000_000 * S
Frames = list[tuple[int, bytes]]


def mac(n: int, tag: int = 2) -> str:
    return f"{tag:02x}:00:" + ":".join(f"{(n >> s) & 255:02x}" for s in (24, 16, 8, 0))


def ip4(n: int) -> str:
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def ip6(n: int) -> str:
    return f"2001:db8::{(n >> 16) & 0xFFFF:x}:{n & 0xFFFF:x}"


def garp(ip: str, m: str) -> bytes:
    return build_arp_frame(
        op=1, sender_mac=m, sender_ip=ip, target_ip=ip, dst_mac="ff:ff:ff:ff:ff:ff"
    )


def request(ip: str, asker: str, asker_ip: str) -> bytes:
    return build_arp_frame(op=1, sender_mac=asker, sender_ip=asker_ip, target_ip=ip)


def reply(ip: str, m: str, asker: str, asker_ip: str) -> bytes:
    return build_arp_frame(
        op=2, sender_mac=m, sender_ip=ip, target_ip=asker_ip, target_mac=asker, dst_mac=asker
    )


def boot(n: int) -> Frames:
    out: Frames = []
    client, client_ip = mac(1, 6), "10.255.255.254"
    for i in range(n):
        t = T0 + i * 100
        out += [(t, garp(ip4(i), mac(i))), (t + 2 * S, garp(ip4(i), mac(i)))]
        out += [(t + 3 * S, request(ip4(i), client, client_ip))]
        out += [(t + 3 * S + 50, reply(ip4(i), mac(i), client, client_ip))]
    return out


def periodic(n: int) -> Frames:
    return [(T0 + r * 3 * S + i * 100, garp(ip4(i), mac(i))) for r in range(3) for i in range(n)]


def moved(n: int) -> Frames:
    out = [(T0 + i * 100, garp(ip4(i), mac(i))) for i in range(n)]
    return out + [(T0 + 10 * S + i * 100, garp(ip4(i), mac(i, 4))) for i in range(n)]


def storm(n: int) -> Frames:
    rng = random.Random(20)
    out: Frames = []
    for k in range(n):
        s, d = rng.randrange(1 << 20), rng.randrange(1 << 20)
        t = T0 + k * 10
        out.append((t, request(ip4(d), mac(s), ip4(s))))
        if k % 10 == 0:
            out.append((t + 5, reply(ip4(d), mac(d), mac(s), ip4(s))))
    return out


def nd(n: int) -> Frames:
    def na(i: int) -> bytes:
        return build_na_frame(src_mac=mac(i), src_ip=ip6(i), target_ip=ip6(i), target_mac=mac(i))

    return [(T0 + r * 3 * S + i * 100, na(i)) for r in range(3) for i in range(n)]


def feed(frames: Frames) -> Observer:
    clear_cache()
    obs = Observer()
    f = obs.feed_frame
    for t, data in frames:
        frame = decode(data)
        if frame is not None:
            f(t, "eth0", frame)  # type: ignore[arg-type]
    return obs


def measure(name: str, make: Callable[[int], Frames], n: int, runs: int) -> None:
    frames = make(n)
    best = float("inf")
    obs = Observer()
    for _ in range(runs):
        gc.collect()
        start = time.process_time()
        obs = feed(frames)
        best = min(best, time.process_time() - start)
    snap = obs.snapshot(obs._clock)  # type: ignore[arg-type]
    vips = len(getattr(snap, "vips", ()))
    ledger = getattr(obs, "_vips", None)  # absent before observe/vips.py: the baseline
    sizes = ledger.sizes if ledger is not None else ()
    del obs, snap
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    obs = feed(frames)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    per = best / len(frames) * 1e6
    print(
        f"{name:9s} {len(frames):8d} frames  {per:5.2f} us/frame  VIPs {vips:5d}  "
        f"ledger (VIPs, candidates, hosts) {sizes}  arp entries {obs.arp_entries:5d}  "
        f"held {held / 2**20:6.2f} MiB"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--addresses", type=int, default=10_000)
    p.add_argument("--storm", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=1)
    args = p.parse_args()
    print(f"python {sys.version.split()[0]}, {args.addresses} addresses, storm {args.storm}")
    for name, make, n in (
        ("boot", boot, args.addresses),
        ("periodic", periodic, args.addresses),
        ("moved", moved, args.addresses),
        ("storm", storm, args.storm),
        ("nd", nd, args.addresses),
    ):
        measure(name, make, n, args.runs)


if __name__ == "__main__":
    main()
