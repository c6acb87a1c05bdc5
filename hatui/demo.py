"""`hatui --demo`: a namespace lab with VRRP nodes, and the console opened as one of them.

Three hatui nodes share two VRIDs (and a keepalived peer joins when keepalived is
installed); when haproxy is installed each node runs one, fronting both VIPs with two tiny
HTTP backends (hosts w1, w2), so the console shows the whole haproxy + keepalived picture.
The console runs as node `a` in the foreground, so pressing `r` or `-` moves a VIP for real.
Everything lives in namespaces on a private bridge with TEST-NET addresses, and everything
is removed on exit, Ctrl-C or error. After a `kill -9` the children die with the demo
(PR_SET_PDEATHSIG), and the next demo deletes the namespaces the dead one left.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from hatui.errors import EXIT_OK, RuntimeFault
from hatui.lab import (
    Host,
    Lab,
    die_with_parent,
    haproxy_config,
    remove_leftovers,
    start_haproxy,
    start_keepalived,
    start_web,
    unique_prefix,
)

ADVERT_INT = 1  # seconds: slow enough to watch a failover happen (3.6 s)
STOP_S = 5.0  # how long the lab's processes get to stop cleanly before they are killed


@dataclass(frozen=True, slots=True)
class DemoNode:
    name: str
    octet: int
    priorities: tuple[int, int]  # VRID 51, VRID 52


NODES = (
    DemoNode("a", 11, (150, 100)),
    DemoNode("b", 12, (100, 150)),
    DemoNode("c", 13, (50, 50)),
)
KEEPALIVED = DemoNode("k", 14, (80, 80))
VRIDS = ((51, "192.0.2.100/24"), (52, "192.0.2.101/24"))
BACKENDS = (("w1", 21), ("w2", 22))
TAG = "hdemo"


def haproxy_socket(lab: Lab, name: str) -> str:
    return str(lab.workdir / f"{name}-haproxy.sock")


def node_config(node: DemoNode, *, keepalived: bool = False) -> str:
    """A keepalived.conf for one demo node: hatui reads the same file keepalived does."""
    blocks = [f"global_defs {{\n    router_id demo-{node.name}\n    vrrp_version 3\n}}\n"]
    for (vrid, vip), prio in zip(VRIDS, node.priorities, strict=True):
        blocks.append(
            f"vrrp_instance VI_{vrid} {{\n"
            f"    state BACKUP\n    interface eth0\n    virtual_router_id {vrid}\n"
            f"    priority {prio}\n    advert_int {ADVERT_INT}\n"
            f"    virtual_ipaddress {{\n        {vip}\n    }}\n}}\n"
        )
    if keepalived:
        blocks[0] = blocks[0].replace("}\n", "    enable_script_security\n}\n", 1)
    return "\n".join(blocks)


def build(lab: Lab, *, with_keepalived: bool, with_haproxy: bool) -> dict[str, Host]:
    """Hosts, configs and the background nodes; returns the hosts by name."""
    hosts = {}
    for node in NODES:
        host = lab.add_host(node.name, node.octet)
        hosts[node.name] = host
        (lab.workdir / f"{node.name}.conf").write_text(node_config(node))
    if with_haproxy:
        for name, octet in BACKENDS:
            hosts[name] = lab.add_host(name, octet)
            start_web(lab, hosts[name])
        for node in NODES:
            start_demo_haproxy(lab, hosts[node.name])
    for node in NODES[1:]:
        host = hosts[node.name]
        argv = [
            sys.executable,
            "-m",
            "hatui",
            "--serve",
            "-c",
            str(lab.workdir / f"{node.name}.conf"),
            "--headless",
            "--control",
            str(lab.workdir / f"{node.name}.sock"),
        ]
        if with_haproxy:
            argv += ["--haproxy", haproxy_socket(lab, node.name)]
        lab.spawn(host, argv, log=f"{node.name}.log")
    if with_keepalived:
        host = lab.add_host(KEEPALIVED.name, KEEPALIVED.octet)
        hosts[KEEPALIVED.name] = host
        start_keepalived(lab, host, node_config(KEEPALIVED, keepalived=True))
        if with_haproxy:
            start_demo_haproxy(lab, host)
    return hosts


def start_demo_haproxy(lab: Lab, host: Host) -> None:
    vips = [vip.split("/")[0] for _vrid, vip in VRIDS]
    servers = [(name, f"192.0.2.{octet}:80") for name, octet in BACKENDS]
    conf = haproxy_config(lab.workdir / f"{host.name}-haproxy.sock", vips, servers)
    start_haproxy(lab, host, conf)


def run_demo(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        raise RuntimeFault("--demo builds network namespaces: run it as root (sudo hatui --demo)")
    with_keepalived = shutil.which("keepalived") is not None
    with_haproxy = shutil.which("haproxy") is not None
    left = remove_leftovers(TAG)
    if left:
        print(f"hatui demo: removed {len(left)} namespaces a killed demo left", flush=True)
    # Killed outright (kill -9), the demo still takes its nodes with it.
    prefix = unique_prefix(TAG)
    # The work folder is named after the prefix too, so a later demo finds it if we die.
    workdir = Path(tempfile.mkdtemp(prefix=f"hatui-{prefix}"))
    lab = Lab(prefix, workdir=workdir, orphan_signal=signal.SIGTERM)
    # Ctrl-C reaches the whole foreground group: the console handles it; we only clean up.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGTERM, or SIGHUP when the terminal goes: leave through the cleanup below.
    stops = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        hosts = build(lab, with_keepalived=with_keepalived, with_haproxy=with_haproxy)
        console = [
            sys.executable,
            "-m",
            "hatui",
            "--serve",
            "-c",
            str(lab.workdir / "a.conf"),
            "--control",
            str(lab.workdir / "a.sock"),
        ]
        if with_haproxy:
            console += ["--haproxy", haproxy_socket(lab, "a")]
        if args.headless:
            console.append("--headless")
        if args.duration is not None:
            console += ["--duration", str(args.duration)]
        peers = "hatui b, c" + (" and keepalived k" if with_keepalived else "")
        print(
            f"hatui demo: nodes a (this console), {peers} on a private bridge "
            f"(namespaces {lab.prefix}*); VIPs 192.0.2.100 (VRID 51) and 192.0.2.101 (VRID 52)",
            flush=True,
        )
        if with_haproxy:
            print(
                "hatui demo: haproxy on each node fronts both VIPs (port 80) with backends "
                f"w1, w2 (192.0.2.21, .22); stop one with: sudo ip netns pids {lab.prefix}w1 "
                "| xargs kill",
                flush=True,
            )
        time.sleep(0.2)
        arm = die_with_parent(signal.SIGTERM)  # the console quits cleanly if we are killed

        def console_child() -> None:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            arm()

        child = subprocess.Popen(hosts["a"].argv(console), preexec_fn=console_child)
        lab.procs.append(child)
        while True:
            try:
                child.wait()
                break
            except KeyboardInterrupt:  # pragma: no cover - SIGINT is ignored here
                continue
        return EXIT_OK if child.returncode in (0, -signal.SIGINT) else int(child.returncode or 1)
    finally:
        for sig in stops:  # a second hangup must not cut the cleanup short
            signal.signal(sig, signal.SIG_IGN)
        if _takes_output(sys.stdout):  # gone (a hangup) or stalled: a write would hang
            with contextlib.suppress(OSError):
                print("hatui demo: stopping nodes and removing the lab", flush=True)
        stop_all(lab)
        lab.close()
        signal.signal(signal.SIGINT, previous)
        for sig, handler in stops.items():
            signal.signal(sig, handler)


def stop_all(lab: Lab, timeout: float = STOP_S) -> None:
    """SIGTERM every process of the lab at once (nodes send priority 0), then wait for all
    of them together: the demo leaves as fast as its slowest process stops."""
    procs = [proc for proc in lab.procs if proc.poll() is None]
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):  # lab.close() kills it
            proc.wait(max(0.0, deadline - time.monotonic()))


def _takes_output(stream: TextIO) -> bool:
    try:
        _, ready, _ = select.select([], [stream], [], 0)
    except (OSError, ValueError):
        return False
    return bool(ready)


def _stop(sig: int, _frame: object) -> None:
    # Asked to stop (SIGTERM) or the terminal gone (SIGHUP): a clean stop, as the console's.
    raise SystemExit(EXIT_OK)
