"""virtual_routes/rules follow MASTER; static_* stay from start to stop; bad ones are refused."""

from __future__ import annotations

import re
import signal
import subprocess

from hatui.lab import Host, Lab, start_keepalived
from tests.conftest import require_keepalived
from tests.integration.nodelab import HATUI, start_hatui, vrrp_conf, wait_for

VIRTUAL = """    virtual_routes {
        198.51.100.0/24 via 192.0.2.1 dev eth0
        blackhole 203.0.113.0/24
        default via 192.0.2.1 table 100
    }
    virtual_rules {
        from 192.0.2.100/32 table 100 priority 100
    }
"""
STATIC = """static_ipaddress {
    192.0.2.60/24 dev eth0
}
static_routes {
    198.51.100.128/25 via 192.0.2.1 metric 7
}
static_rules {
    to 198.51.100.128/25 table 100 priority 200
}
"""


def conf(virtual: str = VIRTUAL, static: str = STATIC) -> str:
    text = vrrp_conf("a", 150).replace("    virtual_ipaddress", virtual + "    virtual_ipaddress")
    return static + text


def ours(lab: Lab, host: Host) -> tuple[str, str]:
    """hatui's routes (protocol 0x68) and the non-default rules, as `ip` prints them."""
    routes = lab.sh(host, "ip route show table all proto 104; ip -6 route show table all proto 104")
    rules = lab.sh(
        host,
        "ip rule show | grep -v -e 'lookup local' -e 'lookup main' -e 'lookup default' || true",
    )
    return routes, rules


def test_routes_and_rules_follow_master_and_static_ones_stay(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    node = start_hatui(lab, a, conf=conf())
    routes, rules = ours(lab, a)  # static ones from the start, whatever the state
    assert "198.51.100.128/25 via 192.0.2.1 dev eth0 metric 7" in routes
    assert "198.51.100.0/24" not in routes and "203.0.113.0/24" not in routes
    assert "200:\tfrom all to 198.51.100.128/25 lookup 100 proto 104" in rules
    assert "192.0.2.60/24" in lab.sh(a, "ip -o addr show dev eth0")
    wait_for(lambda: node.state() == "MASTER", 5, "MASTER")
    routes, rules = ours(lab, a)
    assert "198.51.100.0/24 via 192.0.2.1 dev eth0" in routes
    assert "blackhole 203.0.113.0/24" in routes
    assert "default via 192.0.2.1 dev eth0 table 100" in routes
    assert "100:\tfrom 192.0.2.100 lookup 100 proto 104" in rules
    node.ctl("pause", "VI_51")
    wait_for(lambda: node.state() == "BACKUP", 5, "BACKUP")
    routes, rules = ours(lab, a)
    assert "198.51.100.0/24" not in routes and "table 100" not in routes
    assert "from 192.0.2.100" not in rules
    assert "198.51.100.128/25" in routes  # static
    node.proc.send_signal(signal.SIGTERM)
    assert node.proc.wait(10) == 0, node.output()
    assert ours(lab, a) == ("", "")
    assert "192.0.2.60" not in lab.sh(a, "ip -o addr show dev eth0")


def test_a_crashed_nodes_routes_are_removed_at_the_next_start(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    node = start_hatui(lab, a, conf=conf(static=""))
    wait_for(lambda: node.state() == "MASTER", 5, "MASTER")
    node.proc.send_signal(signal.SIGKILL)
    node.proc.wait(5)
    assert "198.51.100.0/24" in ours(lab, a)[0]  # what a crash leaves
    again = start_hatui(lab, a, conf=conf(static=""), tag="again")
    routes, rules = ours(lab, a)
    assert again.state() == "BACKUP" and routes == "" and rules == ""
    wait_for(lambda: again.state() == "MASTER", 5, "MASTER again")
    assert ours(lab, a)[0].count("198.51.100.0/24") == 1


def run_node(lab: Lab, host: Host, text: str) -> subprocess.CompletedProcess[str]:
    path = lab.workdir / "bad.conf"
    path.write_text(text)
    argv = [*HATUI, "--serve", "--headless", "-c", str(path), "--duration", "5"]
    argv += ["--control", str(lab.workdir / "bad.sock")]
    return subprocess.run(host.argv(argv), capture_output=True, text=True, timeout=30)


def test_a_static_route_that_cannot_be_added_stops_the_start_cleanly(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    static = STATIC.replace("via 192.0.2.1 metric 7", "via 10.99.99.1")  # off every subnet
    done = run_node(lab, a, conf(static=static))
    assert done.returncode == 1, done
    (line,) = done.stderr.strip().splitlines()
    assert (
        f"{lab.workdir / 'bad.conf'}:5: cannot add route 198.51.100.128/25 via 10.99.99.1" in line
    )
    assert "Traceback" not in done.stderr
    # All or nothing: the static address before it was taken away again.
    assert "192.0.2.60" not in lab.sh(a, "ip -o addr show dev eth0")
    assert ours(lab, a) == ("", "")


def test_a_virtual_route_that_cannot_be_added_is_an_error_and_none_stay(lab: Lab) -> None:
    # As any failed effect (and as keepalived), the node stays up, says so naming the line,
    # and leaves no half-built set: the routes added before the failing one go again.
    a = lab.add_host("a", 11)
    bad = VIRTUAL.replace("default via 192.0.2.1 table 100", "default via 10.99.99.1 table 100")
    path = lab.workdir / "a-hatui.conf"
    node = start_hatui(lab, a, conf=conf(virtual=bad, static=""))
    wait_for(lambda: node.state() == "MASTER", 5, "MASTER")
    wait_for(lambda: "cannot add route" in node.output(), 5, "the error")
    lines = [x for x in node.output().splitlines() if "cannot add route" in x]
    # The log line and the node's JSON error event both name it.
    assert lines and all(
        f"{path}:16: cannot add route 0.0.0.0/0 via 10.99.99.1 table 100" in x for x in lines
    ), lines
    assert "Traceback" not in node.output()
    assert ours(lab, a) == ("", "")
    assert node.status()["counters"]["io_errors"] == 1


def test_promote_secondaries_is_set_while_running_and_put_back(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    key = "/proc/sys/net/ipv4/conf/eth0/promote_secondaries"
    lab.sh(a, f"echo 0 > {key}")
    text = vrrp_conf("a", 150).replace(
        "    priority 150", "    priority 150\n    promote_secondaries"
    )
    node = start_hatui(lab, a, conf=text)
    assert lab.sh(a, f"cat {key}").strip() == "1"
    node.proc.send_signal(signal.SIGTERM)
    assert node.proc.wait(10) == 0, node.output()
    assert lab.sh(a, f"cat {key}").strip() == "0"


MULTIPATH = (
    "    virtual_routes {\n"
    "        198.51.100.0/25 via 192.0.2.252 or 192.0.2.253\n"
    "        198.51.100.128/25 nexthop via 192.0.2.1 dev eth0 weight 3"
    " nexthop via 192.0.2.2 dev eth0 onlink\n"
    "        198.51.100.64/26 via 192.0.2.3 or 192.0.2.4 dev eth0\n"
    "    }\n"
)


def shown(lab: Lab, host: Host, dst: str) -> str:
    """`ip route show DST` without the protocol, which differs between hatui and keepalived."""
    text = lab.sh(host, f"ip route show {dst}")
    return "\n".join(re.sub(r" proto \S+", "", x).rstrip() for x in text.splitlines())


def test_multipath_routes_follow_master_as_keepalived_installs_them(lab: Lab) -> None:
    # keepalived itself, in the next namespace, installs the same lines (its own VRID): the
    # kernel's rendering of both is the oracle, not hatui's reading of the syntax.
    require_keepalived()
    a, k = lab.add_host("a", 11), lab.add_host("k", 12)
    static = "static_routes {\n    198.51.100.0/26 via 192.0.2.5 or 192.0.2.6\n}\n"
    text = vrrp_conf("a", 150).replace("    virtual_ipaddress", MULTIPATH + "    virtual_ipaddress")
    node = start_hatui(lab, a, conf=static + text)
    ka_text = vrrp_conf("k", 150, vrid=52, vip="192.0.2.101")
    start_keepalived(
        lab, k, ka_text.replace("    virtual_ipaddress", MULTIPATH + "    virtual_ipaddress")
    )
    static_paths = (
        "\n\tnexthop via 192.0.2.5 dev eth0 weight 1\n\tnexthop via 192.0.2.6 dev eth0 weight 1"
    )
    assert shown(lab, a, "198.51.100.0/26") == "198.51.100.0/26" + static_paths
    assert shown(lab, a, "198.51.100.0/25") == ""  # not before MASTER
    wait_for(lambda: node.state() == "MASTER", 5, "MASTER")
    wait_for(lambda: shown(lab, k, "198.51.100.128/25"), 10, "keepalived's routes")
    for dst in ("198.51.100.0/25", "198.51.100.128/25"):
        assert shown(lab, a, dst) == shown(lab, k, dst)
    assert shown(lab, a, "198.51.100.0/25") == (
        "198.51.100.0/25\n\tnexthop via 192.0.2.252 dev eth0 weight 1"
        "\n\tnexthop via 192.0.2.253 dev eth0 weight 1"
    )
    assert shown(lab, a, "198.51.100.128/25") == (
        "198.51.100.128/25\n\tnexthop via 192.0.2.1 dev eth0 weight 3"
        "\n\tnexthop via 192.0.2.2 dev eth0 weight 1 onlink"
    )
    # `or ... dev`: hatui gives each path the device, as its warning says; keepalived sends
    # the device beside the paths and the kernel refuses that route.
    assert shown(lab, a, "198.51.100.64/26") == (
        "198.51.100.64/26\n\tnexthop via 192.0.2.3 dev eth0 weight 1"
        "\n\tnexthop via 192.0.2.4 dev eth0 weight 1"
    )
    assert shown(lab, k, "198.51.100.64/26") == ""
    refused = "Netlink: error: Invalid argument(22), type=RTM_NEWROUTE"
    ka_log = lab.workdir / "k-ka.log"
    wait_for(lambda: refused in ka_log.read_text(), 5, "keepalived's refused route")
    assert ka_log.read_text().count(refused) == 1
    node.ctl("pause", "VI_51")
    wait_for(lambda: node.state() == "BACKUP", 5, "BACKUP")
    assert shown(lab, a, "198.51.100.0/25") == shown(lab, a, "198.51.100.128/25") == ""
    assert shown(lab, a, "198.51.100.64/26") == ""
    assert shown(lab, a, "198.51.100.0/26") == "198.51.100.0/26" + static_paths
    node.proc.send_signal(signal.SIGTERM)
    assert node.proc.wait(10) == 0, node.output()
    assert ours(lab, a) == ("", "")
