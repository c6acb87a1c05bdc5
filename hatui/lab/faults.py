"""Fault-injection helpers for the reliability suite: nodes, faults, checks, figures.

Every fault lives inside a lab namespace (nft tables, netem qdiscs, busy loops started
with `Lab.spawn`), so the machine's own network and clock are never touched, and the
lab's teardown removes all of it.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from hatui.lab import Host, Lab
from hatui.lab.nodes import HATUI, HatuiNode, has_vip, start_hatui, wait_for

# RFC 5798 6.1 at v3 0.1 s: Master_Down_Interval = 3 * 100 ms + (256 - P) * 100 ms / 256.
INTERVAL_S = 0.1


def master_down_s(priority: int, interval_s: float = INTERVAL_S) -> float:
    return 3 * interval_s + (256 - priority) * interval_s / 256


def start_node(
    lab: Lab,
    host: Host,
    args: Sequence[str] = (),
    *,
    conf: str | None = None,
    tag: str = "hatui",
    inject: str | None = None,
    wait: bool = True,
) -> HatuiNode:
    """`hatui --serve --headless --json` in `host`, optionally under the fault injector."""
    command = list(HATUI)
    if inject is not None:
        command = [sys.executable, "-m", "tests.reliability.inject", inject, "--"]
    node = start_hatui(lab, host, args, conf=conf, tag=tag, wait=wait, command=command)
    if wait:
        assert node.proc.poll() is None, node.output()
    return node


def vip_holders(lab: Lab, hosts: Sequence[Host]) -> list[str]:
    return [h.name for h in hosts if has_vip(lab, h)]


def masters(nodes: Sequence[HatuiNode]) -> list[str]:
    """Hosts whose live node says MASTER (a frozen or dead node counts as not master)."""
    return [n.host.name for n in nodes if n.proc.poll() is None and n.state() == "MASTER"]


def converged(lab: Lab, nodes: Sequence[HatuiNode], master: str | None = None) -> bool:
    """Exactly one master (`master`, if given), and it alone holds the VIP."""
    m = masters(nodes)
    if master is not None and m != [master]:
        return False
    return len(m) == 1 and vip_holders(lab, [n.host for n in nodes]) == m


def wait_converged(
    lab: Lab, nodes: Sequence[HatuiNode], timeout: float, what: str, master: str | None = None
) -> float:
    """Seconds until one master (`master`, if given) holds the VIP alone."""
    t0 = time.monotonic()
    wait_for(lambda: converged(lab, nodes, master), timeout, what)
    return time.monotonic() - t0


def hold_converged(lab: Lab, nodes: Sequence[HatuiNode], seconds: float) -> None:
    """Convergence must hold (sampled) for `seconds`: no flapping once faults stop."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert converged(lab, nodes), (masters(nodes), vip_holders(lab, [n.host for n in nodes]))
        time.sleep(0.05)


def nft(lab: Lab, host: Host, rules: str) -> None:
    """Load nft rules into `host`'s namespace (its own ruleset, not the machine's)."""
    lab.sh(host, f"nft -f - <<'EOF'\n{rules}\nEOF")


def nft_flush(lab: Lab, host: Host) -> None:
    lab.sh(host, "nft flush ruleset")


def drop_vrrp(lab: Lab, host: Host, *, inbound: bool, outbound: bool, percent: int = 100) -> None:
    """Drop IP protocol 112 in one or both directions (all of it, or `percent` at random)."""
    match = "ip protocol 112" + (f" numgen random mod 100 < {percent}" if percent < 100 else "")
    chains = []
    if inbound:
        chains.append(
            f"chain i {{ type filter hook input priority 0; policy accept; {match} drop; }}"
        )
    if outbound:
        chains.append(
            f"chain o {{ type filter hook output priority 0; policy accept; {match} drop; }}"
        )
    nft(lab, host, "flush ruleset\ntable inet fault {\n" + "\n".join(chains) + "\n}")


def switch_drop(lab: Lab, to_hosts: Sequence[Host]) -> None:
    """Drop VRRP (IP protocol 112) the lab bridge forwards to `to_hosts`; [] heals.

    The cut is made on the switch, not in the hosts: hatui captures with AF_PACKET, which
    sees frames before a host's own nftables input hook (keepalived's raw IP socket comes
    after it), and an observer on another port still sees every advert."""
    rules = [f'oifname "{h.port}" ip protocol 112 drop;' for h in to_hosts]
    text = "flush ruleset\n"
    if rules:
        text += (
            "table bridge cut {\n chain f { type filter hook forward priority 0; policy accept;\n"
            + "\n".join(rules)
            + "\n }\n}"
        )
    subprocess.run(
        ["ip", "netns", "exec", lab.switch, "nft", "-f", "-"], input=text.encode(), check=True
    )


@functools.cache
def netem_available() -> bool:
    """Whether this kernel has sch_netem (some CI and container kernels lack it)."""
    with Lab(f"nm{time.monotonic_ns() % 100000}-") as probe:
        host = probe.add_host("x", 1)
        out = probe.sh(host, "tc qdisc add dev eth0 root netem delay 1ms 2>&1; echo rc=$?")
        return out.strip().endswith("rc=0")


def netem(lab: Lab, host: Host, spec: str) -> None:
    lab.sh(host, f"tc qdisc replace dev eth0 root netem {spec}")


def netem_clear(lab: Lab, host: Host) -> None:
    lab.sh(host, "tc qdisc del dev eth0 root", check=False)


def outbound_capture(lab: Lab, host: Host, pcap: Path) -> subprocess.Popen[bytes]:
    """tcpdump of everything `host` sends (`-Q out`), any protocol, written as it comes."""
    proc = lab.spawn(
        host,
        ["tcpdump", "-i", "eth0", "-Q", "out", "-n", "-U", "-Z", "root", "-w", str(pcap)],
        log=f"{host.name}-tcpdump-out.log",
    )
    log = lab.workdir / f"{host.name}-tcpdump-out.log"
    wait_for(lambda: "listening on" in log.read_text(errors="replace"), 5, "tcpdump to listen")
    return proc


def figure(name: str, value: float | str, unit: str = "") -> None:
    """Print a measured figure in one grep-able line (RELIABILITY.md quotes them)."""
    print(f"FIGURE {name} = {value}{(' ' + unit) if unit else ''}", flush=True)
