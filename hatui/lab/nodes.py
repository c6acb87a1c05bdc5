"""Helpers for live node tests and the failover bench: hatui nodes, keepalived peers, observers."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hatui.adapters.control import request
from hatui.errors import HatuiError
from hatui.lab import Host, Lab

VIP = "192.0.2.100"
HATUI = [sys.executable, "-m", "hatui"]


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Poll `predicate` every 10 ms until it is truthy; fail naming `what`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def has_vip(lab: Lab, host: Host, vip: str = VIP) -> bool:
    return any(a.startswith(vip + "/") for a in lab.addresses(host))


def vrrp_conf(
    name: str,
    priority: int,
    *,
    vrid: int = 51,
    version: int = 3,
    advert_int: str = "0.1",
    auth_pass: str | None = None,
    unicast_src: str | None = None,
    unicast_peers: Sequence[str] = (),
    nopreempt: bool = False,
    scripts: str = "",
    track_scripts: Sequence[str] = (),
    vip: str = VIP,
) -> str:
    """A keepalived.conf that both keepalived and `hatui --serve -c` read."""
    body = [
        "    state BACKUP",
        "    interface eth0",
        f"    virtual_router_id {vrid}",
        f"    priority {priority}",
        f"    advert_int {advert_int}",
    ]
    if nopreempt:
        body.append("    nopreempt")
    if auth_pass is not None:
        body += ["    authentication {", "        auth_type PASS", f"        auth_pass {auth_pass}"]
        body.append("    }")
    if unicast_src:
        body.append(f"    unicast_src_ip {unicast_src}")
    if unicast_peers:
        body += ["    unicast_peer {", *(f"        {p}" for p in unicast_peers), "    }"]
    if track_scripts:
        body += ["    track_script {", *(f"        {s}" for s in track_scripts), "    }"]
    body += ["    virtual_ipaddress {", f"        {vip}/24", "    }"]
    return (
        "global_defs {\n"
        f"    router_id {name}\n"
        f"    vrrp_version {version}\n"
        "    script_user root\n"
        "    enable_script_security\n"
        "}\n"
        f"{scripts}"
        f"vrrp_instance VI_{vrid} {{\n" + "\n".join(body) + "\n}\n"
    )


@dataclass
class HatuiNode:
    """A `hatui --serve --headless --json` process in a lab host, with its control socket."""

    lab: Lab
    host: Host
    proc: subprocess.Popen[bytes]
    control: Path
    log: Path

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*HATUI, "ctl", "--control", str(self.control), *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=10,
        )

    def status(self, instance: str = "VI_51") -> dict[str, Any]:
        """The instance's entry of the control socket's status, plus the node's counters.

        Asked in-process (the same request `hatui ctl status --json` makes): polling
        through a new Python process each time would cost ~0.3 s per look."""
        reply = asyncio.run(request(str(self.control), {"cmd": "status"}, timeout=2))
        assert reply.get("ok"), reply
        status = reply["status"]
        (inst,) = [i for i in status["instances"] if i["name"] == instance]
        return {**inst, "counters": status["counters"]}

    def state(self, instance: str = "VI_51") -> str | None:
        try:
            return str(self.status(instance)["state"])
        except (HatuiError, OSError, ValueError, AssertionError):
            return None

    def ready(self) -> bool:
        return self.control.exists() and self.state() is not None

    def transitions(self) -> list[dict[str, Any]]:
        """The node_transition JSON lines it printed so far."""
        return [e for e in read_json_lines(self.log) if e.get("kind") == "node_transition"]

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_hatui(
    lab: Lab,
    host: Host,
    args: Sequence[str] = (),
    *,
    conf: str | None = None,
    tag: str = "hatui",
    wait: bool = True,
    command: Sequence[str] = HATUI,
) -> HatuiNode:
    """Start hatui --serve in `host` (from `args` flags, or from keepalived.conf text);
    `command` runs it another way (the reliability suite's fault injector)."""
    control = lab.workdir / f"{host.name}-{tag}.sock"
    control.unlink(missing_ok=True)
    argv = [*command, "--serve", "--headless", "--json", "--control", str(control)]
    if conf is not None:
        path = lab.workdir / f"{host.name}-{tag}.conf"
        path.write_text(conf)
        argv += ["-c", str(path)]
    argv += list(args)
    logname = f"{host.name}-{tag}-{len(lab.procs)}.log"
    proc = lab.spawn(host, argv, log=logname)
    node = HatuiNode(lab=lab, host=host, proc=proc, control=control, log=lab.workdir / logname)
    if wait:
        wait_for(
            lambda: proc.poll() is not None or node.ready(), 10, f"hatui in {host.name} to start"
        )
        assert proc.poll() is None, node.output()
    return node


def flags(
    priority: int,
    *,
    vrid: int = 51,
    version: int = 3,
    advert_int: str = "0.1",
    extra: Sequence[str] = (),
) -> list[str]:
    return [
        "--interface",
        "eth0",
        "--vrid",
        str(vrid),
        "--priority",
        str(priority),
        "--vip",
        f"{VIP}/24",
        "--advert-int",
        advert_int,
        "--vrrp-version",
        str(version),
        *extra,
    ]


def read_json_lines(path: Path) -> list[dict[str, Any]]:
    out = []
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line still being written
    return out


@dataclass
class Observer:
    """A silent host running `hatui --watch eth0 --headless --json`: what the wire says."""

    lab: Lab
    host: Host
    proc: subprocess.Popen[bytes]
    log: Path
    seen: int = field(default=0)

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        evs = [e for e in read_json_lines(self.log) if "kind" in e]
        return [e for e in evs if kind is None or e["kind"] == kind]

    def mark(self) -> int:
        """Remember how many events there are now; `since()` returns the ones after."""
        self.seen = len(self.events())
        return self.seen

    def since(self, kind: str | None = None) -> list[dict[str, Any]]:
        evs = self.events()[self.seen :]
        return [e for e in evs if kind is None or e["kind"] == kind]

    def wait(self, kind: str, what: str, timeout: float = 5, **match: object) -> dict[str, Any]:
        """The first event of `kind` after mark() whose fields equal `match`."""
        found: list[dict[str, Any]] = []

        def check() -> bool:
            found[:] = [e for e in self.since(kind) if all(e.get(k) == v for k, v in match.items())]
            return bool(found)

        wait_for(check, timeout, what)
        return found[0]


def start_observer(lab: Lab, octet: int = 9, args: Sequence[str] = ()) -> Observer:
    host = lab.add_host("o", octet, silent=True)
    name = f"o-watch-{len(lab.procs)}.log"
    argv = [*HATUI, "--watch", "eth0", "--headless", "--json", *args]
    proc = lab.spawn(host, argv, log=name)
    obs = Observer(lab=lab, host=host, proc=proc, log=lab.workdir / name)
    time.sleep(0.6)  # python start-up and the capture socket
    assert proc.poll() is None, obs.log.read_text()
    return obs


_ADVERT = re.compile(
    r"^(\d+\.\d+) (\S+) > \S+, ethertype IPv4 .*?: (\S+) > \S+: VRRPv(\d), Advertisement, "
    r"vrid (\d+), prio (\d+)"
)
_ARP = re.compile(
    r"^(\d+\.\d+) (\S+) > \S+, ethertype ARP .*?"
    r"(?:who-has ([\d.]+)(?: \(\S+\))? tell ([\d.]+)|Reply ([\d.]+) is-at)"
)


@dataclass(frozen=True, slots=True)
class Pkt:
    t: float
    kind: str  # advert | garp
    ip: str  # advert source, or the announced address
    mac: str
    prio: int = -1


class Wire:
    """tcpdump on a silent observer host, line-buffered to a file parsed as it grows:
    adverts with their priority, gratuitous ARPs (kernel receive stamps)."""

    def __init__(self, lab: Lab, host: Host) -> None:
        self.path = lab.workdir / "wire.txt"
        filt = "vrrp or arp"
        argv = ["tcpdump", "-i", "eth0", "-l", "-n", "-e", "-tt", "--immediate-mode", filt]
        self.proc = lab.spawn(host, argv, log="wire.txt")
        time.sleep(0.5)

    def packets(self, since: float = 0.0) -> list[Pkt]:
        out = []
        for line in self.path.read_text(errors="replace").splitlines():
            if m := _ADVERT.match(line):
                t = float(m[1])
                if t >= since:
                    out.append(Pkt(t=t, kind="advert", ip=m[3], mac=m[2], prio=int(m[6])))
            elif m := _ARP.match(line):
                t = float(m[1])
                target = m[3] or m[5]
                gratuitous = m[5] is not None or m[3] == m[4]
                if t >= since and gratuitous:
                    out.append(Pkt(t=t, kind="garp", ip=target, mac=m[2]))
        return out
