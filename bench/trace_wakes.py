"""What delays a serving node's adverts: its wake-ups, traced from inside the process.

Run hatui through it (root, in a lab namespace; `bench_scale.py --trace DIR` does so):
    python bench/trace_wakes.py OUT.json -- --serve --headless -c FILE ...
and read the trace:
    python bench/trace_wakes.py --report OUT.json

Recorded (monotonic us): each timer wake-up of the node (its deadline, when it ran, how
long, involuntary context switches meanwhile, adverts sent, other timers run through the
state machine and their time, whether it continued timers the last one held); VRID's
sends as they left the process; each drain of deferred effects (GARP rounds,
notifications) that ran past the next timer; every other event-loop callback that took
more than SLOW_US, named; garbage collections. A wake-up late with no slow callback or
collection before it was waiting for a CPU (another process, the host); VRID's period
deviation at the send, beside the wire's, tells the process's share from the kernel's.
This found the 5-s GARP bursts and the haproxy poll's step in front of adverts (session 4
of bench/README.md), and the GARP-delay timers due at one instant (session 5). Prints
figures; it is not a test.
"""

from __future__ import annotations

import asyncio.events
import atexit
import gc
import itertools
import json
import resource
import sys
import time
from typing import Any

SLOW_US = 200
LATE_US = 700
VRID = 128  # whose sends are stamped, to set beside the wire's periods


def mono() -> int:
    return time.monotonic_ns() // 1000


def ivcsw() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw


def install(out: str) -> None:
    from hatui.runtime import node as node_mod
    from hatui.runtime import pacing

    wakes: list[tuple[int | None, int, int, int, int, int, int, int]] = []
    drains: list[tuple[int, int, int]] = []  # (start, next deadline, end): ran across it
    slow: list[tuple[int, int, str]] = []
    gcs: list[tuple[int, int, int]] = []
    sends = [0]
    stamps: list[int] = []  # VRID's sends, just before each left the process
    node_cls: Any = node_mod.Node
    pacer_cls: Any = pacing.Pacer
    on_timer, send, drain = pacer_cls._on_timer, node_cls._send, pacer_cls.drain
    process = node_cls._process
    fired = [0]  # timers a wake-up ran through the state machine (not an advert alone)
    fired_us = [0]  # and how long they took

    def traced_on_timer(self: Any) -> None:
        at, r0, t0 = self._timer_at, ivcsw(), mono()
        held = len(self._held)  # a wake-up for timers the last one held: due, not late
        sends[0] = fired[0] = fired_us[0] = 0
        on_timer(self)
        wakes.append((at, t0, mono(), ivcsw() - r0, sends[0], fired[0], fired_us[0], held))

    def traced_process(self: Any, one: Any, event: Any, at: Any = None) -> None:
        if type(event).__name__ != "TimerFired":
            process(self, one, event, at)
            return
        fired[0] += 1
        t0 = mono()
        process(self, one, event, at)
        fired_us[0] += mono() - t0

    def traced_send(self: Any, one: Any, advert: Any) -> None:
        sends[0] += 1
        if one.router.spec.vrid == VRID:
            stamps.append(mono())
        send(self, one, advert)

    def traced_drain(self: Any, **kw: Any) -> None:
        if not self._backlog:
            return
        nxt, t0 = self.earliest(), mono()
        drain(self, **kw)
        end = mono()
        if nxt is not None and t0 < nxt < end:  # not a wake-up that was late already
            drains.append((t0, nxt, end))

    handle_run = asyncio.events.Handle._run

    def traced_run(self: asyncio.events.Handle) -> None:
        t0 = mono()
        handle_run(self)
        took = mono() - t0
        if took > SLOW_US:
            cb = getattr(self, "_callback", None)
            name = getattr(cb, "__qualname__", repr(cb))
            owner = getattr(cb, "__self__", None)
            if isinstance(owner, asyncio.Task):
                name = f"task {owner.get_coro()!r}"
            slow.append((t0, took, name[:160]))

    started = [0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = mono()
        else:
            gcs.append((started[0], mono() - started[0], info["generation"]))

    pacer_cls._on_timer, pacer_cls.drain = traced_on_timer, traced_drain
    node_cls._send, node_cls._process = traced_send, traced_process
    asyncio.events.Handle._run = traced_run  # type: ignore[method-assign]
    gc.callbacks.append(on_gc)

    def dump() -> None:
        with open(out, "w") as f:
            json.dump(
                {"wakes": wakes, "drains": drains, "slow": slow, "gcs": gcs, "sends": stamps}, f
            )

    atexit.register(dump)


def report(path: str, skip_s: float = 3.0) -> list[str]:
    """Lines on what was late after the first `skip_s` seconds (start-up, first bursts),
    until the shutdown."""
    with open(path) as f:
        t = json.load(f)
    wakes = [w for w in t["wakes"] if w[0] is not None]
    if not wakes:
        return ["no wake-ups traced"]
    base = wakes[0][1] + int(skip_s * 1e6)
    wakes = [w for w in wakes if w[1] >= base]
    late = sorted(w[1] - w[0] for w in wakes if not w[7])
    took = sorted(w[2] - w[1] for w in wakes)

    def q(xs: list[int], p: float) -> int:
        return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else 0

    out = [
        f"{len(wakes)} wake-ups: late p50/p99/max {q(late, 0.5)}/{q(late, 0.99)}/{late[-1]} us, "
        f"run p50/p99/max {q(took, 0.5)}/{q(took, 0.99)}/{took[-1]} us"
    ]
    # VRID's periods as the process sent them: beside the wire's, what is left of a
    # deviation happened after the send (the kernel's path, the observer's capture).
    stop = wakes[-1][2] - 200_000  # the shutdown (priority 0, VIPs, the last document)
    sent = [s for s in t.get("sends", []) if base <= s <= stop]
    dev = sorted(abs(b - a - 100_000) for a, b in itertools.pairwise(sent))
    if dev:
        out.append(
            f"VRID {VRID} sends: {len(sent)}, period deviation p50/p99/max "
            f"{q(dev, 0.5)}/{q(dev, 0.99)}/{dev[-1]} us"
        )
    events: list[tuple[int, str]] = []
    for at, t0, end, switches, n, timers, timers_us, held in wakes:
        what = f"{n} adverts, {timers} other timers in {timers_us} us; preempted {switches}x"
        if t0 - at > LATE_US and not held:
            events.append((t0, f"wake-up {t0 - at} us late ({what})"))
        if end - t0 > 2 * LATE_US:
            events.append((t0, f"wake-up ran {end - t0} us ({what})"))
    for t0, nxt, end in t["drains"]:
        if t0 >= base:
            events.append((t0, f"deferred effects ran {end - nxt} us past a timer"))
    for t0, us, name in t["slow"]:
        if t0 >= base and "on_timer" not in name:
            events.append((t0, f"callback {us} us: {name}"))
    for t0, us, gen in t["gcs"]:
        if t0 >= base and us > SLOW_US:
            events.append((t0, f"gc gen{gen} {us} us"))
    for a, b in itertools.pairwise(sent):
        if abs(b - a - 100_000) > LATE_US:
            events.append((b, f"VRID {VRID} sent {b - a - 100_000:+d} us off its period"))
    for t0, text in sorted(events):
        if t0 > stop:
            break
        out.append(f"  {(t0 - base) / 1e6 + skip_s:7.3f} s  {text}")
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["--report"] and len(argv) == 2:
        print("\n".join(report(argv[1])))
        return 0
    if len(argv) < 2 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    install(argv[0])
    from hatui.cli import main as hatui_main

    sys.argv = ["hatui", *argv[2:]]
    return hatui_main(argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
