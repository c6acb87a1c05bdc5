"""A headless node of many instances beside a haproxy that does not run, in a namespace lab:
its alerts come as a few events that list the VIPs, not one line per VIP, and with
`--haproxy none` no haproxy line or document key at all."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

from hatui.adapters.haproxy import locate
from hatui.lab import Lab
from hatui.lab.nodes import HatuiNode, read_json_lines, start_hatui, wait_for
from tests.conftest import require

COUNT = 40
POLL_S = 1.0  # the haproxy poll's period (hatui.adapters.haproxy.POLL_S)


def many_conf(first_vrid: int) -> str:
    """COUNT VRRPv3 instances at 0.5 s, VIP 198.51.100.<k>/24 each, VI_<vrid> named."""
    out = ["global_defs {\n    router_id quiet\n    vrrp_version 3\n}\n"]
    for k in range(COUNT):
        vrid = first_vrid + k
        out.append(
            f"vrrp_instance VI_{vrid} {{\n    state BACKUP\n    interface eth0\n"
            f"    virtual_router_id {vrid}\n    priority 100\n    advert_int 0.5\n"
            f"    virtual_ipaddress {{\n        198.51.100.{vrid}/24\n    }}\n}}\n"
        )
    return "".join(out)


def all_master(node: HatuiNode, first_vrid: int) -> bool:
    return all(node.state(f"VI_{first_vrid + k}") == "MASTER" for k in range(COUNT))


def haproxy_lines(node: HatuiNode) -> list[dict[str, Any]]:
    return [e for e in read_json_lines(node.log) if str(e.get("kind", "")).startswith("haproxy")]


def final_document(node: HatuiNode) -> dict[str, Any]:
    doc = json.loads(node.output().strip().splitlines()[-1])
    assert "routers" in doc, doc
    return dict(doc)


def test_many_vips_beside_a_stopped_haproxy_then_none(lab: Lab) -> None:
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    missing = Path(lab.workdir) / "no-haproxy.sock"  # named, and nothing listens there
    loud = start_hatui(lab, a, ["--haproxy", str(missing)], conf=many_conf(31), tag="loud")
    # Its own VRIDs, so the two nodes do not elect between them (`wait` looks for VI_51).
    quiet = start_hatui(lab, b, ["--haproxy", "none"], conf=many_conf(131), tag="quiet", wait=False)
    wait_for(lambda: all_master(loud, 31) and all_master(quiet, 131), 20, "every instance master")
    vips = {f"198.51.100.{31 + k}" for k in range(COUNT)}

    def alerted() -> set[str]:
        return {v for e in haproxy_lines(loud) if e["kind"] == "haproxy_down" for v in e["vips"]}

    wait_for(lambda: alerted() == vips, 5, "haproxy_down for every VIP held")
    time.sleep(2 * POLL_S)  # two more polls: nothing new to say
    for node in (loud, quiet):
        lab.stop(node.proc, signal.SIGTERM)

    lines = haproxy_lines(loud)
    kinds = [e["kind"] for e in lines]
    assert kinds.count("haproxy_unreachable") == 1
    (unreachable,) = [e for e in lines if e["kind"] == "haproxy_unreachable"]
    assert "--haproxy none" not in unreachable["detail"]  # the socket was asked for
    downs = [e for e in lines if e["kind"] == "haproxy_down"]
    # One event per poll in which instances became master, not one per VIP.
    assert 1 <= len(downs) <= 5, [e["detail"] for e in downs]
    assert sum(len(e["vips"]) for e in downs) == COUNT
    for e in downs:
        n = len(e["vips"])
        assert e["detail"].startswith(f"{n} VIPs held here" if n > 1 else e["vips"][0])
        assert e["source"] == "haproxy"
    assert final_document(loud)["haproxy"]["status"] == "down"

    assert haproxy_lines(quiet) == []
    assert "haproxy" not in final_document(quiet)


def test_the_first_unreachable_of_haproxy_cfgs_socket_names_haproxy_none(lab: Lab) -> None:
    """This machine's own case: the package's haproxy.cfg names a stats socket, and no
    haproxy runs (the lab's namespaces share the host's files)."""
    target = locate(None)
    require(target.problem is None, f"needs a stats socket in haproxy.cfg: {target.problem}")
    require(not Path(target.socket).exists(), "needs the host's haproxy not running")
    node = start_hatui(lab, lab.add_host("a", 11), [], conf=many_conf(31), tag="dflt")
    wait_for(lambda: all_master(node, 31), 20, "every instance master")
    wait_for(lambda: any(e["kind"] == "haproxy_down" for e in haproxy_lines(node)), 5, "down")
    lab.stop(node.proc, signal.SIGTERM)
    (first, *later) = [e for e in haproxy_lines(node) if e["kind"] == "haproxy_unreachable"]
    assert first["detail"].endswith("(no haproxy here? --haproxy none)")
    assert all("--haproxy none" not in e["detail"] for e in later)
