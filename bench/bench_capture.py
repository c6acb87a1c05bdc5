"""Benchmark live capture: the highest advert rate `hatui --watch --headless` takes without
kernel drops. Needs root (a namespace lab; nothing touches the machine's own interfaces).

Run: sudo python bench/bench_capture.py [--rates 20000,40000,51000,60000,80000]
         [--seconds 10] [--senders 1]

For each rate: a silent observer host runs `hatui --watch eth0 --headless --json
--duration S+3`; a sender host blasts pre-built VRRP adverts (255 VRIDs x IPv4/IPv6) from
an AF_PACKET socket, paced to the rate, for S seconds. hatui's final document carries
`kernel_drops` (the socket's PACKET_STATISTICS) and the frames it decoded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from hatui.lab import Host, Lab, unique_prefix

# The sender runs in the sender namespace as its own interpreter: a small script, so
# its loop is nothing but send() and a clock check per batch.
SENDER = r"""
import json, socket, sys, time
from hatui.codec.build import build_vrrp_frame
from hatui.codec.frames import Family

rate, seconds, mac, octet = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
v6_only = sys.argv[5:] == ["v6"]  # bench_scale.py: other routers than the node's IPv4 VRIDs
frames = []
for vrid in range(1, 256):
    if not v6_only:
        frames.append(build_vrrp_frame(src_mac=mac, src_ip=f"192.0.2.{octet}", vrid=vrid,
                                       addresses=[f"198.51.100.{vrid % 255}"],
                                       version=2 if vrid <= 85 else 3))
    frames.append(build_vrrp_frame(src_mac=mac, src_ip=f"fe80::{octet:x}", vrid=vrid,
                                   addresses=[f"2001:db8:1::{vrid:x}"], family=Family.IPV6))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
send = s.send
batch = 64
n = len(frames)
sent = 0
errors = 0
start = time.perf_counter()
end = start + seconds
i = 0
while True:
    now = time.perf_counter()
    if now >= end:
        break
    due = int((now - start) * rate)  # frames that should be out by now
    if sent >= due:
        time.sleep(min(0.0005, (sent - due + batch) / rate))
        continue
    for _ in range(min(batch, due - sent)):
        try:
            send(frames[i])
        except OSError:  # ENOBUFS: the qdisc is full; count and go on
            errors += 1
        i = i + 1 if i + 1 < n else 0
        sent += 1
took = time.perf_counter() - start
print(json.dumps({"sent": sent, "errors": errors, "seconds": took}))
"""


HATUI = [sys.executable, "-m", "hatui"]
HEADER = f"{'target/s':>9} {'sent/s':>9} {'sent':>9} {'seen':>9} {'drops':>7} {'hatui CPU':>9}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    rate: int
    sent: int
    send_errors: int
    send_rate: float
    seen: int
    drops: int
    hatui_cpu: float


def _last_json(path: Path) -> dict[str, object]:
    lines = [line for line in path.read_text().splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"no JSON from {path}:\n{path.read_text()[-2000:]}")
    doc: dict[str, object] = json.loads(lines[-1])
    return doc


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a running process, from /proc (clock ticks)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_rate(lab: Lab, tx: Host, obs: Host, rate: int, seconds: float, senders: int) -> Result:
    tag = f"{rate}"
    watch = lab.spawn(
        obs,
        [*HATUI, "--watch", "eth0", "--headless", "--json", "--duration", str(seconds + 3)],
        log=f"watch-{tag}.log",
    )
    time.sleep(1.5)  # interpreter start and socket open, before the first advert
    script = lab.workdir / "sender.py"
    script.write_text(SENDER)
    procs = [
        lab.spawn(
            tx,
            [sys.executable, str(script), str(rate / senders), str(seconds), tx.mac, "11"],
            log=f"send-{tag}-{k}.log",
        )
        for k in range(senders)
    ]
    cpu = 0.0
    for p in procs:
        p.wait(seconds + 30)
    # The hatui process is `ip netns exec` replaced by python: the same pid.
    cpu = _cpu_seconds(watch.pid)
    watch.wait(seconds + 30)
    sent = errors = 0
    took = 0.0
    for k in range(senders):
        out = _last_json(lab.workdir / f"send-{tag}-{k}.log")
        sent += int(str(out["sent"]))
        errors += int(str(out["errors"]))
        took = max(took, float(str(out["seconds"])))
    doc = _last_json(lab.workdir / f"watch-{tag}.log")
    counters = doc["counters"]
    assert isinstance(counters, dict)
    return Result(
        rate=rate,
        sent=sent,
        send_errors=errors,
        send_rate=sent / took if took else 0.0,
        seen=int(counters["vrrp"]),
        drops=int(counters.get("kernel_drops", -1)),
        hatui_cpu=cpu,
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rates", default="20000,40000,51000,60000,80000")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--senders", type=int, default=1, help="sender processes sharing the rate")
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        print("bench_capture needs root (network namespaces)", file=sys.stderr)
        return 2
    rates = [int(r) for r in args.rates.split(",")]
    best = 0
    with Lab(prefix=unique_prefix("hb")) as lab:
        tx = lab.add_host("tx", 11)
        obs = lab.add_host("obs", 9, silent=True)
        print(HEADER)
        for rate in rates:
            r = run_rate(lab, tx, obs, rate, args.seconds, args.senders)
            lost = r.sent - r.seen
            print(
                f"{r.rate:>9,} {r.send_rate:>9,.0f} {r.sent:>9,} {r.seen:>9,} {r.drops:>7,}"
                f" {r.hatui_cpu:>8.1f}s"
                + (f"  (send errors {r.send_errors:,})" if r.send_errors else "")
                + (f"  ({lost:,} not seen)" if lost and not r.drops else "")
            )
            # A rate counts when the sender kept up (within 1%) and hatui saw every advert.
            if r.drops == 0 and r.seen >= r.sent and r.send_rate >= 0.99 * rate:
                best = max(best, rate)
    print(f"highest rate without kernel drops: {best:,} adverts/s (target >= 51,000)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
