"""Benchmark the console: packet-to-screen latency, CPU share with 255 VRIDs at 0.1 s, and
start-up time to the first frame. Needs root (a namespace lab; nothing touches the machine's
own interfaces). Prints figures; not a test.

Run: sudo python bench/bench_console.py [--seconds 20] [--size 100x30] [--flip S]
     [--pythonpath DIR] [--trace] [--lan-view]

A silent observer host runs the real console (`--watch eth0`, a LiveWatchFeed) on a pseudo-
terminal whose output is drained, so the screen is rendered and written as over SSH. A sender
host advertises 255 VRIDs (VRRPv3, 0.1 s) from pre-built frames, and every 0.5 s (--flip) flips the
priority of VRID 255 between 100 and 200, logging the CLOCK_MONOTONIC time of each flip. The
console, instrumented from outside (a subclass, a wrapper of the routers table's `show`),
logs when the routers table shows each new priority (after the screen refresh that draws
it), its CPU time over the steady window, the kernel drops of its capture socket, and when
its first frame was drawn. `--pythonpath` runs
the console from another tree (e.g. an older commit, for before/after figures). `--lan-view`
runs the path of a serving or attached console instead: a LAN view process
(`hatui --lan-view`, SCHED_IDLE, as a node starts it) captures and decodes, and the console
follows its socket (ui/feeds.py's LanStream) and captures nothing; the LAN view's CPU is
printed too. `--trace`
prints where the slowest flips spent their time: published by the watcher, handled by the
app, in the routers table, on screen; the full draws and garbage collections meanwhile.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Any

MARK = 255  # the VRID whose priority flips
FLIP_S = 0.5

SENDER = r"""
import socket, sys, time
from hatui.codec.build import build_vrrp_frame
seconds, mac, ip, log = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def advert(vrid, prio):
    return build_vrrp_frame(src_mac=mac, src_ip=ip, vrid=vrid, priority=prio, interval_cs=10,
                            addresses=[f"198.51.100.{vrid}"], version=3)
frames = [advert(v, 150) for v in range(1, 255)]
marks = {100: advert(255, 100), 200: advert(255, 200)}
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
out = open(log, "w")
start = time.monotonic()
prio, next_flip, n = 100, start + 2.0, 0
while (now := time.monotonic()) < start + seconds:
    if now >= next_flip:
        prio = 200 if prio == 100 else 100
        s.send(marks[prio])
        out.write(f"{time.monotonic()} {prio}\n"); out.flush()
        next_flip += float(sys.argv[5])
    # one round: 255 adverts spread over 0.1 s (in 10 slices of ~26)
    for k in range(0, len(frames), 26):
        for f in frames[k:k + 26]:
            s.send(f)
        if k == 0:
            s.send(marks[prio])
        n += 1
        time.sleep(max(0.0, start + n * 0.01 - time.monotonic()))
"""


def inner(args: argparse.Namespace) -> int:
    """In the observer namespace, on the pty: the console, instrumented."""
    from hatui.clock import SystemClock
    from hatui.observe.observer import Observer
    from hatui.runtime.watch import Watch
    from hatui.ui.app import HatuiApp
    from hatui.ui.widgets.tables import RoutersTable

    key = f"eth0/ipv4/{MARK}"
    seen: list[tuple[float, str]] = []
    res: dict[str, Any] = {}
    trace: dict[str, list[Any]] = {
        "pub": [],
        "app": [],
        "draw": [],
        "gc": [],
        "shown": [],
    }
    if args.trace:
        _trace(trace)

    import hatui.ui.app as app_module

    lan_probe: list[Any] = []  # the LAN view's CPU seconds, with --lan-view

    class Bench(HatuiApp):
        # CSS_PATH is relative to the defining module: point it back at the console's.
        CSS_PATH = str(Path(app_module.__file__).with_name("hatui.tcss"))

        def on_mount(self) -> None:
            super().on_mount()
            self.call_after_refresh(lambda: res.setdefault("first_frame", time.monotonic()))
            self.set_timer(args.cpu_from, self._cpu_start)
            self.set_timer(args.seconds, self._cpu_end)

        def _cpu_start(self) -> None:
            res["cpu0"], res["wall0"] = time.process_time(), time.monotonic()
            if lan_probe:
                res["lan0"] = lan_probe[0]()

        def _cpu_end(self) -> None:
            res["cpu1"], res["wall1"] = time.process_time(), time.monotonic()
            if lan_probe:
                res["lan1"] = lan_probe[0]()
            res["drops"] = self.observer.counters.kernel_drops
            res["frames"] = self.observer.counters.frames
            res["routers"] = len(self.observer.routers)
            self.exit(0)

        def on_events_arrived(self, msg: Any) -> None:
            trace["app"].append(time.monotonic())
            super().on_events_arrived(msg)

        def _draw_pending(self) -> None:
            t0 = time.monotonic()
            super()._draw_pending()
            trace["draw"].append((t0, time.monotonic()))

    # When the routers table holds the new priority, whichever path drew it (a tree with
    # a news path draws the changed rows alone, before the document of every router).
    show = RoutersTable.show
    last = [""]

    def shown(table: RoutersTable, *a: Any, **kw: Any) -> None:
        show(table, *a, **kw)
        try:
            value = str(table.get_cell(key, "prio"))
        except Exception:
            return
        if value != last[0]:
            last[0] = value
            trace["shown"].append(time.monotonic())
            table.app.call_after_refresh(lambda: seen.append((time.monotonic(), value)))

    RoutersTable.show = shown  # type: ignore[method-assign]

    if args.lan_view:
        feed, view = _lan_view_feed(Path(args.inner).with_name("bench.sock.lan"))

        def lan_cpu() -> float:
            fields = Path(f"/proc/{view.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        lan_probe.append(lan_cpu)
        feed.open()
        try:
            Bench(feed).run()
        finally:
            view.terminate()
            view.wait(5)
    else:
        try:
            from hatui.ui.watchfeed import LiveWatchFeed
        except ImportError:  # a tree from before ui/watchfeed.py
            from hatui.ui.feeds import LiveWatchFeed  # type: ignore[attr-defined,no-redef]

        watch = Watch(interfaces=["eth0"], observer=Observer(), clock=SystemClock())
        feed = LiveWatchFeed(watch)
        feed.open()
        Bench(feed).run()
    res["seen"] = seen
    res["trace"] = trace
    Path(args.inner).write_text(json.dumps(res))
    return 0


def _lan_view_feed(path: Path) -> tuple[Any, subprocess.Popen[bytes]]:
    """A LAN view on eth0 at `path`, and a console feed that follows it alone."""
    import asyncio

    from hatui.ui.feeds import Feed
    from hatui.ui.lanstream import LanStream
    from hatui.ui.model import Mode

    view = subprocess.Popen(
        [sys.executable, "-m", "hatui", "--lan-view", str(path), "--watch", "eth0", "--headless"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    end = time.monotonic() + 10
    while not path.exists() and time.monotonic() < end:
        time.sleep(0.05)

    class LanFeed(Feed):
        mode = Mode.ATTACH
        source = str(path)

        def open(self) -> None:
            from hatui.adapters.sched import behind_the_node

            behind_the_node()  # as an attached or serving console runs (ui/feeds.py)

        async def run(self, post: Any) -> None:
            await LanStream(str(path)).run(post, self.stop)

        async def command(self, instance: str, command: Any) -> str:
            return await asyncio.sleep(0, "")

    return LanFeed(), view


def _trace(trace: dict[str, list[Any]]) -> None:
    """Record when the watcher publishes events (with --lan-view: when they reach the
    console), and every garbage collection."""
    import gc

    from hatui.runtime.watch import Watch

    publish_events = Watch._publish_events

    def pub(self: Watch, events: Any) -> None:
        trace["pub"].append(time.monotonic())
        publish_events(self, events)

    Watch._publish_events = pub  # type: ignore[method-assign]
    try:  # with --lan-view: when the LAN view's events reach the console
        from hatui.ui.lanstream import LanStream
    except ImportError:
        pass
    else:
        post_events = LanStream._post_events

        def arrived(self: LanStream, *a: Any) -> None:
            trace["pub"].append(time.monotonic())
            post_events(self, *a)

        LanStream._post_events = arrived  # type: ignore[method-assign]
    started: list[float] = [0.0]

    def collected(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.monotonic()
        else:
            trace["gc"].append((started[0], time.monotonic(), info["generation"]))

    gc.callbacks.append(collected)


def _breakdown(sent: list[tuple[float, str]], res: dict[str, Any]) -> None:
    """Where each of the slowest flips spent its time (ms after the send)."""
    tr = res["trace"]

    def after(xs: list[float], t: float) -> float:
        return next((x for x in xs if x >= t), float("nan"))

    rows = []
    for t, prio in sent:
        shown = [s for s, v in res["seen"] if v == prio and s >= t]
        if not shown:
            continue
        screen = shown[0]
        pub = after(tr["pub"], t)
        app = after(tr["app"], pub)
        table = after(tr["shown"], app)
        # the full draw that ran between the news and the table holding it, if one did
        full = sum(d1 - d0 for d0, d1 in tr["draw"] if d1 >= app and d0 <= table)
        gcs = [g for g in tr["gc"] if g[1] >= t and g[0] <= screen]
        gc_ms = sum(g[1] - g[0] for g in gcs) * 1000
        gen = max((g[2] for g in gcs), default=-1)
        rows.append((screen - t, t, pub, app, table, screen, full, gc_ms, gen))
    rows.sort(reverse=True)
    print(
        "slowest flips, ms after the send: published, in the app, in the table, on screen"
        " | full draws meanwhile | collections (highest generation)"
    )
    for total, t, pub, app, table, screen, full, gc_ms, gen in rows[:12]:
        ms = [(x - t) * 1000 for x in (pub, app, table, screen)]
        print(
            f"  {total * 1000:6.1f}: pub {ms[0]:5.1f} app {ms[1]:5.1f} table {ms[2]:5.1f} "
            f"screen {ms[3]:5.1f} | draws {full * 1000:5.1f} | gc {gc_ms:5.1f} ({gen})"
        )
    durs = sorted((d1 - d0) * 1000 for d0, d1 in tr["draw"])
    print(
        f"draws: {len(durs)}, median {statistics.median(durs):.1f} ms, "
        f"p99 {durs[int(0.99 * (len(durs) - 1))]:.1f} ms, max {durs[-1]:.1f} ms"
    )
    gcs = sorted((g[1] - g[0]) * 1000 for g in tr["gc"])
    if gcs:
        print(
            f"collections: {len(gcs)}, max {gcs[-1]:.1f} ms, "
            f"total {sum(gcs):.0f} ms, gen2 {sum(1 for g in tr['gc'] if g[2] == 2)}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--flip", type=float, default=FLIP_S, help="seconds between priority flips")
    ap.add_argument("--cpu-from", type=float, default=5.0, help="steady window starts (s)")
    ap.add_argument("--size", default="100x30")
    ap.add_argument("--pythonpath", default="", help="run the console from this tree")
    ap.add_argument("--trace", action="store_true", help="where the slowest flips' time went")
    ap.add_argument("--lan-view", action="store_true", help="the console follows a LAN view")
    ap.add_argument("--inner", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.inner:
        return inner(args)
    if os.geteuid() != 0:
        print("bench_console.py needs root (a namespace lab)", file=sys.stderr)
        return 2
    from hatui.lab import Lab, unique_prefix

    cols, rows = (int(x) for x in args.size.split("x"))
    with Lab(prefix=unique_prefix("hcb")) as lab:
        obs = lab.add_host("obs", 9, silent=True)
        tx = lab.add_host("tx", 11)
        out = lab.workdir / "inner.json"
        flips = lab.workdir / "flips.log"
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        drained = [0]

        def drain() -> None:
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    return
                if not data:
                    return
                drained[0] += len(data)

        threading.Thread(target=drain, daemon=True).start()
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
        if args.pythonpath:
            env["PYTHONPATH"] = args.pythonpath
        here = str(Path(__file__).resolve())
        t0 = time.monotonic()
        console = subprocess.Popen(
            obs.argv(
                [
                    sys.executable,
                    here,
                    "--inner",
                    str(out),
                    "--seconds",
                    str(args.seconds),
                    "--cpu-from",
                    str(args.cpu_from),
                    *(["--trace"] if args.trace else []),
                    *(["--lan-view"] if args.lan_view else []),
                ]
            ),
            stdin=slave,
            stdout=slave,
            stderr=slave,  # Textual draws on stderr
            start_new_session=True,
            env=env,
        )
        lab.procs.append(console)
        time.sleep(1.5)  # the console is up before the first advert
        lab.spawn(
            tx,
            [
                sys.executable,
                "-c",
                SENDER,
                str(args.seconds),
                tx.mac,
                tx.ip,
                str(flips),
                str(args.flip),
            ],
            env={"PYTHONPATH": args.pythonpath} if args.pythonpath else None,
        )
        try:
            console.wait(args.seconds + 30)
        except subprocess.TimeoutExpired:
            print("console did not finish", file=sys.stderr)
            return 1
        os.close(slave)
        if not out.exists():
            print("the console wrote no figures", file=sys.stderr)
            return 1
        res = json.loads(out.read_text())
        if not flips.exists():
            logs = [f.read_text()[-1500:] for f in lab.workdir.glob("tx*.log")]
            print("sender failed:", *logs, res, time.monotonic() - t0, file=sys.stderr)
            return 1
        sent = [(float(t), p) for t, p in (ln.split() for ln in flips.read_text().splitlines())]
    lat = []
    for t, prio in sent:
        shown = [s for s, v in res["seen"] if v == prio and s >= t]
        if shown:
            lat.append((shown[0] - t) * 1000)
    cpu = (res["cpu1"] - res["cpu0"]) / (res["wall1"] - res["wall0"]) * 100
    print(f"console {args.size}, 255 VRIDs at 0.1 s, {args.seconds:.0f} s")
    if lat:
        lat.sort()
        p99 = lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))]
        print(
            f"packet-to-screen latency: median {statistics.median(lat):.1f} ms, "
            f"p99 {p99:.1f} ms, max {lat[-1]:.1f} ms ({len(lat)}/{len(sent)} flips shown)"
        )
    print(f"CPU share (steady window): {cpu:.1f}% of one core")
    if "lan1" in res:
        lan = (res["lan1"] - res["lan0"]) / (res["wall1"] - res["wall0"]) * 100
        print(f"LAN view's CPU share (steady window): {lan:.1f}% of one core")
    print(f"kernel drops: {res['drops']}, frames {res['frames']}, routers {res['routers']}")
    print(f"start-up to first frame: {(res['first_frame'] - t0) * 1000:.0f} ms")
    print(f"terminal output: {drained[0] / 1e6:.1f} MB")
    if args.trace:
        _breakdown(sent, res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
