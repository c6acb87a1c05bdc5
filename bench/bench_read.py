"""Benchmark `hatui --read FILE --json` against tshark, and its peak RSS as the file grows.

Run: python bench/bench_read.py [--frames 1000000] [--runs 3] [--dir DIR] [--mix] [--no-rss]

Each figure is the best of `--runs` end-to-end runs (a subprocess, output to /dev/null,
interpreter start included). Wall time and the child's CPU time (user + system, from
wait4) are both printed: on a shared machine wall time can include waiting for a core,
CPU time cannot. Peak RSS is the child's own ru_maxrss.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen import generate  # the generator sits next to this file

TARGET_FPS = 300_000
TARGET_RSS_MB = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    wall: float
    cpu: float
    rss_mb: float
    status: int


def run_once(argv: list[str]) -> Run:
    """Run argv with stdout to /dev/null; wall time, CPU time and peak RSS of that child."""
    with open(os.devnull, "wb") as null:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=null, stderr=subprocess.PIPE)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err = proc.stderr.read().decode() if proc.stderr else ""
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped by wait4
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {err.strip()}")
    return Run(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        rss_mb=usage.ru_maxrss / 1024,
        status=proc.returncode,
    )


def best(argv: list[str], runs: int) -> Run:
    results = [run_once(argv) for _ in range(runs)]
    return Run(
        wall=min(r.wall for r in results),
        cpu=min(r.cpu for r in results),
        rss_mb=max(r.rss_mb for r in results),
        status=0,
    )


def hatui_argv(path: Path) -> list[str]:
    return [sys.executable, "-m", "hatui", "--read", str(path), "--json"]


def tshark_argv(path: Path) -> list[str]:
    return ["tshark", "-r", str(path), "-Y", "vrrp", "-T", "fields", "-e", "vrrp.virt_rtr_id"]


MIX = False  # --mix: the capture mixes HSRP, CARP and GLBP with VRRP


def capture(folder: Path, frames: int) -> Path:
    path = folder / f"bench-{frames}{'-mix' if MIX else ''}.pcap"
    if not path.exists():
        start = time.perf_counter()
        generate(path, frames, mix=MIX)
        took = time.perf_counter() - start
        print(f"generated {path.name}: {frames:,} frames in {took:.1f} s")
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--dir", type=Path, help="keep the captures here (default: a temp dir)")
    p.add_argument("--no-tshark", action="store_true")
    p.add_argument("--mix", action="store_true", help="a mixed LAN: HSRP, CARP, GLBP too")
    p.add_argument("--no-rss", action="store_true", help="skip the RSS-by-size series")
    args = p.parse_args(argv)
    global MIX
    MIX = args.mix
    folder = args.dir or Path(tempfile.mkdtemp(prefix="hatui-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    n = args.frames
    try:
        big = capture(folder, n)
        empty = capture(folder, 1)
        base = best(hatui_argv(empty), args.runs)
        print(f"hatui start-up (1-frame file): {base.wall:.2f} s wall, {base.cpu:.2f} s CPU")

        h = best(hatui_argv(big), args.runs)
        fps_wall, fps_cpu = n / h.wall, n / h.cpu
        print(
            f"hatui --read --json, {n:,} frames: {h.wall:.2f} s wall ({fps_wall:,.0f} frames/s),"
            f" {h.cpu:.2f} s CPU ({fps_cpu:,.0f} frames/s), peak RSS {h.rss_mb:.1f} MB"
        )
        steady = (h.cpu - base.cpu) or h.cpu
        print(f"  without start-up (CPU): {n / steady:,.0f} frames/s")
        ok = "met" if fps_wall >= TARGET_FPS else "NOT met"
        print(f"  target >= {TARGET_FPS:,} frames/s end to end: {ok}")

        if not args.no_tshark and shutil.which("tshark"):
            t = best(tshark_argv(big), 1 if n >= 500_000 else args.runs)
            print(
                f"tshark -Y vrrp -T fields, {n:,} frames: {t.wall:.2f} s wall"
                f" ({n / t.wall:,.0f} frames/s), {t.cpu:.2f} s CPU, peak RSS {t.rss_mb:.1f} MB"
            )
            print(
                f"  hatui / tshark: {t.wall / h.wall:.1f}x faster (wall),"
                f" {t.cpu / h.cpu:.1f}x (CPU)"
            )

        if args.no_rss:
            return 0
        print("peak RSS of hatui --read --json as the capture grows:")
        rss = []
        for size in (n // 4, n // 2, n, 2 * n):  # 2n: the bounded histories are full
            r = h if size == n else best(hatui_argv(capture(folder, size)), 1)
            rss.append(r.rss_mb)
            print(f"  {size:>9,} frames: {r.rss_mb:6.1f} MB")
        flat = max(rss) - min(rss)
        ok = "met" if max(rss) < TARGET_RSS_MB else "NOT met"
        print(f"  spread {flat:.1f} MB; target < {TARGET_RSS_MB} MB: {ok}")
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
