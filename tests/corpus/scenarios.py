"""The capture corpus, built with scapy: other vendors' first-hop redundancy as they
really behave on the wire. `python -m tests.corpus.scenarios DIR` writes the pcaps;
tests/corpus/test_oracle.py replays each through `hatui --read --json` and checks it
against what tshark reads from the same file.

Every scenario is a list of (microseconds since the epoch, frame bytes). Times are whole
milliseconds apart where a gap matters, so a gap is exact in the pcap's microseconds.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from scapy.layers.hsrp import HSRP, HSRPmd5, HSRPv2, HSRPv2TextAuth
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Ether
from scapy.layers.vrrp import VRRP
from scapy.packet import Packet, Raw

from hatui.adapters.pcap import PcapWriter
from hatui.codec.checksum import internet_checksum

T0 = 1_700_000_000_000_000
S, MS = 1_000_000, 1_000
Frames = list[tuple[int, bytes]]


def mac(n: int) -> str:
    return f"02:00:00:00:00:{n:02x}"


def every(start: int, end: int, step: int) -> Iterator[int]:
    t = start
    while t <= end:
        yield t
        t += step


# -- Cisco IOS VRRPv2 with `vrrp 20 authentication md5 key-string ...` --------------------


def cisco_md5(src: str, n: int, priority: int, digest: bytes) -> bytes:
    """Auth type 254; after the 8 bytes of auth data a key-chain TLV with the MD5 digest
    (Wireshark's layout). The v2 checksum covers the whole message, TLV included."""
    vrrp = VRRP(vrid=20, priority=priority, ipcount=1, addrlist=["192.0.2.120"], authtype=254)
    tlv = bytes((3, 25)) + (1).to_bytes(4, "big") + bytes(3) + digest
    msg = bytearray(bytes(vrrp) + tlv)
    msg[6:8] = b"\x00\x00"
    msg[6:8] = internet_checksum(bytes(msg)).to_bytes(2, "big")
    ip = IP(src=src, dst="224.0.0.18", ttl=255, proto=112, tos=0xC0)
    return bytes(Ether(src="00:00:5e:00:01:14", dst="01:00:5e:00:00:12") / ip / Raw(bytes(msg)))


def cisco_md5_failover() -> Frames:
    """R1 (.20, 110) masters; it dies at 10 s; R2 (.21, 100) takes over when its own
    timers say (Cisco: 3 x 1 s + Skew_Time, measured here 3609 ms, whole ms)."""
    frames: Frames = []
    for t in every(0, 10 * S, S):
        frames.append((T0 + t, cisco_md5("192.0.2.20", 20, 110, bytes(range(16)))))
    take = 10 * S + 3609 * MS
    for t in every(take, take + 5 * S, S):
        frames.append((T0 + t, cisco_md5("192.0.2.21", 21, 100, bytes(range(16, 32)))))
    return frames


# -- HSRP ---------------------------------------------------------------------------------


def hsrp1(src: str, n: int, state: int, prio: int, op: int = 0, *, md5: bool = False) -> bytes:
    body: Packet = HSRP(
        opcode=op,
        state=state,
        hellotime=1,
        holdtime=3,
        priority=prio,
        group=1,
        virtualIP="192.0.2.1",
    )
    if md5:
        body = body / HSRPmd5(sourceip=src, keyid=1, authdigest=bytes(16))
    src_mac = "00:00:0c:07:ac:01" if state == 16 else mac(n)
    ip = IP(src=src, dst="224.0.0.2", ttl=1) / UDP(sport=1985, dport=1985)
    return bytes(Ether(src=src_mac, dst="01:00:5e:00:00:02") / ip / body)


def hsrp_v1_election() -> Frames:
    """v1 group 1, hello 1 s hold 3 s. A (.11, 110) active, B (.12, 100) standby. A
    resigns at 10.5 s (shutdown); B takes over 12 ms later. A returns at 20 s, speaks,
    stages a coup at 23 s (preempt); B steps down to standby."""
    f: Frames = []
    A, B = "192.0.2.11", "192.0.2.12"
    for t in every(0, 10 * S, S):
        f.append((T0 + t, hsrp1(A, 11, 16, 110)))
        f.append((T0 + t + 300 * MS, hsrp1(B, 12, 8, 100)))
    f.append((T0 + 10 * S + 500 * MS, hsrp1(A, 11, 16, 110, op=2)))  # resign
    for t in every(10 * S + 512 * MS, 23 * S, S):
        f.append((T0 + t, hsrp1(B, 12, 16, 100)))
    for t in every(20 * S, 22 * S, S):
        f.append((T0 + t + 700 * MS, hsrp1(A, 11, 4, 110)))  # speak
    f.append((T0 + 23 * S + 100 * MS, hsrp1(A, 11, 16, 110, op=1)))  # coup
    for t in every(24 * S + 100 * MS, 30 * S, S):
        f.append((T0 + t, hsrp1(A, 11, 16, 110)))
    for t in every(23 * S + 600 * MS, 30 * S, S):
        f.append((T0 + t, hsrp1(B, 12, 8, 100)))
    return f


# HSRPv2's Group State TLV numbers its states 0-6 (Wireshark's packet-hsrp.c:
# HSRP2_STATE_DISABLED 0 .. HSRP2_STATE_ACTIVE 6), not v1's 0, 1, 2, 4, 8, 16. scapy's
# HSRPv2 layer labels the field with v1's names, so its numbers are given here.
V2_SPEAK, V2_STANDBY, V2_ACTIVE = 4, 5, 6
HELLO, COUP, RESIGN = 0, 1, 2


def hsrp2(
    src: str,
    n: int,
    state: int,
    prio: int,
    op: int = 0,
    *,
    v6: bool = False,
    group: int = 300,
    hello_ms: int = 300,
    hold_ms: int = 1000,
    md5: bool = False,
) -> bytes:
    """A v2 hello as Cisco IOS sends it: the Group State TLV, then the text TLV (default
    key "cisco") or, with `standby N authentication md5`, the MD5 TLV (key ID 1; the
    digest needs the key, so any 16 bytes stand for it)."""
    vip = "fe80::1" if v6 else "192.0.2.2"
    body: Packet = HSRPv2(
        opcode=op,
        state=state,
        group=group,
        identifier=mac(n),
        priority=prio,
        hellotime=hello_ms,
        holdtime=hold_ms,
        virtualIP=vip,
    )
    if md5:
        # The TLV's address field is 4 bytes: the sender's IPv4 address, zero over IPv6.
        sender = "0.0.0.0" if v6 else src
        body = body / HSRPmd5(sourceip=sender, keyid=1, authdigest=bytes(range(16)))
    elif not v6:
        body = body / HSRPv2TextAuth()
    vmac = (
        f"00:05:73:a0:0{group >> 8:x}:{group & 0xFF:02x}"
        if v6
        else f"00:00:0c:9f:f{group >> 8:x}:{group & 0xFF:02x}"
    )
    src_mac = vmac if state == V2_ACTIVE else mac(n)
    if v6:
        ip: Packet = IPv6(src=src, dst="ff02::66", hlim=255) / UDP(sport=2029, dport=2029)
        dst = "33:33:00:00:00:66"
    else:
        ip = IP(src=src, dst="224.0.0.102", ttl=1) / UDP(sport=1985, dport=1985)
        dst = "01:00:5e:00:00:66"
    return bytes(Ether(src=src_mac, dst=dst) / ip / body)


def hsrp_v2_timeout(v6: bool) -> Callable[[], Frames]:
    """v2 group 300 with millisecond timers (hello 300 ms, hold 1000 ms): the active dies
    at 6 s; the standby says Active when its hold timer runs out (1000 ms + 3 ms)."""

    def build() -> Frames:
        A, B = ("fe80::11", "fe80::12") if v6 else ("192.0.2.11", "192.0.2.12")
        f: Frames = []
        for t in every(0, 6 * S, 300 * MS):
            f.append((T0 + t, hsrp2(A, 11, V2_ACTIVE, 120, v6=v6)))
            f.append((T0 + t + 100 * MS, hsrp2(B, 12, V2_STANDBY, 100, v6=v6)))
        take = 6 * S + 1003 * MS
        for t in every(take, take + 3 * S, 300 * MS):
            f.append((T0 + t, hsrp2(B, 12, V2_ACTIVE, 100, v6=v6)))
        return f

    return build


def hsrp_v2_coup(v6: bool) -> Callable[[], Frames]:
    """v2 group 40, MD5 authentication, hello 1 s hold 3 s. A (.11, 120, preempt) active,
    B (.12, 100) standby. A reloads at 8 s: B says Active when its hold timer runs out
    (3000 ms + 4 ms). A returns, speaks at 18.2 s and 19.2 s, stages a coup at 20.1 s;
    B resigns 3 ms later, speaks, and is standby again from 21.6 s. A is shut down at
    26.3 s: it resigns, and B says Active 12 ms later."""

    def build() -> Frames:
        A, B = ("fe80::11", "fe80::12") if v6 else ("192.0.2.11", "192.0.2.12")

        def say(src: str, n: int, prio: int, state: int, op: int = HELLO) -> bytes:
            return hsrp2(
                src, n, state, prio, op, v6=v6, group=40, hello_ms=1000, hold_ms=3000, md5=True
            )

        def a(state: int, op: int = HELLO) -> bytes:
            return say(A, 11, 120, state, op)

        def b(state: int, op: int = HELLO) -> bytes:
            return say(B, 12, 100, state, op)

        f: Frames = []
        for t in every(0, 8 * S, S):
            f.append((T0 + t, a(V2_ACTIVE)))
            f.append((T0 + t + 400 * MS, b(V2_STANDBY)))
        take = 8 * S + 3004 * MS
        for t in every(take, 20 * S + 100 * MS, S):
            f.append((T0 + t, b(V2_ACTIVE)))
        for t in (18 * S + 200 * MS, 19 * S + 200 * MS):
            f.append((T0 + t, a(V2_SPEAK)))
        f.append((T0 + 20 * S + 100 * MS, a(V2_ACTIVE, COUP)))
        f.append((T0 + 20 * S + 103 * MS, b(V2_ACTIVE, RESIGN)))
        f.append((T0 + 20 * S + 600 * MS, b(V2_SPEAK)))
        for t in every(21 * S + 100 * MS, 26 * S, S):
            f.append((T0 + t, a(V2_ACTIVE)))
        for t in every(21 * S + 600 * MS, 26 * S, S):
            f.append((T0 + t, b(V2_STANDBY)))
        f.append((T0 + 26 * S + 300 * MS, a(V2_ACTIVE, RESIGN)))
        for t in every(26 * S + 312 * MS, 29 * S, S):
            f.append((T0 + t, b(V2_ACTIVE)))
        return f

    return build


# -- CARP ---------------------------------------------------------------------------------


def carp(src: str, vhid: int, advbase: int, advskew: int, demote: int = 0) -> bytes:
    """A CARP advert as OpenBSD sends it: 36 bytes, checksum over the CARP header."""
    head = (
        bytes((0x21, vhid, advskew, 7, demote, advbase, 0, 0)) + (5).to_bytes(8, "big") + bytes(20)
    )
    msg = head[:6] + internet_checksum(head).to_bytes(2, "big") + head[8:]
    ip = IP(src=src, dst="224.0.0.18", ttl=255, proto=112, tos=0x10)
    return bytes(Ether(src=f"00:00:5e:00:01:{vhid:02x}", dst="01:00:5e:00:00:12") / ip / Raw(msg))


def carp_failover() -> Frames:
    """VHID 7: A (.11, advskew 0) masters and answers ARP for 192.0.2.70 with the CARP
    MAC; A dies at 8 s; B (.12, advskew 100: 1.390625 s interval) takes over after 3 of
    its intervals (4171.875 ms, at a whole 4172 ms); A returns at 20 s and preempts."""
    A, B = "192.0.2.11", "192.0.2.12"
    f: Frames = []
    for t in every(0, 8 * S, S):
        f.append((T0 + t, carp(A, 7, 1, 0)))
    garp = Ether(src="00:00:5e:00:01:07", dst="ff:ff:ff:ff:ff:ff") / ARP(
        op=1, hwsrc="00:00:5e:00:01:07", psrc="192.0.2.70", pdst="192.0.2.70"
    )
    f.append((T0 + 10 * MS, bytes(garp)))
    take = 8 * S + 4172 * MS
    for t in every(take, 20 * S, 1_390_625):
        f.append((T0 + t, carp(B, 7, 1, 100)))
    for t in every(20 * S + 400 * MS, 26 * S, S):
        f.append((T0 + t, carp(A, 7, 1, 0)))
    return f


SCENARIOS: dict[str, Callable[[], Frames]] = {
    "cisco_md5_vrrpv2": cisco_md5_failover,
    "hsrp_v1_resign_coup": hsrp_v1_election,
    "hsrp_v2_ipv4_timeout": hsrp_v2_timeout(False),
    "hsrp_v2_ipv6_timeout": hsrp_v2_timeout(True),
    "hsrp_v2_ipv4_md5_coup": hsrp_v2_coup(False),
    "hsrp_v2_ipv6_md5_coup": hsrp_v2_coup(True),
    "carp_failover_preempt": carp_failover,
}


def write(name: str, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.pcap"
    with PcapWriter(path) as w:
        for t, data in sorted(SCENARIOS[name](), key=lambda x: x[0]):
            w.write(t, data)
    return path


# -- bad input ----------------------------------------------------------------------------


def _udp4(payload: bytes, sport: int, dport: int, dst: str = "224.0.0.102") -> bytes:
    ip = IP(src="192.0.2.66", dst=dst, ttl=1) / UDP(sport=sport, dport=dport)
    return bytes(Ether(src=mac(0x66), dst="01:00:5e:00:00:66") / ip / Raw(payload))


def bad_input() -> Frames:
    """Broken HSRP, GLBP and CARP among good frames: each is counted by its reason.

    length 3 (HSRPv1 cut, GLBP cut, CARP cut), tlv 2 (HSRPv2 TLV overrunning the
    message, a TLV chain without a group state), port 2 (HSRP over IPv6 on 1985, HSRPv2
    over IPv4 on 2029), checksum 1 (CARP)."""
    v2 = bytes(HSRPv2(group=5, state=V2_ACTIVE, virtualIP="192.0.2.5"))
    carp_ok = carp("192.0.2.31", 9, 1, 0)
    carp_bad = bytearray(carp_ok)
    carp_bad[14 + 20 + 6] ^= 0xFF
    v6_on_1985 = (
        Ether(src=mac(0x67))
        / IPv6(src="fe80::67", dst="ff02::66")
        / UDP(sport=1985, dport=1985)
        / HSRPv2(group=5, state=V2_ACTIVE, virtualIP="fe80::5")
    )
    cut_carp_ip = IP(src="192.0.2.32", dst="224.0.0.18", ttl=255, proto=112)
    bad = [
        _udp4(bytes(HSRP())[:12], 1985, 1985, "224.0.0.2"),
        _udp4(b"\x01\x00\x00", 3222, 3222),
        bytes(Ether(src=mac(0x32)) / cut_carp_ip / Raw(carp_ok[34 : 34 + 30])),
        _udp4(v2[:30], 1985, 1985),
        _udp4(b"\x09\xc8" + bytes(10), 1985, 1985),
        bytes(v6_on_1985),
        _udp4(v2, 2029, 2029),
        bytes(carp_bad),
    ]
    good = [hsrp2("192.0.2.11", 11, V2_ACTIVE, 120), carp_ok]
    return [(T0 + i * 100 * MS, data) for i, data in enumerate([*good, *bad, *good])]


SCENARIOS["bad_input"] = bad_input


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/corpus")
    for n in SCENARIOS:
        print(write(n, target))
