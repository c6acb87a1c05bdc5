"""Reload without a flap: how long `hatui ctl reload` takes, and the advert jitter around it,
beside keepalived reloading the same file on SIGHUP. Needs root (a namespace lab).

Run: python bench/bench_reload.py [--instances 255] [--reloads 10]

The node host runs the daemon on one keepalived.conf (v3 at 0.1 s, every instance MASTER);
each reload flips the priority of every instance between 100 and 101 (a live change: the
next adverts carry it). A silent observer records VRID 1's adverts with tcpdump. Printed:
reload time (request sent -> answer, changes applied; keepalived: SIGHUP -> the first
advert at the new priority), and over the whole window the deviation p99 / max and the
longest gap (a missed advert would be 200 ms). Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import signal
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hatui.adapters.control import request
from hatui.lab import Host, Lab, start_keepalived, unique_prefix
from hatui.lab.nodes import start_hatui
from tests.ui.test_serve_console import many_conf

VRID = 1
WIRE = re.compile(r"^(\d+\.\d+) IP \S+ > \S+: VRRPv3, Advertisement, vrid (\d+), prio (\d+)")


def adverts(path: Path) -> list[tuple[float, int]]:
    out = []
    for line in path.read_text().splitlines():
        if (m := WIRE.match(line)) and int(m[2]) == VRID:
            out.append((float(m[1]), int(m[3])))
    return out


def run(lab: Lab, node: Host, obs: Host, kind: str, count: int, reloads: int) -> str:
    conf = lab.workdir / f"{kind}.conf"
    conf.write_text(many_conf(count, 100))
    log = f"wire-{kind}.txt"
    dump = lab.spawn(
        obs, ["tcpdump", "-i", "eth0", "-n", "-tt", "-l", "-B", "8192", "--immediate-mode",
              f"ip proto 112 and ip[21] == {VRID}"], log=log,
    )  # fmt: skip
    if kind == "hatui":
        hatui = start_hatui(lab, node, conf=conf.read_text(), tag="reload")
        conf = lab.workdir / f"{node.name}-reload.conf"
    else:
        ka = start_keepalived(lab, node, conf.read_text(), detail=False)
        conf = lab.workdir / f"{node.name}-ka.conf"
    time.sleep(3.0)  # every instance MASTER
    took = []
    for k in range(reloads):
        prio = 101 if k % 2 == 0 else 100
        conf.write_text(many_conf(count, prio))
        t0 = time.monotonic()
        if kind == "hatui":
            # The control request itself (what `hatui ctl reload` sends), without the ~0.3 s
            # of starting a Python process for the command.
            reply = asyncio.run(request(str(hatui.control), {"cmd": "reload"}, timeout=10))
            took.append((time.monotonic() - t0) * 1000)
            assert reply.get("ok"), reply
        else:
            ka.proc.send_signal(signal.SIGHUP)
            wall = time.time()
            end = time.monotonic() + 5
            while time.monotonic() < end:
                if [p for t, p in adverts(lab.workdir / log) if t >= wall and p == prio]:
                    break
                time.sleep(0.005)
            took.append((time.monotonic() - t0) * 1000)
        time.sleep(0.7)
    lab.stop(dump, signal.SIGINT)
    lab.stop(hatui.proc if kind == "hatui" else ka.proc, timeout=20)
    seen = adverts(lab.workdir / log)
    gaps = [(b - a) * 1000 for (a, _), (b, _) in itertools.pairwise(seen)]
    dev = sorted(abs(g - 100) for g in gaps)
    p99 = dev[min(len(dev) - 1, int(len(dev) * 0.99))]
    return (
        f"{kind:<10} reload median {statistics.median(took):7.1f} ms (max {max(took):7.1f}), "
        f"deviation p99 {p99:5.2f} ms, max {dev[-1]:6.2f} ms, longest gap {max(gaps):6.1f} ms, "
        f"{len(seen)} adverts, priorities seen {sorted({p for _, p in seen})}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=255)
    ap.add_argument("--reloads", type=int, default=10)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    with Lab(unique_prefix("brel")) as lab:
        node = lab.add_host("n", 11)
        obs = lab.add_host("o", 9, silent=True)
        print(f"{args.instances} instances, v3 0.1 s, {args.reloads} reloads each")
        for _ in range(args.runs):
            for kind in ("keepalived", "hatui"):
                print(run(lab, node, obs, kind, args.instances, args.reloads), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
