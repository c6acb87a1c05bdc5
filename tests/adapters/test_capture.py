"""The capture adapter: the kernel filter keeps VRRP, CARP, ARP and NA, and nothing else."""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap

import pytest
from scapy.layers.hsrp import HSRP, HSRPv2
from scapy.layers.inet import IP, UDP, IPOption_Router_Alert
from scapy.layers.inet6 import (
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
)
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.layers.vrrp import VRRP, VRRPv3

from hatui.adapters.capture import SNAPLEN, CaptureSocket, bpf_program
from hatui.codec.decode import clear_cache, decode
from hatui.errors import RuntimeFault
from hatui.lab import Lab


def run_bpf(prog: list[tuple[int, int, int, int]], pkt: bytes, pkttype: int = 0) -> int:
    """Interpret the subset of classic BPF the filter uses; returns the accepted length.
    `pkttype` is what the kernel's ancillary load reads (0 host, 4 outgoing)."""
    acc, x, pc = 0, 0, 0
    while True:
        code, jt, jf, k = prog[pc]
        if code == 0x20 and k == (-0x1000 + 4) & 0xFFFFFFFF:  # ld pkttype (SKF_AD)
            acc = pkttype
        elif code == 0x28:  # ldh abs
            if k + 2 > len(pkt):
                return 0
            acc = struct.unpack_from("!H", pkt, k)[0]
        elif code == 0x48:  # ldh ind: [X + k]
            if x + k + 2 > len(pkt):
                return 0
            acc = struct.unpack_from("!H", pkt, x + k)[0]
        elif code == 0xB1:  # ldx msh: X = 4 * ([k] & 0xf)
            if k + 1 > len(pkt):
                return 0
            x = 4 * (pkt[k] & 0x0F)
        elif code == 0x30:  # ldb abs
            if k + 1 > len(pkt):
                return 0
            acc = pkt[k]
        elif code == 0x15:  # jeq k
            pc += jt if acc == k else jf
        elif code == 0x06:  # ret k
            return k
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")
        pc += 1


ETH = Ether(src="02:00:00:00:00:11", dst="01:00:5e:00:00:12")
WANTED = {
    "vrrp v2": ETH / IP(src="192.0.2.11", dst="224.0.0.18", ttl=255) / VRRP(vrid=51),
    "vrrp v3 v6": Ether() / IPv6(src="fe80::1", dst="ff02::12", hlim=255) / VRRPv3(vrid=7),
    "arp": Ether() / ARP(psrc="192.0.2.100", pdst="192.0.2.100"),
    "na": Ether() / IPv6(dst="ff02::1") / ICMPv6ND_NA(tgt="2001:db8::64"),
    "tagged vrrp": ETH / Dot1Q(vlan=10) / IP(ttl=255) / VRRP(vrid=9),
    "tagged arp": Ether() / Dot1Q(vlan=10) / ARP(),
    "tagged na": Ether() / Dot1Q(vlan=10) / IPv6() / ICMPv6ND_NA(tgt="2001:db8::1"),
    "hsrp v1": ETH / IP(dst="224.0.0.2", ttl=1) / UDP(sport=1985, dport=1985) / HSRP(),
    "hsrp v1 ip options": ETH
    / IP(dst="224.0.0.2", ttl=1, options=[IPOption_Router_Alert()])
    / UDP(sport=1985, dport=1985)
    / HSRP(),
    "hsrp v2": ETH / IP(dst="224.0.0.102") / UDP(sport=1985, dport=1985) / HSRPv2(),
    "hsrp v6": Ether() / IPv6(dst="ff02::66") / UDP(sport=2029, dport=2029) / HSRPv2(),
    "hsrp v4 on 2029 (counted)": ETH / IP() / UDP(sport=2029, dport=2029) / HSRPv2(),
    "glbp": ETH / IP(dst="224.0.0.102") / UDP(sport=3222, dport=3222) / (b"\x01" + bytes(11)),
    "tagged hsrp": ETH / Dot1Q(vlan=10) / IP() / UDP(sport=1985, dport=1985) / HSRP(),
    "tagged hsrp v6": Ether() / Dot1Q(vlan=10) / IPv6() / UDP(sport=2029, dport=2029),
    "vrrp behind hop-by-hop": Ether()
    / IPv6(dst="ff02::12")
    / IPv6ExtHdrHopByHop(nh=112)
    / VRRPv3(vrid=7),
    "vrrp behind dest opts": Ether() / IPv6() / IPv6ExtHdrDestOpt(nh=112) / VRRPv3(vrid=7),
}
UNWANTED = {
    "udp": ETH / IP() / UDP(dport=53),
    "udp from an hsrp port": ETH / IP() / UDP(sport=1985, dport=53),
    "udp v6": Ether() / IPv6() / UDP(dport=5353),
    "ns": Ether() / IPv6() / ICMPv6ND_NS(tgt="2001:db8::1"),
    "tagged udp": Ether() / Dot1Q(vlan=10) / IP() / UDP(),
    "tagged udp v6": Ether() / Dot1Q(vlan=10) / IPv6() / UDP(dport=53),
    "v6 fragment": Ether() / IPv6() / IPv6ExtHdrFragment() / UDP(dport=53),
    "runt": Ether(type=0x0800) / b"\x45",
}


@pytest.mark.parametrize("name", sorted(WANTED))
def test_filter_accepts(name: str) -> None:
    assert run_bpf(bpf_program(), bytes(WANTED[name])) == SNAPLEN


@pytest.mark.parametrize("name", sorted(UNWANTED))
def test_filter_rejects(name: str) -> None:
    assert run_bpf(bpf_program(), bytes(UNWANTED[name])) == 0


@pytest.mark.parametrize("name", sorted(WANTED))
def test_every_frame_the_filter_keeps_is_one_the_decoder_reads(name: str) -> None:
    clear_cache()
    assert decode(bytes(WANTED[name])) is not None


def test_missing_interface_is_one_clear_error() -> None:
    with pytest.raises(RuntimeFault, match="interface 'nosuch0' does not exist"):
        CaptureSocket("nosuch0")


SNIFFER = textwrap.dedent(
    """
    import select, sys, time
    from hatui.adapters.capture import CaptureSocket
    cap = CaptureSocket("eth0")
    print("ready", flush=True)
    seen, end = [], time.monotonic() + float(sys.argv[1])
    while time.monotonic() < end:
        select.select([cap], [], [], 0.05)
        for p in cap.read_batch():
            seen.append((p.time, p.data.hex(), p.outgoing))
    for t, h, o in seen:
        print(t, h, int(o))
    """
)


def test_live_capture_sees_only_wanted_frames(lab: Lab) -> None:
    """In a namespace lab: a sender emits wanted and unwanted frames; the sniffer keeps
    the wanted ones, with kernel timestamps, and its own interface transmits nothing."""
    sender, observer = lab.add_host("s", 11), lab.add_host("o", 9, silent=True)
    sniff = subprocess.Popen(
        observer.argv([sys.executable, "-c", SNIFFER, "2.0"]), stdout=subprocess.PIPE, text=True
    )
    lab.procs.append(sniff)  # type: ignore[arg-type]
    assert sniff.stdout is not None
    assert sniff.stdout.readline().strip() == "ready"
    tx_before = lab.tx_packets(observer)
    frames = [
        bytes(WANTED["vrrp v2"]),
        bytes(UNWANTED["udp"]),
        bytes(WANTED["arp"]),
        bytes(WANTED["hsrp v2"]),
        bytes(WANTED["glbp"]),
        bytes(UNWANTED["udp v6"]),
    ]
    script = "import socket,sys\ns=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\n"
    script += "s.bind(('eth0',0))\n"
    script += "".join(f"s.send(bytes.fromhex('{f.hex()}'))\n" for f in frames)
    subprocess.run(sender.argv([sys.executable, "-c", script]), check=True)
    out, _ = sniff.communicate(timeout=10)
    got = [line.split() for line in out.splitlines()]
    hexes = [g[1] for g in got]
    assert bytes(WANTED["vrrp v2"]).hex() in hexes
    assert bytes(WANTED["arp"]).hex() in hexes
    assert bytes(WANTED["hsrp v2"]).hex() in hexes and bytes(WANTED["glbp"]).hex() in hexes
    assert bytes(UNWANTED["udp"]).hex() not in hexes
    assert bytes(UNWANTED["udp v6"]).hex() not in hexes
    assert all(int(g[0]) > 1_600_000_000_000_000 for g in got)  # kernel wall-clock stamps, µs
    assert lab.tx_packets(observer) == tx_before


OWN_SNIFFER = textwrap.dedent(
    """
    import select, socket, sys, time
    from hatui.adapters.capture import CaptureSocket
    caps = {o: CaptureSocket("eth0", outgoing=o) for o in (True, False)}
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind(("eth0", 0))
    s.send(bytes.fromhex(sys.argv[1]))  # this host's own advert
    time.sleep(0.2)
    for o, cap in caps.items():
        seen = [p.outgoing for p in cap.read_batch() if p.data.hex() == sys.argv[1]]
        print(int(o), len(seen), int(all(seen)))
    """
)


def test_a_nodes_capture_leaves_out_its_own_frames_in_the_kernel(lab: Lab) -> None:
    """Both sides of the outgoing switch, on one host: the watcher's capture sees the
    host's own advert (flagged outgoing); a node's (outgoing=False) never gets it."""
    host = lab.add_host("n", 11, silent=True)
    frame = bytes(WANTED["vrrp v2"]).hex()
    out = subprocess.run(
        host.argv([sys.executable, "-c", OWN_SNIFFER, frame]),
        capture_output=True, text=True, check=True, timeout=20,
    ).stdout  # fmt: skip
    assert out.split("\n")[:2] == ["1 1 1", "0 0 1"], out


def test_the_node_filter_drops_only_its_own_frames() -> None:
    node, watcher = bpf_program(outgoing=False), bpf_program()
    for name, frame in WANTED.items():
        assert run_bpf(node, bytes(frame)) == SNAPLEN, name
        assert run_bpf(node, bytes(frame), pkttype=4) == 0, name
        assert run_bpf(watcher, bytes(frame), pkttype=4) == SNAPLEN, name
    for name, frame in UNWANTED.items():
        assert run_bpf(node, bytes(frame)) == 0, name
