"""tshark is the oracle: for every capture of the corpus, the master chain, the gaps and
the virtual IPs derived from tshark's fields match `hatui --read FILE --json` (gaps
within 5 ms). The captures are built with scapy (tests/corpus/scenarios.py) and kept in
tests/corpus/*.pcap; a test checks the files are what the builder makes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.corpus import scenarios
from tests.corpus.tshark import packets as tshark_packets

HERE = Path(__file__).parent
GAP_TOLERANCE_MS = 5.0

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark")


@dataclass(frozen=True)
class Wire:
    """What tshark says about one capture: the master chain, gaps and VIPs."""

    chain: list[tuple[str, str]]  # (from, to) of each master change, in order
    gaps_ms: list[float]
    vips: set[str]
    extra: dict[str, set[str]]
    last_state: dict[str, str] = field(default_factory=dict)  # HSRP: each sender's last


def tshark(path: Path, fields: list[str], *decode_as: str) -> list[list[str]]:
    argv = ["tshark", "-r", str(path), "-T", "fields", "-E", "separator=|"]
    for d in decode_as:
        argv += ["-d", d]
    for f in fields:
        argv += ["-e", f]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return [line.split("|") for line in out.splitlines()]


def chain_of(
    runs: list[tuple[float, str, bool, bool]],
) -> tuple[list[tuple[str, str]], list[float]]:
    """Master chain from (time, sender, claims mastership, ends a term) in time order: a
    sender claiming mastership that is not the master starts a term; the gap runs from
    the old master's last claim (or its release) to that first claim."""
    master: str | None = None
    last: dict[str, float] = {}
    chain: list[tuple[str, str]] = []
    gaps: list[float] = []
    for t, src, claims, ends in runs:
        if claims and master is not None and src != master:
            chain.append((master, src))
            gaps.append(round((t - last[master]) * 1000, 3))
        if claims and (master is None or src != master):
            master = src
        if claims or ends:
            last[src] = t
    return chain, gaps


def vrrp_wire(path: Path) -> Wire:
    rows = tshark(
        path, ["frame.time_epoch", "ip.src", "vrrp.prio", "vrrp.ip_addr", "vrrp.auth_type"]
    )
    runs = [(float(r[0]), r[1], int(r[2]) > 0, int(r[2]) == 0) for r in rows if r[2]]
    chain, gaps = chain_of(runs)
    return Wire(
        chain, gaps, {r[3] for r in rows if r[3]}, {"auth_type": {r[4] for r in rows if r[4]}}
    )


HSRP_FIELDS = {
    "frame.time_epoch",
    "ip.src",
    "ipv6.src",
    "hsrp.state",
    "hsrp.opcode",
    "hsrp.virt_ip",
    "hsrp2.state",
    "hsrp2.opcode",
    "hsrp2.virt_ip",
    "hsrp2.virt_ip_v6",
}
# tshark's v2 label "Init" is the state v1's dissector calls "Initial"; hatui names both so.
HSRP_NAMES = {"Init": "initial"}


def hsrp_wire(path: Path) -> Wire:
    """The active router is whoever tshark labels "Active" (a resign ends its term);
    every state and op code is taken from tshark's labels, never from our own numbers."""
    runs, vips, last = [], set(), {}
    labels: dict[str, set[str]] = {"state": set(), "op": set()}
    for p in tshark_packets(path, HSRP_FIELDS):
        v = "hsrp" if "hsrp.state" in p else "hsrp2"
        if f"{v}.state" not in p:
            continue
        state, op = p[f"{v}.state"].label, p[f"{v}.opcode"].label
        src = (p.get("ip.src") or p["ipv6.src"]).show
        labels["state"].add(state)
        labels["op"].add(op)
        active, resign = state == "Active", op == "Resign"
        runs.append(
            (float(p["frame.time_epoch"].show), src, active and not resign, active and resign)
        )
        vips |= {p[f].show for f in ("hsrp.virt_ip", "hsrp2.virt_ip", "hsrp2.virt_ip_v6") if f in p}
        last[src] = HSRP_NAMES.get(state, state.lower())
    chain, gaps = chain_of(runs)
    return Wire(chain, gaps, vips, labels, last)


def carp_wire(path: Path) -> Wire:
    rows = tshark(
        path,
        [
            "frame.time_epoch",
            "ip.src",
            "carp.vhid",
            "carp.advskew",
            "arp.src.proto_ipv4",
            "eth.src",
        ],
        "ip.proto==112,carp",
    )
    runs = [(float(r[0]), r[1], r[3] != "255", r[3] == "255") for r in rows if r[2]]
    chain, gaps = chain_of(runs)
    vhids = {r[2] for r in rows if r[2]}
    vmacs = {f"00:00:5e:00:01:{int(v):02x}" for v in vhids}
    vips = {r[4] for r in rows if r[4] and r[5] in vmacs}
    return Wire(chain, gaps, vips, {"advskew": {r[3] for r in rows if r[3]}})


ORACLES = {
    "cisco_md5_vrrpv2": (vrrp_wire, "vrrp"),
    "hsrp_v1_resign_coup": (hsrp_wire, "hsrp"),
    "hsrp_v2_ipv4_timeout": (hsrp_wire, "hsrp"),
    "hsrp_v2_ipv6_timeout": (hsrp_wire, "hsrp"),
    "hsrp_v2_ipv4_md5_coup": (hsrp_wire, "hsrp"),
    "hsrp_v2_ipv6_md5_coup": (hsrp_wire, "hsrp"),
    "carp_failover_preempt": (carp_wire, "carp"),
}


def hatui_read(path: Path) -> Any:
    out = subprocess.run(
        [sys.executable, "-m", "hatui", "--read", str(path), "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def test_the_corpus_is_what_the_builder_makes(tmp_path: Path) -> None:
    assert sorted([*ORACLES, "bad_input"]) == sorted(scenarios.SCENARIOS)
    for name in scenarios.SCENARIOS:
        built = scenarios.write(name, tmp_path)
        assert built.read_bytes() == (HERE / f"{name}.pcap").read_bytes(), name


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_hatui_agrees_with_tshark(name: str) -> None:
    path = HERE / f"{name}.pcap"
    oracle, protocol = ORACLES[name]
    wire = oracle(path)
    assert wire.chain, "every corpus capture holds at least one master change"
    doc = hatui_read(path)
    assert {r["protocol"] for r in doc["routers"]} == {protocol}
    fails = doc["failovers"]
    assert [(f["from"], f["to"]) for f in fails] == wire.chain
    for f, gap in zip(fails, wire.gaps_ms, strict=True):
        assert abs(f["gap_ms"] - gap) <= GAP_TOLERANCE_MS, (f, gap)
        assert f["protocol"] == protocol
    assert {v for r in doc["routers"] for v in r["vips"]} == wire.vips
    assert sum(doc["counters"]["rejected"].values()) == 0
    if protocol == "hsrp":
        assert "Unknown" not in wire.extra["state"] | wire.extra["op"], wire.extra
        senders = {s["ip"]: s["state"] for r in doc["routers"] for s in r["senders"]}
        assert senders == wire.last_state
        standby = [ip for ip, state in wire.last_state.items() if state == "standby"]
        assert [r["standby"]["ip"] for r in doc["routers"] if r["standby"]] == standby
    if protocol == "vrrp":
        assert wire.extra["auth_type"] == {"254"}
        assert {r["auth"] for r in doc["routers"]} == {"cisco-md5"}


def test_causes_read_from_the_wire() -> None:
    """What the scenarios stage, as hatui names it (tshark has no notion of cause)."""
    causes = {
        name: [f["cause"] for f in hatui_read(HERE / f"{name}.pcap")["failovers"]]
        for name in ORACLES
    }
    assert causes == {
        "cisco_md5_vrrpv2": ["timeout"],
        "hsrp_v1_resign_coup": ["release", "preempt"],
        "hsrp_v2_ipv4_timeout": ["timeout"],
        "hsrp_v2_ipv6_timeout": ["timeout"],
        "hsrp_v2_ipv4_md5_coup": ["timeout", "preempt", "release"],
        "hsrp_v2_ipv6_md5_coup": ["timeout", "preempt", "release"],
        "carp_failover_preempt": ["timeout", "preempt"],
    }


def test_bad_input_is_counted_by_reason_never_fatal() -> None:
    """Truncated HSRP, GLBP and CARP, HSRP on the wrong ports, garbage TLVs and a bad CARP
    checksum among good frames: the run succeeds, each is counted by its reason, the good
    frames around them still count, and tshark sees the same twelve frames."""
    path = HERE / "bad_input.pcap"
    doc = hatui_read(path)
    c = doc["counters"]
    rejected = {k: v for k, v in c["rejected"].items() if v}
    assert rejected == {"length": 3, "tlv": 2, "port": 2, "checksum": 1}
    assert (c["frames"], c["hsrp"], c["carp"]) == (12, 2, 2)
    assert len(tshark(path, ["frame.number"])) == c["frames"]
    first = {(e["reason"], e["protocol"]) for e in doc["events"] if e["kind"] == "rejected"}
    assert first == {("length", "hsrp"), ("tlv", "hsrp"), ("port", "hsrp"), ("checksum", "carp")}
