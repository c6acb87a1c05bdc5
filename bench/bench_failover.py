"""Failover, release and advert-jitter figures for hatui and keepalived on one namespace lab.

Run as root from the repository root: `python bench/bench_failover.py [--trials N] [--quick]`.
Prints figures; it is not a test. Everything is measured from the wire by a silent
observer host (tcpdump with kernel receive stamps) and from netlink on the new master
(`ip -ts monitor address`), so hatui and keepalived are timed by the same ruler.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import signal
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hatui.lab import Host, Keepalived, Lab, crash_keepalived, start_keepalived, unique_prefix
from hatui.lab.nodes import (
    VIP,
    HatuiNode,
    Pkt,
    Wire,
    flags,
    has_vip,
    start_hatui,
    vrrp_conf,
    wait_for,
)

MASTER_PRIO, BACKUP_PRIO = 150, 100


_ADDR = re.compile(r"^\[(\S+)\] (Deleted )?\d+: eth0\s+inet (\S+)/")


class AddrLog:
    """`ip -ts monitor address` in one host: when the VIP appeared there (netlink)."""

    def __init__(self, lab: Lab, host: Host) -> None:
        self.path = lab.workdir / f"addr-{host.name}.txt"
        self.proc = lab.spawn(
            host, ["ip", "-ts", "monitor", "address", "dev", "eth0"], log=self.path.name
        )

    def added(self, vip: str, since: float) -> float | None:
        for line in self.path.read_text(errors="replace").splitlines():
            m = _ADDR.match(line)
            if m and not m[2] and m[3] == vip:
                t = datetime.fromisoformat(m[1]).timestamp()
                if t >= since:
                    return t
        return None


@dataclass
class Peer:
    """One VRRP speaker of the bench: a hatui node or a keepalived, restartable."""

    lab: Lab
    host: Host
    kind: str  # hatui | keepalived
    prio: int
    version: int
    adv: str
    hatui: HatuiNode | None = None
    ka: Keepalived | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        tag = f"{self.kind}{self.starts}"
        if self.kind == "hatui":
            args = flags(self.prio, version=self.version, advert_int=self.adv)
            self.hatui = start_hatui(self.lab, self.host, args, tag=tag)
        else:
            conf = vrrp_conf(self.host.name, self.prio, version=self.version, advert_int=self.adv)
            self.ka = start_keepalived(self.lab, self.host, conf, tag=tag)

    def crash(self) -> None:
        """A real crash: nothing sent, the VIP left behind."""
        if self.hatui is not None:
            self.hatui.proc.send_signal(signal.SIGKILL)
            self.hatui.proc.wait(5)
            self.hatui = None
        if self.ka is not None:
            crash_keepalived(self.lab, self.ka)
            self.ka = None

    def stop(self) -> None:
        if self.hatui is not None:
            self.lab.stop(self.hatui.proc)
            self.hatui = None
        if self.ka is not None:
            self.lab.stop(self.ka.proc)
            self.ka = None


def rfc_times_ms(version: int, adv_s: float, prio: int) -> tuple[float, float]:
    """(Skew_Time, Master_Down_Interval) in ms: RFC 3768 6.1 (v2) / RFC 5798 6.1 (v3)."""
    if version == 2:
        skew = (256 - prio) / 256 * 1000
        return skew, 3 * adv_s * 1000 + skew
    skew = (256 - prio) * adv_s * 1000 / 256
    return skew, 3 * adv_s * 1000 + skew


@dataclass(frozen=True, slots=True)
class Takeover:
    gap_ms: float  # old master's last advert -> new master's first advert
    vip_ms: float | None  # old master's last advert -> VIP added on the new master
    garp_ms: float | None  # old master's last advert -> new master's first gratuitous ARP


def measure_takeover(
    wire: Wire, addrs: AddrLog, old: Host, new: Host, t0: float, timeout: float
) -> Takeover:
    """Wait for `new`'s first advert after `t0` and time it against `old`'s last one."""
    firsts: list[Pkt] = []

    def seen() -> bool:
        firsts[:] = [
            p for p in wire.packets(t0) if p.kind == "advert" and p.ip == new.ip and p.prio > 0
        ]
        return bool(firsts)

    wait_for(seen, timeout, f"{new.name}'s first advert")
    first = firsts[0]
    time.sleep(0.2)  # its GARP burst and our logs
    before = [
        p for p in wire.packets(t0 - 5) if p.kind == "advert" and p.ip == old.ip and p.t < first.t
    ]
    last = before[-1]
    garps = [
        p for p in wire.packets(last.t) if p.kind == "garp" and p.mac == new.mac and p.ip == VIP
    ]
    vip_at = addrs.added(VIP, last.t)
    return Takeover(
        gap_ms=(first.t - last.t) * 1000,
        vip_ms=None if vip_at is None else (vip_at - last.t) * 1000,
        garp_ms=(garps[0].t - last.t) * 1000 if garps else None,
    )


def wait_master(lab: Lab, wire: Wire, host: Host, other: Host, timeout: float) -> None:
    """`host` holds the VIP, `other` does not, and `host` has advertised for a while."""
    wait_for(lambda: has_vip(lab, host) and not has_vip(lab, other), timeout, f"{host.name} master")


def crash_trials(
    lab: Lab,
    wire: Wire,
    addrs: AddrLog,
    a: Host,
    b: Host,
    old_kind: str,
    new_kind: str,
    version: int,
    adv: str,
    trials: int,
) -> list[Takeover]:
    """`old` (150) on a crashes, `new` (100) on b takes over; a comes back and preempts."""
    adv_s = float(adv)
    old = Peer(lab, a, old_kind, MASTER_PRIO, version, adv)
    new = Peer(lab, b, new_kind, BACKUP_PRIO, version, adv)
    out = []
    try:
        old.start()
        new.start()
        for _ in range(trials):
            wait_master(lab, wire, a, b, 10 * adv_s + 10)
            time.sleep(max(0.5, 3 * adv_s))  # steady state: b has learned a's interval
            t0 = time.time()
            old.crash()
            out.append(measure_takeover(wire, addrs, a, b, t0, 10 * adv_s + 5))
            old.start()
    finally:
        old.stop()
        new.stop()
        time.sleep(0.2)
        lab.sh(a, f"ip addr del {VIP}/24 dev eth0 2>/dev/null || true", check=False)
        lab.sh(b, f"ip addr del {VIP}/24 dev eth0 2>/dev/null || true", check=False)
    return out


def release_trials(
    lab: Lab,
    wire: Wire,
    addrs: AddrLog,
    a: Host,
    b: Host,
    new_kind: str,
    version: int,
    adv: str,
    trials: int,
) -> list[Takeover]:
    """hatui (150) on a: `hatui ctl release`, b (100) takes over after Skew_Time; resume."""
    adv_s = float(adv)
    old = Peer(lab, a, "hatui", MASTER_PRIO, version, adv)
    new = Peer(lab, b, new_kind, BACKUP_PRIO, version, adv)
    out = []
    try:
        old.start()
        new.start()
        assert old.hatui is not None
        for _ in range(trials):
            wait_master(lab, wire, a, b, 10 * adv_s + 10)
            time.sleep(max(0.5, 3 * adv_s))
            t0 = time.time()
            old.hatui.ctl("release", "VI_51")
            out.append(measure_takeover(wire, addrs, a, b, t0, 10 * adv_s + 5))
            old.hatui.ctl("resume", "VI_51")
    finally:
        old.stop()
        new.stop()
        time.sleep(0.2)
        lab.sh(b, f"ip addr del {VIP}/24 dev eth0 2>/dev/null || true", check=False)
    return out


def jitter(lab: Lab, wire: Wire, a: Host, kind: str, seconds: float) -> list[float]:
    """|advert period - 100 ms| (ms) of a lone v3 0.1 s master on `a`, from the wire."""
    peer = Peer(lab, a, kind, MASTER_PRIO, 3, "0.1")
    try:
        peer.start()
        wait_for(lambda: has_vip(lab, a), 10, f"{kind} master")
        time.sleep(0.5)
        t0 = time.time()
        time.sleep(seconds)
        ts = [p.t for p in wire.packets(t0) if p.kind == "advert" and p.ip == a.ip]
    finally:
        peer.stop()
        time.sleep(0.2)
    return [abs((t2 - t1) * 1000 - 100) for t1, t2 in itertools.pairwise(ts)]


def p99(xs: list[float]) -> float:
    return sorted(xs)[min(len(xs) - 1, int(0.99 * len(xs)))]


def fmt(xs: list[float | None]) -> str:
    vals = [x for x in xs if x is not None]
    return f"{statistics.median(vals):8.1f}" if vals else "     n/a"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--jitter-s", type=float, default=15.0)
    ap.add_argument("--skip-v2", action="store_true", help="v3 0.1 s only (fast)")
    ap.add_argument("--jitter-only", action="store_true", help="only the advert jitter")
    args = ap.parse_args()
    rows: list[tuple[str, str, float, float, list[Takeover]]] = []
    with Lab(unique_prefix("bf-")) as lab:
        a, b = lab.add_host("a", 11), lab.add_host("b", 12)
        obs = lab.add_host("o", 9, silent=True)
        wire = Wire(lab, obs)
        addrs = AddrLog(lab, b)
        settings = [(3, "0.1")] + ([] if args.skip_v2 else [(2, "1")])
        if args.jitter_only:
            settings = []
        for version, adv in settings:
            skew, mdi = rfc_times_ms(version, float(adv), BACKUP_PRIO)
            for old_kind, new_kind in (
                ("hatui", "hatui"),
                ("keepalived", "hatui"),
                ("keepalived", "keepalived"),
            ):
                res = crash_trials(
                    lab, wire, addrs, a, b, old_kind, new_kind, version, adv, args.trials
                )
                rows.append((f"crash {old_kind}->{new_kind}", f"v{version} {adv}s", mdi, skew, res))
                print_row(rows[-1], mdi)
            for new_kind in ("hatui", "keepalived"):
                res = release_trials(lab, wire, addrs, a, b, new_kind, version, adv, args.trials)
                rows.append((f"release hatui->{new_kind}", f"v{version} {adv}s", mdi, skew, res))
                print_row(rows[-1], skew)
        busy = lab.spawn(obs, ["sh", "-c", "exec yes > /dev/null"], log="yes.log")
        try:
            jit = {k: jitter(lab, wire, a, k, args.jitter_s) for k in ("hatui", "keepalived")}
        finally:
            lab.stop(busy, signal.SIGKILL)
    print()
    # Figures mean little on a loaded machine: other work competes with the busy loop.
    print("load average at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    for kind, xs in jit.items():
        print(
            f"advert jitter v3 0.1 s, other core busy, {kind:10}: n={len(xs)} "
            f"median {statistics.median(xs):.3f} ms p99 {p99(xs):.3f} ms max {max(xs):.3f} ms"
        )
    return 0


def print_row(row: tuple[str, str, float, float, list[Takeover]], rfc: float) -> None:
    name, timing, _mdi, _skew, res = row
    gaps = [r.gap_ms for r in res]
    print(
        f"{name:28} {timing:8} n={len(res)} advert gap median {fmt(list(gaps))} ms "
        f"(min {min(gaps):.1f} max {max(gaps):.1f}; RFC {rfc:.1f}) "
        f"VIP {fmt([r.vip_ms for r in res])} ms  GARP {fmt([r.garp_ms for r in res])} ms",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
