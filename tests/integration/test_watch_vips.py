"""VIPs from ARP and ND alone, in a namespace lab: kernels answer for the addresses their
hosts hold (`ip addr add`), arping announces them (-U), a client keeps asking (arping -b),
and `hatui --watch` on a third host reports VIPs, moves with their gap, and conflicts.

Oracles: tcpdump on the observer's host (the gap from the old owner's last frame to the new
owner's first, by tcpdump's own stamps), the client's own arping output (who replied), and
real keepalived peers."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hatui.demo import L2_VIP, start_l2_pair
from hatui.lab import Host, Lab, crash_keepalived, start_keepalived
from hatui.lab.nodes import (
    Observer,
    has_vip,
    read_json_lines,
    start_observer,
    vrrp_conf,
    wait_for,
)
from tests.conftest import require, require_keepalived, require_root

VIP = "192.0.2.60"
VIP6 = "2001:db8::60"
METRICS_PORT = 9651

_ARP = re.compile(
    r"^(\d+\.\d+) (\S+) > \S+, ethertype ARP .*?: "
    r"(?:Request who-has ([\d.]+)(?: \(\S+\))? tell ([\d.]+)|Reply ([\d.]+) is-at)"
)
_NA = re.compile(
    r"^(\d+\.\d+) (\S+) > \S+, ethertype IPv6 .*ICMP6, neighbor advertisement, tgt is ([0-9a-f:]+)"
)


@dataclass(frozen=True, slots=True)
class Word:
    """A frame that speaks for an address: a reply, a gratuitous ARP, a neighbour advert."""

    t: float
    mac: str
    ip: str


class Wire:
    """tcpdump on the observer's host: the frames hatui's capture sees, with their stamps."""

    def __init__(self, lab: Lab, host: Host) -> None:
        self.path = lab.workdir / "arpwire.txt"
        filt = "arp or (icmp6 and ip6[40] == 136)"
        argv = ["tcpdump", "-i", "eth0", "-l", "-n", "-e", "-tt", "--immediate-mode", filt]
        self.proc = lab.spawn(host, argv, log="arpwire.txt")
        time.sleep(0.5)

    def words(self, ip: str) -> list[Word]:
        out = []
        for line in self.path.read_text(errors="replace").splitlines():
            if m := _ARP.match(line):
                said = m[5] if m[5] is not None else (m[3] if m[3] == m[4] else None)
                if said == ip:
                    out.append(Word(t=float(m[1]), mac=m[2], ip=said))
            elif (m := _NA.match(line)) and m[3] == ip:
                out.append(Word(t=float(m[1]), mac=m[2], ip=m[3]))
        return out

    def requests(self, ip: str) -> int:
        text = self.path.read_text(errors="replace")
        return len(
            re.findall(rf"Request who-has {re.escape(ip)} .*tell (?!{re.escape(ip)},)", text)
        )

    def replies(self, mac: str) -> int:
        text = self.path.read_text(errors="replace")
        return len(re.findall(rf"^\d+\.\d+ {re.escape(mac)} > .*: Reply ", text, re.M))

    def gap_ms(self, ip: str, old: str, new: str, since: float = 0.0) -> float:
        """From old's last word before new's first (after `since`) to new's first, by
        tcpdump's stamps."""
        words = self.words(ip)
        first = min(w.t for w in words if w.mac == new and w.t >= since)
        last = max(w.t for w in words if w.mac == old and w.t < first)
        return (first - last) * 1000


def hold(lab: Lab, host: Host, ip: str) -> None:
    if ":" in ip:
        lab.sh(host, f"ip -6 addr add {ip}/128 dev eth0 nodad")
    else:
        lab.sh(host, f"ip addr add {ip}/32 dev eth0")


def release(lab: Lab, host: Host, ip: str) -> None:
    lab.sh(host, f"ip addr del {ip}/{128 if ':' in ip else 32} dev eth0")


def garp(lab: Lab, host: Host, ip: str, count: int = 1) -> None:
    """arping -U: a gratuitous ARP request, sender and target both `ip`."""
    lab.sh(host, f"arping -q -U -c {count} -I eth0 {ip}", check=False)


def unsolicited_na(lab: Lab, host: Host, ip: str) -> None:
    """An unsolicited NA with the override flag (RFC 4861 7.2.6), sent by scapy in `host`."""
    code = (
        "from scapy.all import Ether, IPv6, ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, sendp\n"
        f"sendp(Ether(src='{host.mac}', dst='33:33:00:00:00:01')"
        f" / IPv6(src='{ip}', dst='ff02::1', hlim=255)"
        f" / ICMPv6ND_NA(tgt='{ip}', R=0, S=0, O=1)"
        f" / ICMPv6NDOptDstLLAddr(lladdr='{host.mac}'), iface='eth0', verbose=0)\n"
    )
    subprocess.run(host.argv([sys.executable, "-c", code]), check=True, timeout=30)


def asker(lab: Lab, host: Host, ip: str) -> subprocess.Popen[bytes]:
    """A client that keeps asking for `ip`: a broadcast ARP request every 0.2 s (arpclient.py
    prints who replied), or for IPv6 a fresh
    neighbour solicitation (cache flushed) every 0.2 s."""
    if ":" in ip:
        loop = (
            f"while :; do ip -6 neigh flush dev eth0 to {ip}; "
            f"ping -6 -c 1 -W 0.3 {ip} >/dev/null 2>&1; sleep 0.2; done"
        )
        return lab.spawn(host, ["sh", "-c", loop], log=f"{host.name}-asker.log")
    argv = [
        sys.executable,
        str(Path(__file__).with_name("arpclient.py")),
        "eth0",
        host.ip,
        ip,
        "0.2",
    ]
    return lab.spawn(host, argv, log=f"{host.name}-asker.log")


def no_flood(lab: Lab, observer: Host) -> None:
    """As a real switch: learn MACs (default ageing, 300 s) and flood no unknown unicast to
    the observer, so it hears broadcasts and multicasts only."""
    sw = ["ip", "netns", "exec", lab.switch]
    subprocess.run([*sw, "ip", "link", "set", "br0", "type", "bridge", "ageing_time", "30000"],
                   check=True)  # fmt: skip
    subprocess.run([*sw, "bridge", "link", "set", "dev", observer.port, "flood", "off"], check=True)


def document(obs: Observer, lab: Lab) -> dict[str, Any]:
    """Stop the watcher (SIGTERM) and return the document it prints last."""
    lab.stop(obs.proc, signal.SIGTERM)
    docs = [d for d in read_json_lines(obs.log) if "routers" in d and "vips" in d]
    assert docs, obs.log.read_text()
    return docs[-1]


def vip_of(doc: dict[str, Any], ip: str) -> dict[str, Any]:
    (v,) = [v for v in doc["vips"] if v["ip"] == ip]
    return v


def metric(lab: Lab, obs: Observer, name: str, ip: str) -> float | None:
    text = lab.sh(obs.host, f"curl -s 127.0.0.1:{METRICS_PORT}/metrics", check=False)
    for line in text.splitlines():
        if line.startswith(name + "{") and f'vip="{ip}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return None


def _require_tools() -> None:
    require_root()
    require(shutil.which("arping") is not None, "needs arping (apt-get install iputils-arping)")
    require(shutil.which("tcpdump") is not None, "needs tcpdump")


def test_garp_vip_moves_with_the_gap_then_a_conflict_is_raised_and_cleared(lab: Lab) -> None:
    """Host a takes the VIP with a GARP while a client keeps asking; it moves to b (a lets
    go, b announces); then a takes it again without b letting go: both answer."""
    _require_tools()
    a, b, c = lab.add_host("a", 11), lab.add_host("b", 12), lab.add_host("c", 14)
    obs = start_observer(lab, args=["--metrics", f"127.0.0.1:{METRICS_PORT}"])
    wire = Wire(lab, obs.host)
    hold(lab, a, VIP)
    garp(lab, a, VIP)
    client = asker(lab, c, VIP)
    time.sleep(1.5)  # a's kernel answers the client
    assert not obs.events("vip_announced"), "one GARP and answers: not yet a VIP"

    obs.mark()
    release(lab, a, VIP)
    time.sleep(0.7)  # nobody answers
    hold(lab, b, VIP)
    garp(lab, b, VIP)
    found = obs.wait("vip_announced", "the move to make it a VIP", ip=VIP)
    assert found["source"] == "announced" and f"after {a.mac}" in found["detail"]
    move = obs.wait("arp_owner_change", "b's GARP to move it", ip=VIP, mac=b.mac)
    assert (move["old_mac"], move["source"], move["gratuitous"]) == (a.mac, "announced", True)
    oracle = wire.gap_ms(VIP, a.mac, b.mac)
    assert abs(move["gap_ms"] - oracle) < 1.0, (move, oracle)
    assert 650 <= move["gap_ms"] <= 2000, move  # 0.7 s with nobody answering, and arping's start
    wait_for(lambda: metric(lab, obs, "hatui_vip_last_move_gap_seconds", VIP) is not None, 5,
             "the gap metric")  # fmt: skip
    assert metric(lab, obs, "hatui_vip_conflict", VIP) == 0.0

    # a takes it again; b never let go: every request gets two answers.
    time.sleep(1.0)
    obs.mark()
    hold(lab, a, VIP)
    conflict = obs.wait("vip_conflict", "two answerers", ip=VIP)
    assert set(conflict["macs"]) == {a.mac, b.mac}
    assert all(conflict["since"] - 1.0 <= t <= conflict["since"] for t in conflict["last"])
    client_log = (lab.workdir / "c-asker.log").read_text()
    since = conflict["since"]
    repliers = {
        line.split()[1] for line in client_log.splitlines() if float(line.split()[0]) > since
    }
    assert repliers == {a.mac, b.mac}
    wait_for(lambda: metric(lab, obs, "hatui_vip_conflict", VIP) == 1.0, 5, "conflict metric 1")

    # b lets go: a alone answers; the conflict clears 5 s after b's last answer.
    release(lab, b, VIP)
    let_go = time.time()
    cleared = obs.wait("vip_conflict_cleared", "b to be silent 5 s", timeout=10, ip=VIP)
    assert 4.5 <= cleared["time"] - let_go <= 7.0, cleared
    assert f"only {a.mac} answers" in cleared["detail"]
    lab.stop(client)
    doc = document(obs, lab)
    v = vip_of(doc, VIP)
    assert (v["source"], v["mac"], v["conflict"], v["moves"]) == ("announced", a.mac, None, 1)
    assert v["last_move"]["gap_ms"] == move["gap_ms"]
    assert v["requests"] > 10 and v["last_answer_mac"] == a.mac
    (arp,) = [e for e in doc["arp"] if e["ip"] == VIP]
    assert (arp["vip"], arp["source"]) == (True, "announced")


def test_periodic_announcers_through_a_switch_and_two_leaders(lab: Lab) -> None:
    """kube-vip: a leader sends a gratuitous ARP every 3 s. Seen through a switch (no
    flooded unicast), the observer hears the announcements and the client's requests, never
    the answers; a second leader announcing too is a conflict (kube-vip#277)."""
    _require_tools()
    k1, k2, c = lab.add_host("k1", 21), lab.add_host("k2", 22), lab.add_host("c", 14)
    obs = start_observer(lab)
    no_flood(lab, obs.host)
    wire = Wire(lab, obs.host)
    client = asker(lab, c, VIP)
    hold(lab, k1, VIP)
    obs.mark()
    start = time.time()
    lab.spawn(k1, ["arping", "-q", "-U", "-i", "3", "-I", "eth0", VIP], log="k1-garp.log")
    found = obs.wait("vip_announced", "the third GARP", timeout=10, ip=VIP, mac=k1.mac)
    assert "announced 3 times" in found["detail"], found
    assert 6.0 <= found["time"] - start <= 8.0, found  # GARPs at 0, 3, 6 s
    # The client got its answers (its own arping says so); none crossed the switch to us.
    assert k1.mac in (lab.workdir / "c-asker.log").read_text()
    assert wire.replies(k1.mac) == 0

    # A second leader announces too, 1.5 s out of step: the owner flips at each GARP.
    time.sleep(1.5)
    obs.mark()
    hold(lab, k2, VIP)
    lab.spawn(k2, ["arping", "-q", "-U", "-i", "3", "-I", "eth0", VIP], log="k2-garp.log")
    conflict = obs.wait("vip_conflict", "two announcers", timeout=10, ip=VIP)
    assert set(conflict["macs"]) == {k1.mac, k2.mac}
    lab.stop(client)
    v = vip_of(document(obs, lab), VIP)
    assert v["announcements"] >= 4 and v["requests"] >= 20
    assert v["answers"] == 0  # unicast answers stay on the client's port
    assert wire.requests(VIP) >= 20


def test_an_announcer_that_then_only_answers_and_a_plain_host(lab: Lab) -> None:
    """MetalLB: the chosen node (own address 192.0.2.13, in its own requests) sends one
    gratuitous ARP for the service address, then its kernel only answers requests. A host
    announcing its own address and answering for it stays an ordinary host."""
    _require_tools()
    m, h, c = lab.add_host("m", 13), lab.add_host("h", 15), lab.add_host("c", 14)
    obs = start_observer(lab)
    lab.sh(m, f"arping -q -c 1 -I eth0 {c.ip}", check=False)  # m asks from its own address
    lab.sh(h, f"arping -q -c 1 -I eth0 {c.ip}", check=False)
    obs.mark()
    hold(lab, m, VIP)
    garp(lab, m, VIP)
    garp(lab, h, h.ip, count=2)  # a boot's announcements of its own address
    client = asker(lab, c, VIP)
    client_h = asker(lab, c, h.ip)
    found = obs.wait("vip_announced", "m's service address", ip=VIP, mac=m.mac)
    assert f"whose own address is {m.ip}" in found["detail"], found
    time.sleep(2.0)
    lab.stop(client)
    lab.stop(client_h)
    doc = document(obs, lab)
    v = vip_of(doc, VIP)
    assert (v["mac"], v["owner_ip"], v["last_answer_mac"]) == (m.mac, m.ip, m.mac)
    assert v["answers"] >= 5 and v["announcements"] == 1
    assert h.ip not in [x["ip"] for x in doc["vips"]]
    (plain,) = [e for e in doc["arp"] if e["ip"] == h.ip]
    assert (plain["vip"], plain["mac"]) == (False, h.mac)


def test_keepalived_unicast_pair_seen_from_a_host_that_hears_no_advert(lab: Lab) -> None:
    """keepalived with unicast_peer behind a switch: the third host hears no advert, only
    the gratuitous ARPs (5 at the transition, 5 more 5 s later) and the ARP requests."""
    require_keepalived()
    _require_tools()
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    obs = start_observer(lab)
    no_flood(lab, obs.host)
    wire = Wire(lab, obs.host)
    ka = start_keepalived(lab, a, vrrp_conf("a", 150, vip=VIP, unicast_src=a.ip,
                                            unicast_peers=[b.ip]), tag="ka-a")  # fmt: skip
    start_keepalived(lab, b, vrrp_conf("b", 100, vip=VIP, unicast_src=b.ip,
                                       unicast_peers=[a.ip]), tag="ka-b")  # fmt: skip
    # Its holder's own address is in its ARP request for its peer, so the first burst may
    # settle it; else the second, 5 s later. (b may be master for a moment before a's
    # first advert reaches it.)
    found = obs.wait("vip_announced", "the first GARPs", timeout=15, ip=VIP)
    assert "times" in found["detail"] or "whose own address is" in found["detail"], found
    wait_for(lambda: has_vip(lab, a, VIP) and not has_vip(lab, b, VIP), 10, "a to hold it")
    time.sleep(0.5)  # a's burst is out
    obs.mark()
    stop = time.time()
    lab.stop(ka.proc)  # graceful: priority 0, b takes over and announces
    move = obs.wait("arp_owner_change", "b's GARPs", timeout=10, ip=VIP, mac=b.mac)
    assert move["old_mac"] == a.mac and move["source"] == "announced"
    assert abs(move["gap_ms"] - wire.gap_ms(VIP, a.mac, b.mac, since=stop)) < 1.0
    time.sleep(0.5)
    doc = document(obs, lab)
    assert doc["routers"] == [] and doc["counters"]["vrrp"] == 0  # no advert reached us
    v = vip_of(doc, VIP)
    assert (v["source"], v["mac"], v["conflict"]) == ("announced", b.mac, None)
    assert v["last_move"]["gap_ms"] == move["gap_ms"]
    # All gratuitous (no answer crosses the switch to us), up to the document's time.
    garps = [w for w in wire.words(VIP) if w.t <= doc["time"]]
    assert len(garps) >= 10 and v["announcements"] == len(garps), (v, garps)


def test_nd_vip_moves_with_the_gap_and_a_conflict(lab: Lab) -> None:
    """IPv6: unsolicited NAs with the override flag announce; kernels answer solicitations
    for the address they hold; a client keeps soliciting."""
    _require_tools()
    a, b, c = lab.add_host("a", 11), lab.add_host("b", 12), lab.add_host("c", 14)
    obs = start_observer(lab)
    wire = Wire(lab, obs.host)
    hold(lab, a, VIP6)
    unsolicited_na(lab, a, VIP6)
    client = asker(lab, c, VIP6)
    time.sleep(1.5)
    obs.mark()
    release(lab, a, VIP6)
    time.sleep(0.5)
    hold(lab, b, VIP6)
    unsolicited_na(lab, b, VIP6)
    found = obs.wait("vip_announced", "b's NA after a's answers", timeout=10, ip=VIP6)
    assert a.mac in found["detail"]  # b's kernel may answer before its NA is out
    move = obs.wait("arp_owner_change", "b's NA", ip=VIP6, mac=b.mac)
    assert move["old_mac"] == a.mac and move["family"] == "ipv6"
    assert abs(move["gap_ms"] - wire.gap_ms(VIP6, a.mac, b.mac)) < 1.0
    assert move["gap_ms"] >= 500
    obs.mark()
    hold(lab, a, VIP6)  # both answer every solicitation now
    conflict = obs.wait("vip_conflict", "two ND answerers", timeout=10, ip=VIP6)
    assert set(conflict["macs"]) == {a.mac, b.mac}
    release(lab, a, VIP6)
    obs.wait("vip_conflict_cleared", "a silent for 5 s", timeout=12, ip=VIP6)
    lab.stop(client)
    v = vip_of(document(obs, lab), VIP6)
    assert (v["source"], v["mac"], v["conflict"]) == ("announced", b.mac, None)


def test_the_demos_kube_vip_like_pair_moves_its_vip_by_arp_alone(lab: Lab) -> None:
    """hatui --demo's l1/l2 pair (terms shortened to 4 s): the watcher finds the VIP from
    the announcements and reports each takeover as a move between the two MACs."""
    _require_tools()
    obs = start_observer(lab)
    hosts: dict[str, Host] = {}
    start_l2_pair(lab, hosts, term_s=4)
    l1, l2 = hosts["l1"], hosts["l2"]
    found = obs.wait("vip_announced", "the pair's VIP", timeout=15, ip=L2_VIP)
    assert found["mac"] in (l1.mac, l2.mac)
    move = obs.wait("arp_owner_change", "a takeover", timeout=15, ip=L2_VIP)
    assert {move["mac"], move["old_mac"]} == {l1.mac, l2.mac}
    assert 0 < move["gap_ms"] <= 6500  # last GARP and first GARP each within a 3 s period
    v = vip_of(document(obs, lab), L2_VIP)
    assert v["source"] == "announced" and v["moves"] >= 1 and v["conflict"] is None


def test_keepalived_failover_gap_is_the_outage_a_client_saw(lab: Lab) -> None:
    """A VRRP VIP's move gets the same gap_ms: a keepalived master's cable is pulled while
    a client keeps asking; from the master's last answer to the backup's first gratuitous
    ARP is the time nobody answered the client."""
    require_keepalived()
    _require_tools()
    a, b, c = lab.add_host("a", 11), lab.add_host("b", 12), lab.add_host("c", 14)
    obs = start_observer(lab)
    wire = Wire(lab, obs.host)
    start_keepalived(lab, a, vrrp_conf("a", 150, vip=VIP), tag="ka-a")
    start_keepalived(lab, b, vrrp_conf("b", 100, vip=VIP), tag="ka-b")
    wait_for(lambda: has_vip(lab, a, VIP) and not has_vip(lab, b, VIP), 10, "a to hold it")
    client = asker(lab, c, VIP)
    time.sleep(1.5)  # a answers the client
    obs.mark()
    pulled = time.time()
    lab.link(a, False)
    move = obs.wait("arp_owner_change", "b's GARPs", timeout=10, ip=VIP, mac=b.mac)
    assert (move["old_mac"], move["source"], move["vrid"]) == (a.mac, "advert", 51)
    assert abs(move["gap_ms"] - wire.gap_ms(VIP, a.mac, b.mac, since=pulled)) < 1.0
    # Master_Down_Interval at 0.1 s (360.9 ms), plus up to one client interval (0.2 s).
    assert 300 <= move["gap_ms"] <= 900, move
    lab.stop(client)
    v = vip_of(document(obs, lab), VIP)
    assert (v["source"], v["mac"], v["owner_ip"]) == ("advert", b.mac, b.ip)
    assert v["last_move"]["gap_ms"] == move["gap_ms"]


def test_a_crashed_keepalived_leaves_its_vip_answering_a_conflict(lab: Lab) -> None:
    """keepalived killed outright leaves the VIP on its host (kube-vip#1786's "never
    released"): that kernel keeps answering beside the new master's. A conflict on a VRRP
    VIP, with the foreign MAC flagged as before."""
    require_keepalived()
    _require_tools()
    a, b, c = lab.add_host("a", 11), lab.add_host("b", 12), lab.add_host("c", 14)
    obs = start_observer(lab)
    ka = start_keepalived(lab, a, vrrp_conf("a", 150, vip=VIP), tag="ka-a")
    start_keepalived(lab, b, vrrp_conf("b", 100, vip=VIP), tag="ka-b")
    wait_for(lambda: has_vip(lab, a, VIP) and not has_vip(lab, b, VIP), 10, "a to hold it")
    client = asker(lab, c, VIP)
    time.sleep(1.0)
    obs.mark()
    crash_keepalived(lab, ka)
    conflict = obs.wait("vip_conflict", "both kernels answering", timeout=10, ip=VIP)
    assert set(conflict["macs"]) == {a.mac, b.mac} and conflict["source"] == "advert"
    assert conflict["vrid"] == 51
    obs.wait("vip_foreign_mac", "a's answers beside b's adverts", ip=VIP, mac=a.mac)
    assert has_vip(lab, a, VIP)  # the oracle: the address is still on the dead node
    lab.stop(client)
