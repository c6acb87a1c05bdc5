"""Namespace labs: hosts on a private bridge, for the demo, the tests and the benchmarks.

Everything lives in namespaces this module creates: the bridge sits in its own "switch"
namespace, so the machine's own interfaces and routing are never touched. Addresses are
TEST-NET (192.0.2.0/24, 2001:db8::/64). `close()` kills the processes it started (by
PID) and deletes every namespace, also after errors.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hatui.errors import RuntimeFault

SUBNET_V4 = "192.0.2"
SUBNET_V6 = "2001:db8::"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None]:
    """A preexec_fn: the child gets `sig` when the process that started it dies, even by
    SIGKILL (prctl PR_SET_PDEATHSIG; kept across exec, and `ip netns exec` execs)."""
    parent = os.getpid()

    def arm() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: no signal will come
            os._exit(1)

    return arm


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
    # The signal every started process gets if this process dies (kill -9 included).
    orphan_signal: int | None = None

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
            preexec_fn=die_with_parent(self.orphan_signal) if self.orphan_signal else None,
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
                # Its group if it leads one (spawn), else the process alone (by PID).
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
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


def remove_leftovers(tag: str) -> list[str]:
    """Delete the namespaces a dead lab of `tag` left (`unique_prefix` names them after
    their creator's pid), killing what still runs in them by PID, and its work folder
    when named `hatui-PREFIX*` in the temp folder. A live creator's are left alone."""
    out = _run(["ip", "netns", "list"], check=False).stdout
    removed = []
    for ns in sorted(line.split()[0] for line in out.splitlines() if line.strip()):
        m = re.fullmatch(rf"{re.escape(tag)}(\d+)-.*", ns)
        if m is None or _alive(int(m.group(1))):
            continue
        _kill_namespace(ns)
        removed.append(ns)
    for folder in Path(tempfile.gettempdir()).glob(f"hatui-{tag}*"):
        m = re.match(rf"hatui-{re.escape(tag)}(\d+)-", folder.name)
        if m is not None and not _alive(int(m.group(1))):
            shutil.rmtree(folder, ignore_errors=True)
    return removed


def _alive(pid: int) -> bool:
    """A hatui process still runs as `pid` (a reused pid running something else is not)."""
    try:
        return b"hatui" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


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


@dataclass(slots=True)
class Haproxy:
    """Debian's haproxy in a lab host (`-db`: foreground, one process), its own socket."""

    host: Host
    proc: subprocess.Popen[bytes]
    socket: Path
    config: Path


def haproxy_config(
    socket: Path,
    vips: Sequence[str],
    servers: Sequence[tuple[str, str]],
    *,
    port: int = 80,
    check_ms: int = 500,
) -> str:
    """A frontend binding each VIP (held or not: ip_nonlocal_bind) in front of `servers`
    (name, ip:port), HTTP-checked every `check_ms`, down after two failures."""
    lines = [
        "global",
        f"    stats socket {socket} mode 600 level admin",
        "defaults",
        "    mode http",
        "    timeout connect 1s",
        "    timeout client 10s",
        "    timeout server 10s",
        "frontend vip_web",
        *(f"    bind {vip}:{port}" for vip in vips),
        "    default_backend web",
        "backend web",
        "    option httpchk GET /",
        *(
            f"    server {name} {addr} check inter {check_ms} fall 2 rise 2"
            for name, addr in servers
        ),
    ]
    return "\n".join(lines) + "\n"


def start_haproxy(lab: Lab, host: Host, conf: str, *, tag: str = "haproxy") -> Haproxy:
    """Start haproxy in `host` with `conf` (its stats socket at `lab.workdir/NAME-TAG.sock`
    when made by haproxy_config for that path)."""
    exe = shutil.which("haproxy")
    if exe is None:
        raise RuntimeFault("haproxy is not installed (apt-get install -y haproxy)")
    base = lab.workdir / f"{host.name}-{tag}"
    cfg, pid = base.with_suffix(".cfg"), base.with_suffix(".pid")
    cfg.write_text(conf)
    # A VIP this node does not hold yet must still be bindable, as on real pairs.
    _run(host.argv(["sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1"]), check=False)
    proc = lab.spawn(host, [exe, "-db", "-f", str(cfg), "-p", str(pid)], log=f"{base.name}.log")
    return Haproxy(host=host, proc=proc, socket=base.with_suffix(".sock"), config=cfg)


def start_web(lab: Lab, host: Host, port: int = 80) -> subprocess.Popen[bytes]:
    """A tiny HTTP server on the host's address that answers with the host's name."""
    root = lab.workdir / f"{host.name}-www"
    root.mkdir(exist_ok=True)
    (root / "index.html").write_text(f"hello from {host.name} ({host.ip})\n")
    argv = [
        sys.executable,
        "-m",
        "http.server",
        str(port),
        "--bind",
        host.ip,
        "--directory",
        str(root),
    ]
    return lab.spawn(host, argv, log=f"{host.name}-www.log")
