"""Namespace labs: hosts on a private bridge, for the demo, the tests and the benchmarks.

Everything lives in namespaces this module creates: the bridge sits in its own "switch"
namespace, so the machine's own interfaces and routing are never touched. Addresses are
TEST-NET (192.0.2.0/24, 2001:db8::/64). `close()` kills the processes it started (by
PID) and deletes every namespace, also after errors.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hatui.errors import RuntimeFault

SUBNET_V4 = "192.0.2"
SUBNET_V6 = "2001:db8::"


def _run(argv: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise RuntimeFault(f"{' '.join(argv)}: {proc.stderr.strip() or proc.returncode}")
    return proc


@dataclass(slots=True)
class Host:
    """One lab host: a namespace with `eth0` on the lab bridge."""

    name: str
    ns: str
    ip: str
    ip6: str
    mac: str
    port: str  # its bridge port, in the switch namespace

    def argv(self, argv: Sequence[str]) -> list[str]:
        """`argv` wrapped to run inside this host's namespace."""
        return ["ip", "netns", "exec", self.ns, *argv]


@dataclass
class Lab:
    """A bridge plus hosts. Use as a context manager, or call close()."""

    prefix: str
    hosts: dict[str, Host] = field(default_factory=dict)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hatui-lab-")))
    switch: str = ""

    def __post_init__(self) -> None:
        if os.geteuid() != 0:
            raise RuntimeFault("the lab needs root (network namespaces): run it with sudo")
        if shutil.which("ip") is None:
            raise RuntimeFault("the lab needs iproute2's `ip` command")
        self.switch = f"{self.prefix}sw"
        try:
            _run(["ip", "netns", "add", self.switch])
            sw = ["ip", "netns", "exec", self.switch]
            _run(
                [
                    *sw,
                    "ip",
                    "link",
                    "add",
                    "br0",
                    "type",
                    "bridge",
                    "ageing_time",
                    "0",
                    "mcast_snooping",
                    "0",
                    "stp_state",
                    "0",
                    "forward_delay",
                    "0",
                ]
            )
            _run([*sw, "ip", "link", "set", "lo", "up"])
            _run([*sw, "ip", "link", "set", "br0", "up"])
        except Exception:
            self.close()
            raise

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add_host(
        self, name: str, octet: int, *, mac: str | None = None, silent: bool = False
    ) -> Host:
        """Create host `name` with 192.0.2.<octet>/24 and 2001:db8::<octet>/64 on eth0.

        A `silent` host (an observer) has IPv6 off, so its kernel sends no MLD or ND of its
        own and its transmit counter measures only what a program in it sends."""
        ns = f"{self.prefix}{name}"
        port = f"p{len(self.hosts)}"
        mac = mac or f"02:00:00:00:00:{octet:02x}"
        host = Host(
            name=name,
            ns=ns,
            ip=f"{SUBNET_V4}.{octet}",
            ip6=f"{SUBNET_V6}{octet:x}",
            mac=mac,
            port=port,
        )
        self.hosts[name] = host
        _run(["ip", "netns", "add", ns])
        _run(
            [
                "ip",
                "-n",
                ns,
                "link",
                "add",
                "eth0",
                "address",
                mac,
                "type",
                "veth",
                "peer",
                "name",
                port,
                "netns",
                self.switch,
            ]
        )
        sysctls = [
            "net.ipv4.conf.all.rp_filter=0",
            "net.ipv4.conf.default.rp_filter=0",
            "net.ipv4.conf.eth0.rp_filter=0",
            "net.ipv6.conf.all.accept_dad=0",
            "net.ipv6.conf.default.accept_dad=0",
            "net.ipv6.conf.eth0.accept_dad=0",
            "net.ipv6.conf.eth0.router_solicitations=0",
            "net.ipv4.conf.all.arp_ignore=0",
        ]
        if silent:
            sysctls.append("net.ipv6.conf.eth0.disable_ipv6=1")
        for s in sysctls:
            _run(host.argv(["sysctl", "-qw", s]), check=False)
        _run(["ip", "-n", ns, "addr", "add", f"{host.ip}/24", "dev", "eth0"])
        if not silent:
            _run(["ip", "-n", ns, "addr", "add", f"{host.ip6}/64", "dev", "eth0", "nodad"])
        _run(["ip", "-n", ns, "link", "set", "lo", "up"])
        _run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        _run(["ip", "-n", self.switch, "link", "set", port, "master", "br0"])
        _run(["ip", "-n", self.switch, "link", "set", port, "up"])
        return host

    def spawn(
        self,
        host: Host,
        argv: Sequence[str],
        *,
        log: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start `argv` in `host`'s namespace in its own process group; output to a log file."""
        out = open(self.workdir / (log or f"{host.name}-{len(self.procs)}.log"), "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            host.argv(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
        out.close()
        self.procs.append(proc)
        return proc

    def sh(self, host: Host, cmd: str, *, check: bool = True) -> str:
        """Run a shell command in `host`'s namespace and return its stdout."""
        return _run(host.argv(["sh", "-c", cmd]), check=check).stdout

    def link(self, host: Host, up: bool) -> None:
        """Take the host's bridge port down or up: a cable pull, seen as carrier loss."""
        _run(["ip", "-n", self.switch, "link", "set", host.port, "up" if up else "down"])

    def addresses(self, host: Host) -> list[str]:
        """Addresses on the host's eth0, as `ADDR/LEN`."""
        out = _run(["ip", "-n", host.ns, "-o", "addr", "show", "dev", "eth0"]).stdout
        return [line.split()[3] for line in out.splitlines()]

    def tx_packets(self, host: Host) -> int:
        """Frames the host's eth0 has transmitted (from its kernel counters)."""
        out = _run(["ip", "-n", host.ns, "-s", "-o", "link", "show", "dev", "eth0"]).stdout
        fields = out.split("TX:")[1].split("\\")[1].split()
        return int(fields[1])

    def stop(
        self, proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 5.0
    ) -> int | None:
        """Signal a process we started (by PID) and wait; SIGKILL its group if it lingers."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        return proc.returncode

    def close(self) -> None:
        """Kill every process this lab started (by PID and group) and delete its namespaces."""
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(5)
        self.procs.clear()
        for host in self.hosts.values():
            _kill_namespace(host.ns)
        self.hosts.clear()
        if self.switch:
            _kill_namespace(self.switch)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _kill_namespace(ns: str) -> None:
    """Kill whatever still runs in `ns` (PIDs from `ip netns pids`), then delete it."""
    pids = _run(["ip", "netns", "pids", ns], check=False).stdout.split()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
    deadline = time.monotonic() + 2
    while pids and time.monotonic() < deadline:
        pids = _run(["ip", "netns", "pids", ns], check=False).stdout.split()
        time.sleep(0.02)
    _run(["ip", "netns", "del", ns], check=False)


def unique_prefix(tag: str) -> str:
    """A namespace prefix unique to this process: `tag` plus the pid."""
    return f"{tag}{os.getpid()}-"


@dataclass(slots=True)
class Keepalived:
    """A keepalived (VRRP only) running in a lab host, with its own pid files."""

    host: Host
    proc: subprocess.Popen[bytes]
    vrrp_pidfile: Path

    def child_pid(self) -> int | None:
        try:
            return int(self.vrrp_pidfile.read_text().strip())
        except (OSError, ValueError):
            return None


def start_keepalived(
    lab: Lab, host: Host, conf: str, *, tag: str = "ka", detail: bool = True
) -> Keepalived:
    """Start Debian's keepalived in `host` with `conf`, VRRP only, logging to the lab dir.

    `detail` is keepalived's -D. Without it, a keepalived with hundreds of instances does
    not log every lower-priority advert it discards: at 2,550 a second that logging alone
    starves its timers, and it never takes over."""
    exe = shutil.which("keepalived")
    if exe is None:
        raise RuntimeFault("keepalived is not installed (apt-get install -y keepalived)")
    base = lab.workdir / f"{host.name}-{tag}"
    conf_path = base.with_suffix(".conf")
    conf_path.write_text(conf)
    pid, vrrp_pid = base.with_suffix(".pid"), base.with_suffix(".vrrp.pid")
    for stale in (pid, vrrp_pid):  # zombies' pid files make keepalived think it runs
        stale.unlink(missing_ok=True)
    argv = [exe, "-n", "-l", *(["-D"] if detail else []), "-P", "-f", str(conf_path)]
    argv += ["-p", str(pid), "-r", str(vrrp_pid)]
    proc = lab.spawn(host, argv, log=f"{host.name}-{tag}.log")
    return Keepalived(host=host, proc=proc, vrrp_pidfile=vrrp_pid)


def crash_keepalived(lab: Lab, ka: Keepalived) -> None:
    """A real crash: freeze the parent (no respawn), SIGKILL the VRRP child, then the parent."""
    child = ka.child_pid()
    with contextlib.suppress(ProcessLookupError):
        os.kill(ka.proc.pid, signal.SIGSTOP)
    if child is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.kill(ka.proc.pid, signal.SIGKILL)
    ka.proc.wait(5)
