"""255 VRRPv3 instances at 0.1 s, run in turn by keepalived, `hatui --serve --headless` and
`hatui --serve` with its console open (and kept busy), on one namespace lab.

Run as root from the repository root:
    python bench/bench_scale.py [--runs 3] [--seconds 10] [--flood 50000] [--rss-minutes 10]

For each daemon and run: the node host loads one keepalived.conf of 255 instances (VIPs
198.51.100.1-255, no peer, so every instance becomes MASTER); after they settle, a silent
observer host records VRID 128's adverts with tcpdump (kernel stamps) for S seconds while
the daemon's CPU time is read from /proc. Printed per row: CPU as a share of one core
(the node's; for headless hatui also its LAN-view process's, which runs at nice 19),
VRID 128's advert deviation |period - 100 ms| p50 / p99 / max, adverts/s, for hatui the
start-up (process start -> READY=1: config loaded, sockets open, all 255 in BACKUP), and
the deviation p99 and p99.9 over every VRID's intervals (25,000 in 10 s: VRID 128's 100
make a p99 of one sample).
`--flood N` adds N other adverts/s (IPv6, other routers) from a third host during the
measurement. `--rss-minutes M` runs the headless node M minutes and prints its RSS.
`--rt-priority N` adds `vrrp_rt_priority N` (SCHED_RR) to the config both daemons run.
`--trace DIR` runs each headless node through trace_wakes.py and prints, under its row,
what delayed its wake-ups (late wake-ups, slow callbacks, collections). `--tmux` runs the
console in a tmux session of its own (120x40), as an operator's SSH session would, instead
of on a pty the bench drains; the tmux server's CPU is printed under "term". "wait" is the
node's time ready to run but not running (ms per s, /proc/PID/schedstat): a CPU it waited for;
"max" every VRID's worst interval (a stall of the whole node), "majflt" the node's major
page faults and "steal" the time the hypervisor took the machine's CPUs, both meanwhile.
Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_capture import SENDER
from bench_capture import _cpu_seconds as cpu_seconds
from trace_wakes import report

from hatui.adapters.pcap import read_records
from hatui.lab import Host, Lab, start_keepalived, unique_prefix
from tests.ui.ptyconsole import PtyConsole
from tests.ui.test_serve_console import many_conf

VRID = 128
HATUI = [sys.executable, "-m", "hatui"]
TRACER = [sys.executable, str(Path(__file__).resolve().parent / "trace_wakes.py")]
KEYS = ["o", "\x1b[B" * 30, "m", "m", "r", "\x1b", "?", "\x1b", "\x1b[A" * 30, "o"]


class TmuxConsole:
    """`hatui ARGS` in `host`, in a detached tmux session (its own server) at 120x40."""

    def __init__(self, lab: Lab, host: Host, args: list[str]) -> None:
        self.lab, self.host, self.args = lab, host, args
        self.server = f"{lab.prefix}-tmux"
        self.pid = 0
        self.server_pid = 0
        self.received = 0  # unknown: tmux reads the console's output

    def tmux(self, *args: str) -> str:
        cmd = ["tmux", "-L", self.server, *args]
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout

    def start(self) -> None:
        argv = self.host.argv([*HATUI, *self.args])
        cmd = " ".join(shlex.quote(a) for a in argv)
        self.tmux("new-session", "-d", "-s", "bench", "-x", "120", "-y", "40", cmd)
        self.pid = int(self.tmux("display", "-p", "-t", "bench", "#{pane_pid}"))
        self.server_pid = int(self.tmux("display", "-p", "#{pid}"))

    def type(self, keys: str) -> None:
        self.tmux("send-keys", "-t", "bench", "-l", keys)

    def node_pids(self) -> list[int]:
        """The console's children: its node process, if it serves."""
        kids = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        return [int(p) for p in kids.split()]

    def wait(self, timeout: float) -> None:
        wait(lambda: not Path(f"/proc/{self.pid}").exists(), timeout, "the console to exit")

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.tmux("kill-server")


def steal_ms() -> float:
    """Time the hypervisor ran something else on this machine's CPUs (/proc/stat), ms."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) * 1000 / os.sysconf("SC_CLK_TCK")


def major_faults(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[9])
    except OSError:
        return 0


def run_wait_ns(pid: int) -> int:
    """Nanoseconds `pid`'s main thread has spent ready to run but waiting for a CPU."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1])
    except OSError:
        return 0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def vips(lab: Lab, host: Host) -> int:
    return sum(1 for a in lab.addresses(host) if a.startswith("198.51.100."))


def wait(pred: object, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise SystemExit(f"bench: timed out waiting for {what}")


@dataclass(frozen=True, slots=True)
class Row:
    daemon: str
    cpu: float  # share of one core
    console_cpu: float | None
    term_cpu: float | None  # the tmux server's (--tmux)
    wait_ms: float  # the node's run-queue wait, ms per s
    out_kb: float | None  # the console's output, kB/s
    lan_cpu: float | None  # the headless node's LAN-view process (nice 19)
    p50: float
    p99: float
    worst: float
    rate: float
    all_p99: float  # over every VRID's intervals (25,000 in 10 s), not VRID 128's 100
    all_p999: float
    all_max: float  # the longest stall: every VRID's worst interval
    faults: int  # the node's major page faults during the measurement
    steal: float  # ms the hypervisor took the machine's CPUs meanwhile
    startup_s: float | None


class Daemon:
    """One way to run the 255 instances in the node host."""

    def __init__(
        self,
        lab: Lab,
        host: Host,
        kind: str,
        conf: Path,
        trace: Path | None = None,
        tmux: bool = False,
    ) -> None:
        self.lab, self.host, self.kind, self.conf = lab, host, kind, conf
        self.trace = trace  # headless: trace the node's wake-ups into this file
        self.tmux = tmux
        self.console: PtyConsole | TmuxConsole | None = None
        self.console_pid: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_s: float | None = None
        self.ka_pid: int | None = None
        self.quit_s: float | None = None  # the console: from `q` to its exit

    def start(self) -> None:
        control = str(self.lab.workdir / f"{self.kind}.sock")
        if self.kind == "keepalived":
            ka = start_keepalived(self.lab, self.host, self.conf.read_text(), detail=False)
            self.proc = ka.proc
            wait(lambda: ka.child_pid() is not None, 10, "keepalived's VRRP child")
            self.ka_pid = ka.child_pid()
        elif self.kind in ("headless", "attach"):
            notify = self.lab.workdir / "notify"
            notify.unlink(missing_ok=True)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.bind(str(notify))
            sock.settimeout(10)
            t0 = time.monotonic()
            hatui = HATUI if self.trace is None else [*TRACER, str(self.trace), "--"]
            self.proc = self.lab.spawn(
                self.host,
                [*hatui, "--serve", "--headless", "-c", str(self.conf), "--control", control],
                env={"NOTIFY_SOCKET": str(notify)},
            )
            while b"READY=1" not in sock.recv(4096):
                pass
            self.startup_s = time.monotonic() - t0
            sock.close()
            if self.kind == "attach":
                self.console = TmuxConsole(self.lab, self.host, ["--attach", "--control", control])
                self.console.start()
                self.console_pid = self.console.pid
        else:
            args = ["-c", str(self.conf), "--control", control]
            if self.tmux:
                self.console = TmuxConsole(self.lab, self.host, ["--serve", *args])
                self.console.start()
                self.console_pid = self.console.pid
            else:
                self.console = PtyConsole(self.lab, self.host, args)
                self.console.start()
                assert self.console.proc is not None
                self.console_pid = self.console.proc.pid
        wait(lambda: vips(self.lab, self.host) == 255, 20, f"{self.kind}: 255 VIPs")

    def pids(self) -> tuple[int, int | None]:
        """(the node's pid, the console's pid or None)."""
        if self.kind == "keepalived":
            assert self.ka_pid is not None
            return self.ka_pid, None
        if self.kind == "console":
            assert self.console is not None
            (node,) = self.console.node_pids()
            return node, self.console_pid
        assert self.proc is not None
        return self.proc.pid, self.console_pid

    def lan_view_pid(self) -> int | None:
        """The headless node's LAN-view child (runtime/lanview.py), if it runs one."""
        node, _console = self.pids()
        if self.kind == "keepalived":
            return None
        try:
            kids = Path(f"/proc/{node}/task/{node}/children").read_text().split()
        except FileNotFoundError:
            return None
        for kid in kids:
            with contextlib.suppress(FileNotFoundError):
                if b"--lan-view" in Path(f"/proc/{kid}/cmdline").read_bytes():
                    return int(kid)
        return None

    def poke(self, k: int) -> None:
        if self.console is not None:
            self.console.type(KEYS[k % len(KEYS)])

    def stop(self) -> None:
        if self.console is not None:
            self.console.type("\x1b")  # a dialog the last key opened
            time.sleep(0.3)
            self.console.type("q")
            t0 = time.monotonic()
            if isinstance(self.console, TmuxConsole):
                self.console.wait(60)
            else:
                assert self.console.proc is not None
                self.console.proc.wait(60)
            self.quit_s = time.monotonic() - t0
            self.console.close()
        if self.kind != "console":
            assert self.proc is not None
            self.lab.stop(self.proc, timeout=20)
        wait(lambda: vips(self.lab, self.host) == 0, 20, f"{self.kind}: VIPs removed")


def quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def adverts_by_vrid(pcap: Path, src: str) -> dict[int, list[float]]:
    """Kernel stamps (s) of the IPv4 VRRP adverts from `src` in a capture, per VRID."""
    out: dict[int, list[float]] = {}
    want = socket.inet_aton(src)
    for rec in read_records(pcap):
        d = rec.data  # Ethernet, IPv4 (IHL 5), VRRP: the VRID is the VRRP header's 2nd byte
        if len(d) > 35 and d[23] == 112 and d[26:30] == want:
            out.setdefault(d[35], []).append(rec.time / 1e6)
    return out


def measure(lab: Lab, node: Host, obs: Host, daemon: Daemon, seconds: float) -> Row:
    daemon.start()
    time.sleep(2.0)  # GARP bursts and the console's first draws settle
    pcap = lab.workdir / f"wire-{daemon.kind}-{len(lab.procs)}.pcap"
    # Every VRID into a file (no text formatting: the observer host's CPU stays low).
    dump = lab.spawn(
        obs, ["tcpdump", "-i", "eth0", "-n", "-B", "16384", "-w", str(pcap), "ip proto 112"]
    )
    time.sleep(0.5)
    node_pid, console_pid = daemon.pids()
    lan_pid = daemon.lan_view_pid()
    term_pid = daemon.console.server_pid if isinstance(daemon.console, TmuxConsole) else None
    c0 = cpu_seconds(node_pid)
    k0 = cpu_seconds(console_pid) if console_pid else 0.0
    l0 = cpu_seconds(lan_pid) if lan_pid else 0.0
    m0 = cpu_seconds(term_pid) if term_pid else 0.0
    w0 = run_wait_ns(node_pid)
    f0 = major_faults(node_pid)
    s0 = steal_ms()
    b0 = daemon.console.received if daemon.console is not None else 0
    t0 = time.monotonic()
    for k in itertools.count():
        if time.monotonic() - t0 >= seconds:
            break
        daemon.poke(k)
        time.sleep(0.3)
    took = time.monotonic() - t0
    cpu = (cpu_seconds(node_pid) - c0) / took
    console_cpu = (cpu_seconds(console_pid) - k0) / took if console_pid else None
    lan_cpu = (cpu_seconds(lan_pid) - l0) / took if lan_pid else None
    term_cpu = (cpu_seconds(term_pid) - m0) / took if term_pid else None
    wait_ms = (run_wait_ns(node_pid) - w0) / 1e6 / took
    faults = major_faults(node_pid) - f0
    steal = steal_ms() - s0
    out_kb = None
    if isinstance(daemon.console, PtyConsole):
        out_kb = (daemon.console.received - b0) / 1024 / took
    lab.stop(dump, signal.SIGINT)
    daemon.stop()
    by_vrid = adverts_by_vrid(pcap, node.ip)
    stamps = by_vrid.get(VRID, [])
    dev = sorted(abs((b - a) * 1000 - 100.0) for a, b in itertools.pairwise(stamps))
    every = sorted(
        abs((b - a) * 1000 - 100.0) for s in by_vrid.values() for a, b in itertools.pairwise(s)
    )
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else 1.0
    return Row(
        daemon=daemon.kind,
        cpu=cpu,
        console_cpu=console_cpu,
        term_cpu=term_cpu,
        wait_ms=wait_ms,
        out_kb=out_kb,
        lan_cpu=lan_cpu,
        p50=statistics.median(dev),
        p99=quantile(dev, 0.99),
        worst=dev[-1],
        rate=(len(stamps) - 1) / span,
        all_p99=quantile(every, 0.99),
        all_p999=quantile(every, 0.999),
        all_max=every[-1],
        faults=faults,
        steal=steal,
        startup_s=daemon.startup_s,
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--flood", type=int, default=0, help="other adverts/s during each run")
    p.add_argument("--daemons", default="keepalived,headless,console")
    p.add_argument("--rss-minutes", type=float, default=0.0)
    p.add_argument("--trace", type=Path, help="trace headless wake-ups into this folder")
    p.add_argument("--rt-priority", type=int, help="vrrp_rt_priority for both daemons")
    p.add_argument("--tmux", action="store_true", help="the console in tmux, not on a pty")
    args = p.parse_args(argv)
    if args.trace:
        args.trace.mkdir(parents=True, exist_ok=True)
    with Lab(unique_prefix("bscale")) as lab:
        node = lab.add_host("n", 11)
        obs = lab.add_host("o", 9, silent=True)
        tx = lab.add_host("t", 13, silent=True) if args.flood else None
        conf = lab.workdir / "255.conf"
        text = many_conf(255, 100)
        if args.rt_priority:
            # keepalived kills a realtime child that runs 10 ms straight (RLIMIT_RTTIME):
            # its start of 255 instances does.
            rt = f"    vrrp_rt_priority {args.rt_priority}\n    vrrp_rlimit_rttime 1000000\n"
            text = text.replace("global_defs {\n", "global_defs {\n" + rt, 1)
        conf.write_text(text)
        sender = lab.workdir / "sender.py"
        sender.write_text(SENDER)
        if args.rss_minutes:
            return rss_run(lab, node, conf, args.rss_minutes)
        print(f"255 VRRPv3 instances at 0.1 s, VRID {VRID} measured for {args.seconds:.0f} s"
              + (f", flood {args.flood:,} other adverts/s" if args.flood else "")
              + (f", SCHED_RR {args.rt_priority}" if args.rt_priority else ""))  # fmt: skip
        print(f"{'daemon':<11} {'CPU':>6} {'wait':>5} {'console':>8} {'LAN view':>8} "
              f"{'term':>6} {'out kB/s':>8} {'p50 ms':>7} "
              f"{'p99 ms':>7} {'max ms':>7} {'adv/s':>6} {'start s':>7} {'all p99':>8} "
              f"{'p99.9':>7} {'max':>7} {'majflt':>6} {'steal':>6}")  # fmt: skip
        for run, kind in itertools.product(range(args.runs), args.daemons.split(",")):
            traced = args.trace and kind in ("headless", "attach")
            trace = args.trace / f"{kind}-{run}.json" if traced else None
            flood = None
            if tx is not None:
                flood = lab.spawn(
                    tx,
                    [sys.executable, str(sender), str(args.flood), str(args.seconds + 30),
                     tx.mac, "13", "v6"],
                    env={"PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
                )  # fmt: skip
            daemon = Daemon(lab, node, kind, conf, trace, tmux=args.tmux)
            r = measure(lab, node, obs, daemon, args.seconds)
            if flood is not None:
                lab.stop(flood)
            console = "-" if r.console_cpu is None else f"{100 * r.console_cpu:.1f}%"
            lan = "-" if r.lan_cpu is None else f"{100 * r.lan_cpu:.1f}%"
            start = "-" if r.startup_s is None else f"{r.startup_s:.2f}"
            term = "-" if r.term_cpu is None else f"{100 * r.term_cpu:.1f}%"
            out = "-" if r.out_kb is None else f"{r.out_kb:.1f}"
            print(f"{r.daemon:<11} {100 * r.cpu:>5.1f}% {r.wait_ms:>5.1f} {console:>8} {lan:>8} "
                  f"{term:>6} {out:>8} {r.p50:>7.2f} "
                  f"{r.p99:>7.2f} {r.worst:>7.2f} {r.rate:>6.2f} {start:>7} {r.all_p99:>8.2f} "
                  f"{r.all_p999:>7.2f} {r.all_max:>7.2f} {r.faults:>6} {r.steal:>6.0f}",
                  flush=True)  # fmt: skip
            if trace is not None and trace.exists():
                print("\n".join("    " + line for line in report(str(trace))), flush=True)
    return 0


def rss_run(lab: Lab, node: Host, conf: Path, minutes: float) -> int:
    d = Daemon(lab, node, "headless", conf)
    d.start()
    pid, _ = d.pids()
    time.sleep(1.0)  # the LAN view is up
    lan = d.lan_view_pid()
    print(f"headless node, 255 instances: start-up {d.startup_s:.2f} s")

    def line(elapsed: float) -> str:
        text = f"{elapsed / 60:5.1f} min  RSS {rss_mb(pid):6.1f} MB  CPU {cpu_seconds(pid):6.1f} s"
        if lan is not None:
            text += f"  LAN view RSS {rss_mb(lan):6.1f} MB  CPU {cpu_seconds(lan):6.1f} s"
        return text

    t0 = time.monotonic()
    while (elapsed := time.monotonic() - t0) < minutes * 60:
        print(line(elapsed), flush=True)
        time.sleep(60)
    print(line(minutes * 60), flush=True)
    d.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
