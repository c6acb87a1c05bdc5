"""What following haproxy costs: one poll (two socket round trips, parsing, the config and
procfs reads) against Debian's haproxy in a namespace lab, and the pure parse + join for a
large `show stat`, with the time the event loop is held per poll.

    sudo python bench/bench_haproxy.py [--backends 50] [--servers 10] [--polls 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from hatui.adapters.haproxy import HaproxyPoller, Poll, query
from hatui.haproxy.join import VipHolder, assess
from hatui.haproxy.stats import StatsError, parse_stat
from hatui.lab import Lab, start_haproxy, unique_prefix

VIP = "192.0.2.100"


def config(sock: str, backends: int, servers: int) -> str:
    lines = [
        "global",
        f"    stats socket {sock} mode 600 level admin",
        "defaults",
        "    mode http",
        "    timeout connect 1s",
        "    timeout client 10s",
        "    timeout server 10s",
    ]
    for b in range(backends):
        lines += [f"frontend f{b}", f"    bind {VIP}:{8000 + b}", f"    default_backend b{b}"]
        lines += [f"backend b{b}"]
        # Servers on TEST-NET addresses nobody answers: checks fail, states stay DOWN.
        lines += [f"    server s{s} 198.51.100.{s + 1}:80" for s in range(servers)]
    return "\n".join(lines) + "\n"


async def measure(poller: HaproxyPoller, polls: int) -> tuple[list[float], list[float], str, Poll]:
    walls, held = [], []
    for _ in range(polls):
        start, cpu = time.perf_counter(), time.process_time()
        poll = await poller.poll()
        walls.append(time.perf_counter() - start)
        held.append(time.process_time() - cpu)  # this process's CPU: the loop held
        assert poll.outcome.__class__.__name__ == "Reached", poll.outcome
    text = await query(poller.flag or "", "show stat")
    return walls, held, text, poll


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--backends", type=int, default=50)
    p.add_argument("--servers", type=int, default=10)
    p.add_argument("--polls", type=int, default=50)
    args = p.parse_args()
    with Lab(unique_prefix("hbha")) as lab:
        host = lab.add_host("a", 11)
        sock = lab.workdir / "a-haproxy.sock"
        start_haproxy(lab, host, config(str(sock), args.backends, args.servers))
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        poller = HaproxyPoller(str(sock))
        walls, held, text, last = asyncio.run(measure(poller, args.polls))
    rows = args.backends * (args.servers + 2)
    print(
        f"haproxy {args.backends} frontends, {args.backends} backends x {args.servers} servers"
        f" ({rows} show stat rows, {len(text) / 1024:.0f} KiB)"
    )
    print(
        f"poll, wall: median {statistics.median(walls) * 1e3:.2f} ms, "
        f"max {max(walls) * 1e3:.2f} ms ({args.polls} polls)"
    )
    print(f"poll, CPU of this process: median {statistics.median(held) * 1e3:.2f} ms")
    holders = (VipHolder(vip=VIP, master="192.0.2.11", vrid=51),)
    parse, join = [], []
    for _ in range(20):
        start = time.perf_counter()
        stats = parse_stat(text)
        parse.append(time.perf_counter() - start)
        assert not isinstance(stats, StatsError)
        start = time.perf_counter()
        assess(socket="s", time_us=0, outcome=last.outcome, local=frozenset({VIP}), holders=holders)
        join.append(time.perf_counter() - start)
    print(
        f"parse show stat: median {statistics.median(parse) * 1e3:.2f} ms; "
        f"join with VRRP: median {statistics.median(join) * 1e3:.2f} ms"
    )


if __name__ == "__main__":
    main()
