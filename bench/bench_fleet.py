"""Benchmark `hatui --fleet` against a Prometheus holding 1,000 nodes and 10,000 VRRP
instances: refresh time, query count, and the console's memory. Prints figures; not a test.

Run: python bench/bench_fleet.py [--nodes 1000] [--per-node 10] [--refreshes 5]

Synthetic series (keepalived_vrrp_state, hatui_node_priority, keepalived_become_master_total,
up, and hatui_router_* from one watcher per 50 nodes) are written as OpenMetrics to a temp
file, one sample a minute for 12 minutes ending now, and backfilled with `promtool tsdb
create-blocks-from openmetrics`. Nodes pair up (2k, 2k+1) and share their instances' VRIDs
and VIPs; 1 % of the nodes are down (their series end early, `up` 0); one pair has two
masters and one flaps. Debian's prometheus then serves the blocks on 127.0.0.1 (a free
port, its own temp --storage.tsdb.path) and nothing else: it scrapes nothing. The refresh
is hatui's own (FleetPoller: HTTP, JSON, the view and its alerts); the console runs under
Pilot in a child process whose VmRSS and VmHWM are read after its refreshes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hatui.adapters.prometheus import Prometheus  # noqa: E402
from hatui.runtime.fleet import FleetPoller  # noqa: E402

STEP_S = 60
SAMPLES = 12


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_openmetrics(path: Path, nodes: int, per_node: int, end: int) -> dict[str, int]:
    """The synthetic fleet; returns what it holds."""
    times = [end - STEP_S * (SAMPLES - 1 - k) for k in range(SAMPLES)]
    down = {n for n in range(nodes) if n % 200 in (36, 39)}  # 1 %: masters and backups
    counts = {"nodes": nodes, "instances": nodes * per_node, "down": len(down), "routers": 0}
    with path.open("w") as out:

        def series(name: str, labels: str, values: list[tuple[int, float]]) -> None:
            out.writelines(f"{name}{{{labels}}} {v:g} {t}\n" for t, v in values)

        def node_label(n: int) -> str:
            return f'job="hatui",instance="10.{n // 250}.{n % 250}.1:9650"'

        def alive(n: int) -> list[int]:
            return times[: SAMPLES // 2] if n in down else times

        out.write("# HELP up Target up\n# TYPE up gauge\n")
        for n in range(nodes):
            series("up", node_label(n), [(t, 0 if n in down and t not in alive(n) else 1)
                                         for t in times])  # fmt: skip
        out.write("# HELP keepalived_vrrp_state State\n# TYPE keepalived_vrrp_state gauge\n")
        for n in range(nodes):
            pair = n // 2
            for i in range(per_node):
                vrid = 1 + (pair * per_node + i) % 255
                vip = f"172.{16 + pair // 4096 % 16}.{pair // 16 % 256}.{(pair % 16) * 16 + i}"
                labels = (f'{node_label(n)},iname="VI_{i}",intf="vlan{pair % 4000}",'
                          f'vrid="{vrid}",ip_address="{vip}"')  # fmt: skip
                master = n % 2 == 0 or (pair == 1 and i == 0)  # pair 1: two masters once
                if pair == 2 and i == 0:  # pair 2 flaps
                    values = [(t, 2 if (k + n) % 2 else 1) for k, t in enumerate(alive(n))]
                else:
                    values = [(t, 2 if master else 1) for t in alive(n)]
                series("keepalived_vrrp_state", labels, values)
        out.write("# HELP hatui_node_priority Priority\n# TYPE hatui_node_priority gauge\n")
        for n in range(nodes):
            pair = n // 2
            for i in range(per_node):
                vrid = 1 + (pair * per_node + i) % 255
                labels = f'{node_label(n)},iname="VI_{i}",intf="vlan{pair % 4000}",vrid="{vrid}"'
                series("hatui_node_priority", labels, [(t, 150 - 50 * (n % 2)) for t in alive(n)])
        out.write("# HELP keepalived_become_master Became master\n")
        out.write("# TYPE keepalived_become_master counter\n")
        for n in range(nodes):
            pair = n // 2
            for i in range(per_node):
                vrid = 1 + (pair * per_node + i) % 255
                labels = f'{node_label(n)},iname="VI_{i}",intf="vlan{pair % 4000}",vrid="{vrid}"'
                flap = pair == 2 and i == 0
                series("keepalived_become_master_total", labels,
                       [(t, k if flap else 1 - n % 2) for k, t in enumerate(alive(n))])  # fmt: skip
        routers = []
        for w in range(nodes // 50):
            for pair in range(w * 25, w * 25 + 25):  # each watcher hears its 25 pairs
                for i in range(2):
                    vrid = 1 + (pair * per_node + i) % 255
                    routers.append((w, pair, vrid))
        counts["routers"] = len(routers)

        def rlabels(w: int, pair: int, vrid: int) -> str:
            return (f'job="hatui",instance="10.250.{w}.9:9651",interface="vlan{pair % 4000}",'
                    f'protocol="vrrp",family="ipv4",vrid="{vrid}"')  # fmt: skip

        out.write("# HELP hatui_router_master Master\n# TYPE hatui_router_master gauge\n")
        for w, pair, vrid in routers:
            ip = f"10.{(2 * pair) // 250}.{(2 * pair) % 250}.1"
            labels = f'{rlabels(w, pair, vrid)},master_ip="{ip}",master_mac="02:00:00:00:00:01"'
            series("hatui_router_master", labels, [(t, 1) for t in times])
        for name, value in (("hatui_router_priority", 150), ("hatui_router_split_brain", 0),
                            ("hatui_router_stale", 0), ("hatui_router_senders", 2),
                            ("hatui_router_advert_age_seconds", 0.4)):  # fmt: skip
            out.write(f"# HELP {name} x\n# TYPE {name} gauge\n")
            for w, pair, vrid in routers:
                series(name, rlabels(w, pair, vrid), [(t, value) for t in times])
        out.write("# EOF\n")
    return counts


def console_memory(url: str, refreshes: int) -> dict[str, float]:
    """The console under Pilot in a child process: its RSS after `refreshes` refreshes."""
    code = f"""
import asyncio, json, time
from hatui.adapters.prometheus import Prometheus
from hatui.runtime.fleet import FleetPoller
from hatui.ui.fleet import FleetApp

def status():
    out = {{}}
    for line in open('/proc/self/status'):
        k, _, v = line.partition(':')
        if k in ('VmRSS', 'VmHWM'):
            out[k] = int(v.split()[0]) / 1024
    return out

async def main():
    app = FleetApp(FleetPoller(Prometheus({url!r}, timeout=30)))
    async with app.run_test(size=(160, 50)) as pilot:
        while app.refreshes < {refreshes}:
            await pilot.pause(0.1)
        assert app.state.view is not None, app.state.error
        rows = app.query_one('#fleet-instances').row_count
        await pilot.pause(0.5)
        print(json.dumps({{**status(), 'rows': rows}}))
        await pilot.press('q')

asyncio.run(main())
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=True)  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--per-node", type=int, default=10)
    ap.add_argument("--refreshes", type=int, default=5)
    ap.add_argument("--save-answers", metavar="FILE", help="write one refresh's answers (JSON)")
    args = ap.parse_args()
    for tool in ("prometheus", "promtool"):
        if shutil.which(tool) is None:
            sys.exit(f"bench_fleet: needs {tool} (apt-get install prometheus)")
    tmp = Path(tempfile.mkdtemp(prefix="hatui-bench-fleet-"))
    prom = None
    try:
        t0 = time.monotonic()
        end = int(time.time()) - 30
        counts = write_openmetrics(tmp / "fleet.om", args.nodes, args.per_node, end)
        size_mb = (tmp / "fleet.om").stat().st_size / 1e6
        t1 = time.monotonic()
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics",
                        str(tmp / "fleet.om"), str(tmp / "tsdb")],
                       check=True, capture_output=True)  # fmt: skip
        t2 = time.monotonic()
        (tmp / "prometheus.yml").write_text("global:\n  scrape_interval: 15s\n")
        port = free_port()
        log = (tmp / "prometheus.log").open("wb")
        prom = subprocess.Popen(
            ["prometheus", f"--config.file={tmp / 'prometheus.yml'}",
             f"--storage.tsdb.path={tmp / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            time.sleep(0.1)
        t3 = time.monotonic()
        print(f"fleet: {counts}; OpenMetrics {size_mb:.0f} MB written in {t1 - t0:.1f} s, "
              f"backfilled in {t2 - t1:.1f} s, Prometheus ready in {t3 - t2:.1f} s")  # fmt: skip
        poller = FleetPoller(Prometheus(url, timeout=60))
        times, parse = [], []
        for _ in range(args.refreshes):
            start = time.monotonic()
            state = poller.refresh()
            times.append(time.monotonic() - start)
            assert state.view is not None, state.error
            parse.append(times[-1] - state.elapsed_s)
        view = state.view
        if args.save_answers:
            answers = poller.prometheus.ask(poller.queries).results
            Path(args.save_answers).write_text(json.dumps(answers))
        live = sum(1 for i in view.instances if i.live)
        kinds: dict[str, int] = {}
        for a in view.alerts:
            kinds[a.kind] = kinds.get(a.kind, 0) + 1
        print(f"view: {len(view.nodes)} nodes ({sum(not n.up for n in view.nodes)} down), "
              f"{len(view.instances)} instances ({live} live), {len(view.routers)} routers, "
              f"alerts {kinds}")  # fmt: skip
        ms = sorted(t * 1000 for t in times)
        print(f"refresh: {state.queries} queries; {len(ms)} refreshes, median "
              f"{statistics.median(ms):.0f} ms (min {ms[0]:.0f}, max {ms[-1]:.0f}); of which "
              f"parse + alerts median {statistics.median(parse) * 1000:.0f} ms")  # fmt: skip
        each = []
        for q in poller.queries:  # one at a time: what each costs on its own
            start = time.monotonic()
            n = len(poller.prometheus.query(q.expr))
            each.append(f"{q.key} {(time.monotonic() - start) * 1000:.0f} ms ({n})")
        print("each query alone (series): " + ", ".join(each))
        mem = console_memory(url, 3)
        print(f"console (Pilot, 3 refreshes, {mem['rows']:.0f} instance rows): "
              f"RSS {mem['VmRSS']:.0f} MB, peak {mem['VmHWM']:.0f} MB")  # fmt: skip
    finally:
        if prom is not None:
            prom.terminate()
            try:
                prom.wait(10)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait(5)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
