"""The capture adapter: the watcher's kernel filter keeps VRRP, CARP, HSRP, ARP and NA, and
nothing else; a node's keeps only the VRRP adverts of the VRIDs it runs."""

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
    IPv6ExtHdrRouting,
)
from scapy.layers.l2 import ARP, Dot1AD, Dot1Q, Ether
from scapy.layers.vrrp import VRRP, VRRPv3

from hatui.adapters.capture import (
    BPF_MAXINSNS,
    SNAPLEN,
    CaptureSocket,
    bpf_program,
    node_bpf_program,
)
from hatui.codec.build import build_carp_frame
from hatui.codec.decode import clear_cache, decode
from hatui.errors import RuntimeFault
from hatui.lab import Host, Lab


def run_bpf(
    prog: list[tuple[int, int, int, int]], pkt: bytes, pkttype: int = 0, vlan: bool = False
) -> int:
    """Interpret the subset of classic BPF the filters use; returns the accepted length.
    `pkttype` and `vlan` are what the kernel's ancillary loads read: the packet type (0 host,
    2 multicast, 4 outgoing) and whether a tag was taken off the frame (see kernel_view)."""
    acc, x, pc = 0, 0, 0
    while True:
        code, jt, jf, k = prog[pc]
        if code == 0x20 and k == (-0x1000 + 4) & 0xFFFFFFFF:  # ld pkttype (SKF_AD)
            acc = pkttype
        elif code == 0x20 and k == (-0x1000 + 48) & 0xFFFFFFFF:  # ld vlan_tag_present
            acc = int(vlan)
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
        elif code == 0x50:  # ldb ind: [X + k]
            if x + k + 1 > len(pkt):
                return 0
            acc = pkt[x + k]
        elif code == 0x15:  # jeq k
            pc += jt if acc == k else jf
        elif code == 0x35:  # jge k (unsigned)
            pc += jt if acc >= k else jf
        elif code == 0x25:  # jgt k (unsigned)
            pc += jt if acc > k else jf
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


def send_frames(host: Host, frames: list[bytes]) -> None:
    """Send raw frames from `host`'s eth0, in order."""
    script = "import socket\ns=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\n"
    script += "s.bind(('eth0',0))\n"
    script += "".join(f"s.send(bytes.fromhex('{f.hex()}'))\n" for f in frames)
    subprocess.run(host.argv([sys.executable, "-c", script]), check=True)


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
    send_frames(sender, frames)
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
    # PACKET_IGNORE_OUTGOING: whether the kernel's transmit path passes the socket by
    node = CaptureSocket("eth0", vrids={4: {1}})
    for cap in (*caps.values(), node):
        print("ignore", cap.sock.getsockopt(263, 23))
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
    # ... and a node's capture (either kind) is left out of the host's transmit path
    # altogether: no clone of each frame it sends, no filter run, in the sender's context.
    assert out.split("\n")[2:5] == ["ignore 0", "ignore 1", "ignore 1"], out


def test_the_node_filter_drops_only_its_own_frames() -> None:
    node, watcher = bpf_program(outgoing=False), bpf_program()
    for name, frame in WANTED.items():
        assert run_bpf(node, bytes(frame)) == SNAPLEN, name
        assert run_bpf(node, bytes(frame), pkttype=4) == 0, name
        assert run_bpf(watcher, bytes(frame), pkttype=4) == SNAPLEN, name
    for name, frame in UNWANTED.items():
        assert run_bpf(node, bytes(frame)) == 0, name


def kernel_view(frame: bytes) -> tuple[bytes, bool]:
    """The frame as a packet socket's filter meets it on receive: the kernel has moved an
    outer 802.1Q / 802.1ad tag out of the data into metadata (skb_vlan_untag)."""
    if frame[12:14] in (b"\x81\x00", b"\x88\xa8"):
        return frame[:12] + frame[16:], True
    return frame, False


# A serving node's filter, for a node running IPv4 VRIDs {51, 100..110} and IPv6 VRID 7.
NODE = node_bpf_program({4: {51, *range(100, 111)}, 6: {7}})
ROUTER_ALERT = [IPOption_Router_Alert()]  # IHL 6: the VRID moves 4 bytes on


def v4_advert(
    vrid: int, version: int = 2, options: list[IPOption_Router_Alert] | None = None
) -> bytes:
    msg = VRRP(vrid=vrid) if version == 2 else VRRPv3(vrid=vrid)
    ip = IP(src="192.0.2.11", dst="224.0.0.18", ttl=255, options=options or [])
    return bytes(ETH / ip / msg)


def v6_advert(vrid: int) -> bytes:
    return bytes(Ether() / IPv6(src="fe80::1", dst="ff02::12", hlim=255) / VRRPv3(vrid=vrid))


def carp(vhid: int) -> bytes:
    return build_carp_frame(src_mac="02:00:00:00:00:11", src_ip="192.0.2.11", vhid=vhid)


NODE_KEEPS = {
    **{f"v{v} vrid {i}": v4_advert(i, v) for v in (2, 3) for i in (51, 100, 105, 110)},
    "v6 vrid 7": v6_advert(7),
    "ip options, vrid 51": v4_advert(51, options=ROUTER_ALERT),
    "ip options, v3 vrid 105": v4_advert(105, 3, options=ROUTER_ALERT),
    # Extension headers hide the VRID from the kernel: any VRID passes, user space walks them.
    "vrid 8 behind hop-by-hop": bytes(
        Ether() / IPv6(dst="ff02::12") / IPv6ExtHdrHopByHop(nh=112) / VRRPv3(vrid=8)
    ),
    "vrid 8 behind dest opts": bytes(Ether() / IPv6() / IPv6ExtHdrDestOpt(nh=112) / VRRPv3(vrid=8)),
    "vrid 8 behind a routing header": bytes(
        Ether() / IPv6() / IPv6ExtHdrRouting(nh=112) / VRRPv3(vrid=8)
    ),
    "behind AH": bytes(Ether() / IPv6(nh=51) / bytes(24)),
    # CARP is protocol 112 too, with its VHID in the VRID's byte: one whose VHID the node
    # runs passes the kernel, and user space (codec/carp.py) labels it CARP and drops it.
    "carp, vhid in the set": carp(51),
}
NODE_DROPS = {
    **{f"v{v} vrid {i}": v4_advert(i, v) for v in (2, 3) for i in (50, 52, 99, 111)},
    "v2 vrid 0": v4_advert(0),
    "v6 vrid 8": v6_advert(8),
    "v6 vrid 51 (an IPv4 VRID)": v6_advert(51),
    "v4 vrid 7 (an IPv6 VRID)": v4_advert(7),
    "ip options, vrid 52": v4_advert(52, options=ROUTER_ALERT),
    "tagged, vrid 51": bytes(ETH / Dot1Q(vlan=10) / IP(ttl=255) / VRRP(vrid=51)),
    "tagged v6, vrid 7": bytes(Ether() / Dot1Q(vlan=10) / IPv6() / VRRPv3(vrid=7)),
    "802.1ad, vrid 51": bytes(ETH / Dot1AD(vlan=10) / IP(ttl=255) / VRRP(vrid=51)),
    "qinq, vrid 51": bytes(ETH / Dot1AD(vlan=10) / Dot1Q(vlan=20) / IP(ttl=255) / VRRP(vrid=51)),
    "carp, vhid not in the set": carp(52),
    # Not VRRP, with the byte where a VRID would sit holding a wanted one.
    "udp, port 105": bytes(ETH / IP() / UDP(sport=105, dport=105)),
    "udp v6, port 7": bytes(Ether() / IPv6() / UDP(sport=7, dport=7)),
    "fragment of a vrid 7 advert": bytes(
        Ether() / IPv6() / IPv6ExtHdrFragment(nh=112) / VRRPv3(vrid=7)
    ),
    **{name: bytes(frame) for name, frame in UNWANTED.items()},
    **{f"watcher's {name}": bytes(f) for name, f in WANTED.items() if "vrrp" not in name},
}


@pytest.mark.parametrize("name", sorted(NODE_KEEPS))
def test_node_filter_keeps_its_own_vrids(name: str) -> None:
    assert kernel_view(NODE_KEEPS[name]) == (NODE_KEEPS[name], False)
    assert run_bpf(NODE, NODE_KEEPS[name]) == SNAPLEN
    assert run_bpf(NODE, NODE_KEEPS[name], pkttype=2) == SNAPLEN  # multicast, as adverts are
    assert run_bpf(NODE, NODE_KEEPS[name], pkttype=4) == 0  # unless this host sent it


@pytest.mark.parametrize("name", sorted(NODE_DROPS))
def test_node_filter_drops(name: str) -> None:
    assert run_bpf(NODE, NODE_DROPS[name]) == 0
    data, tagged = kernel_view(NODE_DROPS[name])
    assert run_bpf(NODE, data, vlan=tagged) == 0  # as received: a tag is gone from the data


def test_node_filter_keeps_of_the_watchers_frames_only_its_vrrp() -> None:
    kept = {name for name, frame in WANTED.items() if run_bpf(NODE, bytes(frame))}
    assert kept == {"vrrp v2", "vrrp v3 v6", "vrrp behind hop-by-hop", "vrrp behind dest opts"}


@pytest.mark.parametrize("v6", [{}, {6: set()}])
def test_a_family_without_vrids_is_dropped_whole(v6: dict[int, set[int]]) -> None:
    v6_frames = [f for name, f in NODE_KEEPS.items() if "v6" in name or "behind" in name]
    assert len(v6_frames) == 5  # VRID 7 and four behind extension headers
    prog = node_bpf_program({4: {51}, **v6})
    assert run_bpf(prog, v4_advert(51)) == SNAPLEN
    assert [run_bpf(prog, f) for f in v6_frames] == [0] * 5
    prog = node_bpf_program({4: set(), 6: {7}})
    assert run_bpf(prog, v6_advert(7)) == SNAPLEN
    assert run_bpf(prog, v4_advert(51)) == run_bpf(prog, v4_advert(7)) == 0
    assert not any(run_bpf(node_bpf_program({}), f) for f in NODE_KEEPS.values())


ODD = range(1, 256, 2)
# The longest program: runs of two with gaps of one cost two jumps per three VRIDs.
WORST = [v for v in range(1, 256) if v % 3]


@pytest.mark.parametrize(
    "vrids", [ODD, WORST, range(1, 256), {1}, {255}, {1, 255}, range(2, 255), {7, 8, 200}]
)
def test_every_vrid_is_decided_by_the_set(vrids: range | set[int] | list[int]) -> None:
    prog = node_bpf_program({4: vrids, 6: vrids})
    assert len(prog) <= 363 < BPF_MAXINSNS
    v4, v6 = bytearray(v4_advert(1)), bytearray(v6_advert(1))
    for vrid in range(256):
        v4[14 + 20 + 1] = v6[14 + 40 + 1] = vrid
        want = SNAPLEN if vrid in vrids else 0
        assert (run_bpf(prog, bytes(v4)), run_bpf(prog, bytes(v6))) == (want, want), vrid


def test_vrid_sets_compile_to_ranges() -> None:
    assert len(node_bpf_program({4: range(1, 256)})) < 40
    odd = node_bpf_program({4: ODD})
    assert len(odd) < BPF_MAXINSNS
    assert [run_bpf(odd, v4_advert(v)) for v in (1, 2, 255)] == [SNAPLEN, 0, SNAPLEN]
    assert len(node_bpf_program({4: WORST, 6: WORST})) == 363


@pytest.mark.parametrize(
    ("vrids", "message"),
    [({5: {1}}, "IP version 5"), ({4: {0}}, "VRID 0 out of"), ({6: {7, 256}}, "VRID 256")],
)
def test_a_bad_vrid_set_raises(vrids: dict[int, set[int]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        node_bpf_program(vrids)


NODE_SNIFFER = textwrap.dedent(
    """
    import select, socket, sys
    from hatui.adapters.capture import CaptureSocket
    cap = CaptureSocket("eth0", vrids={4: {51}})
    own = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    own.bind(("eth0", 0))
    for vrids in ({4: {52}}, None):
        own.send(bytes.fromhex(sys.argv[1]))  # this node's own advert, VRID 51 then 52
        print("ready", flush=True)
        sys.stdin.readline()  # the peer has sent
        seen = []
        while select.select([cap], [], [], 0.2)[0]:
            seen += [p.data.hex() for p in cap.read_batch()]
        print(" ".join(seen) or "-", flush=True)
        if vrids:
            cap.set_vrids(vrids)
            sys.argv[1] = sys.argv[2]
    """
)


def test_a_nodes_capture_keeps_its_vrids_and_follows_set_vrids(lab: Lab) -> None:
    """In the kernel: the node's socket gets the peer's adverts for VRID 51 (with IP options
    too), not 52, nor a tagged 51 (the kernel hands it over untagged: only the VLAN check
    stops it), nor its own; after set_vrids({4: {52}}) the other way round."""
    peer, node = lab.add_host("p", 11, silent=True), lab.add_host("n", 12, silent=True)
    frames = {
        "51": v4_advert(51),
        "52": v4_advert(52),
        "51 options": v4_advert(51, options=ROUTER_ALERT),
        "52 options": v4_advert(52, 3, options=ROUTER_ALERT),
        "tagged 51": bytes(ETH / Dot1Q(vlan=10) / IP(ttl=255) / VRRP(vrid=51)),
        "tagged 52": bytes(ETH / Dot1Q(vlan=10) / IP(ttl=255) / VRRP(vrid=52)),
    }
    own = [
        bytes(Ether(src=node.mac) / IP(src=node.ip, dst="224.0.0.18") / VRRP(vrid=v))
        for v in (51, 52)
    ]
    sniff = subprocess.Popen(
        node.argv([sys.executable, "-c", NODE_SNIFFER, own[0].hex(), own[1].hex()]),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    lab.procs.append(sniff)  # type: ignore[arg-type]
    assert sniff.stdin is not None and sniff.stdout is not None
    seen = []
    for _ in range(2):
        assert sniff.stdout.readline().strip() == "ready"
        send_frames(peer, list(frames.values()))
        sniff.stdin.write("sent\n")
        sniff.stdin.flush()
        got = sniff.stdout.readline().split()
        assert not {f.hex() for f in own} & set(got)
        seen.append(sorted(name for name, f in frames.items() if kernel_view(f)[0].hex() in got))
    assert seen == [["51", "51 options"], ["52", "52 options"]]
    assert sniff.wait(timeout=5) == 0
