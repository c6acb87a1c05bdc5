"""Record the FRR part of the capture corpus: two real FRR vrrpd routers (Debian's `frr`
8.4) on one VRID in a namespace lab, captured by a silent observer host. The pcaps are
committed; tests/corpus/test_frr.py checks each against tshark and never re-records.
With FRR_LAB_LOGS=DIR set, the lab's FRR logs and configs are kept in DIR/NAME.

Regenerate by hand, as root (under two minutes):

    PYTHONPATH=$PWD python -m hatui.lab.frr tests/corpus [NAME ...]

Each recording: router a (.11, priority 150) starts and masters, router b (.12, priority
100) joins, a's vrrpd dies (SIGKILL, or SIGTERM where the name says so) and b takes over;
in the kill recordings a's vrrpd then starts again at priority 200 with preempt and takes
mastership back. FRR runs VRRP only on a macvlan with the virtual MAC (the operator makes
it and puts the VIP on it), as zebra + vrrpd per namespace under its own user.

Seen on the wire (FRR 8.4.4): over IPv6 the new master's first advert leaves one interval
after its unsolicited NA for the VIP, because at Backup -> Master vrrpd logs "Failed to
find address to bind on vrrp6-51" (its view of the macvlan holds no link-local yet); the
recordings keep that as FRR does it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from hatui.lab import Host, Lab, unique_prefix
from hatui.lab.nodes import wait_for

FRR = Path("/usr/lib/frr")
VRID = 51
VIP4, VIP6 = "192.0.2.100", "2001:db8::100"
FILTER = "vrrp or arp or ip6 proto 112 or (icmp6 and ip6[40] == 136)"


@dataclass(frozen=True)
class Recording:
    version: int  # VRRP version
    family: int  # 4 or 6
    stop: signal.Signals  # how a's first vrrpd ends
    restart: bool  # a comes back at priority 200 with preempt
    interval_ms: int = 1000  # advertisement interval


RECORDINGS = {
    "frr_v3_ipv4_kill_preempt": Recording(3, 4, signal.SIGKILL, True),
    "frr_v2_ipv4_kill_preempt": Recording(2, 4, signal.SIGKILL, True),
    "frr_v3_ipv6_kill_preempt": Recording(3, 6, signal.SIGKILL, True),
    "frr_v3_ipv4_sigterm": Recording(3, 4, signal.SIGTERM, False),
    # v2's Skew_Time does not scale with the interval (v3's does): 2 s tells them apart.
    "frr_v2_ipv4_2s_kill": Recording(2, 4, signal.SIGKILL, False, 2000),
}


class Router:
    """zebra + vrrpd in one host, on the macvlan FRR needs (made once, kept across
    restarts of vrrpd, as an operator's would be)."""

    def __init__(self, lab: Lab, host: Host, rec: Recording) -> None:
        self.lab, self.host, self.rec = lab, host, rec
        self.dir = lab.workdir / f"frr-{host.name}"
        self.dir.mkdir()
        self.dir.chmod(0o777)  # FRR drops to its own user
        (self.dir / "zebra.conf").write_text("")
        # IPv6 adverts leave from the macvlan's link-local: one derived from the shared
        # virtual MAC would be the same on both routers, so each gets its own (FRR's
        # documentation makes it with `addrgenmode random`; a fixed one is reproducible).
        dev, mac, addrs = (
            (f"vrrp4-{VRID}", f"00:00:5e:00:01:{VRID:02x}", [f"{VIP4}/24"])
            if rec.family == 4
            else (
                f"vrrp6-{VRID}",
                f"00:00:5e:00:02:{VRID:02x}",
                [f"fe80::{host.ip.rsplit('.', 1)[1]}/64", f"{VIP6}/64"],
            )
        )
        add = " && ".join(f"ip addr add {a} dev {dev} nodad" for a in addrs)
        lab.sh(
            host,
            f"ip link add {dev} link eth0 type macvlan mode bridge && "
            f"ip link set dev {dev} address {mac} addrgenmode none && {add} && "
            f"ip link set dev {dev} up",
        )
        self.zebra = self._spawn("zebra")
        wait_for(lambda: (self.dir / "zserv.api").exists(), 5, "zebra's socket")
        self.vrrpd: subprocess.Popen[bytes] | None = None

    def _spawn(self, daemon: str) -> subprocess.Popen[bytes]:
        d = self.dir
        argv = [str(FRR / daemon), "-f", f"{d}/{daemon}.conf", "-i", f"{d}/{daemon}.pid"]
        argv += ["-z", f"{d}/zserv.api", "--vty_socket", str(d), "-u", "frr", "-g", "frr"]
        argv += ["-A", "127.0.0.1", "-P", "0", "--log", f"file:{d}/{daemon}.log"]
        return self.lab.spawn(self.host, argv, log=f"{self.host.name}-{daemon}.out")

    def start_vrrpd(self, priority: int) -> None:
        ms = self.rec.interval_ms
        vip = f" vrrp {VRID} ip {VIP4}\n" if self.rec.family == 4 else f" vrrp {VRID} ipv6 {VIP6}\n"
        (self.dir / "vrrpd.conf").write_text(
            f"interface eth0\n vrrp {VRID} version {self.rec.version}\n"
            f" vrrp {VRID} priority {priority}\n vrrp {VRID} preempt\n"
            f" vrrp {VRID} advertisement-interval {ms}\n{vip}"
        )
        self.vrrpd = self._spawn("vrrpd")

    def stop_vrrpd(self, sig: signal.Signals) -> None:
        assert self.vrrpd is not None
        self.lab.stop(self.vrrpd, sig)


def record(name: str, rec: Recording, out: Path) -> Path:
    target = out / f"{name}.pcap"
    with Lab(unique_prefix("frrlab-")) as lab:
        lab.workdir.chmod(0o711)
        a, b = lab.add_host("a", 11), lab.add_host("b", 12)
        o = lab.add_host("o", 9, silent=True)
        pcap = lab.workdir / "o.pcap"
        dump = lab.spawn(o, ["tcpdump", "-i", "eth0", "-U", "-Z", "root", "-w", str(pcap), FILTER])
        ra, rb = Router(lab, a, rec), Router(lab, b, rec)
        i = rec.interval_ms / 1000
        time.sleep(1.0)  # tcpdump listening
        ra.start_vrrpd(150)
        time.sleep(3.5 * i + 1.5)  # a: Master_Down_Interval, then master
        rb.start_vrrpd(100)
        time.sleep(2.5 * i)
        ra.stop_vrrpd(rec.stop)
        time.sleep(3.7 * i + 2.3)  # b: Master_Down_Interval (3.6 s at 1 s), then master
        if rec.restart:
            ra.start_vrrpd(200)
            time.sleep(3.3 * i + 2.5)  # a: Master_Down_Interval (3.2 s), then preempts b
        lab.stop(dump, signal.SIGINT)
        if logs := os.environ.get("FRR_LAB_LOGS"):
            shutil.copytree(
                lab.workdir,
                Path(logs) / name,
                ignore=shutil.ignore_patterns("*.pcap", "*.api", "*.vty", "*.pid"),
            )
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pcap, target)
    return target


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m hatui.lab.frr OUTDIR [NAME ...]")
    names = sys.argv[2:] or list(RECORDINGS)
    if unknown := [n for n in names if n not in RECORDINGS]:
        raise SystemExit(
            f"frr_lab: unknown recording {unknown[0]!r} (known: {', '.join(RECORDINGS)})"
        )
    if os.geteuid() != 0:
        raise SystemExit("frr_lab: needs root (network namespaces)")
    for tool in (str(FRR / "vrrpd"), str(FRR / "zebra"), "tcpdump"):
        if shutil.which(tool) is None:
            raise SystemExit(f"frr_lab: needs {tool} (apt-get install frr tcpdump)")
    for n in names:
        print(record(n, RECORDINGS[n], Path(sys.argv[1])))
