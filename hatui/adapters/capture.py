"""Live capture: a receive-only AF_PACKET socket with a kernel BPF filter for VRRP, CARP,
HSRP, GLBP, ARP and neighbour advertisements.

The socket never transmits: it is bound for receiving, joins no multicast group (that
would send IGMP/MLD reports) and uses packet-socket promiscuous membership, which the
kernel drops when the socket closes.
"""

from __future__ import annotations

import ctypes
import logging
import socket
import struct
from typing import NamedTuple

from hatui.errors import RuntimeFault
from hatui.types import WallUs

log = logging.getLogger(__name__)

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_STATISTICS = 6
PACKET_OUTGOING = 4
SO_ATTACH_FILTER = 26
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
SNAPLEN = 2048
_TIMESPEC = struct.Struct("qq")

# Classic BPF opcodes (linux/filter.h): loads of a word, half-word or byte at a fixed
# offset, of a half-word at X + k, X = 4 * (the IHL nibble at k), a jump if equal, return.
_OPS = {
    "ldw": 0x20,
    "ldh": 0x28,
    "ldb": 0x30,
    "ldhx": 0x48,
    "ldxmsh": 0xB1,
    "jeq": 0x15,
    "ret": 0x06,
}

HSRP_PORTS = (1985, 2029, 3222)  # HSRP v1/v2 over IPv4, HSRP over IPv6, GLBP


def _block(p: str, o: int) -> list[tuple[str, str, int, str, str]]:
    """The filter for one Ethernet payload starting at byte o (14, or 18 after a tag)."""
    return [
        (f"{p}", "ldh", o - 2, "", ""),
        ("", "jeq", 0x0800, f"{p}v4", f"{p}n4"),
        (f"{p}v4", "ldb", o + 9, "", ""),  # IPv4 protocol
        ("", "jeq", 112, "acc", f"{p}u4"),  # VRRP or CARP
        (f"{p}u4", "jeq", 17, f"{p}udp4", "rej"),
        (f"{p}udp4", "ldxmsh", o, "", ""),  # X = IPv4 header length
        ("", "ldhx", o + 2, "", ""),  # UDP destination port
        ("", "jeq", HSRP_PORTS[0], "acc", f"{p}u4b"),
        (f"{p}u4b", "jeq", HSRP_PORTS[1], "acc", f"{p}u4c"),  # counted as a wrong port
        (f"{p}u4c", "jeq", HSRP_PORTS[2], "acc", "rej"),
        (f"{p}n4", "jeq", 0x0806, "acc", f"{p}n6"),  # ARP
        (f"{p}n6", "jeq", 0x86DD, f"{p}v6", "tag" if not p else "rej"),
        (f"{p}v6", "ldb", o + 6, "", ""),  # IPv6 next header
        ("", "jeq", 112, "acc", f"{p}icmp"),
        (f"{p}icmp", "jeq", 58, f"{p}na", f"{p}u6"),
        (f"{p}na", "ldb", o + 40, "", ""),  # ICMPv6 type
        ("", "jeq", 136, "acc", "rej"),  # neighbour advertisement
        (f"{p}u6", "jeq", 17, f"{p}udp6", f"{p}x0"),
        (f"{p}udp6", "ldh", o + 42, "", ""),  # UDP destination port
        ("", "jeq", HSRP_PORTS[1], "acc", f"{p}u6b"),
        (f"{p}u6b", "jeq", HSRP_PORTS[0], "acc", f"{p}u6c"),  # counted as a wrong port
        (f"{p}u6c", "jeq", HSRP_PORTS[2], "acc", "rej"),
        # Extension headers (hop-by-hop, routing, destination options, AH) may hide VRRP:
        # user space walks them (codec/decode.py). Fragments are never adverts.
        (f"{p}x0", "jeq", 0, "acc", f"{p}x43"),
        (f"{p}x43", "jeq", 43, "acc", f"{p}x60"),
        (f"{p}x60", "jeq", 60, "acc", f"{p}x51"),
        (f"{p}x51", "jeq", 51, "acc", "rej"),
    ]


# The kernel's packet type (an ancillary load, SKF_AD_OFF + SKF_AD_PKTTYPE): a node drops
# the frames it sent itself before they cost a copy, a wake-up and a decode each.
_SKF_AD_PKTTYPE = (-0x1000 + 4) & 0xFFFFFFFF
_NOT_OUTGOING: list[tuple[str, str, int, str, str]] = [
    ("", "ldw", _SKF_AD_PKTTYPE, "", ""),
    ("", "jeq", PACKET_OUTGOING, "rej", "ether"),
]

# (label, op, k, true-label, false-label): untagged first, then one 802.1Q / 802.1ad tag.
_ASM: list[tuple[str, str, int, str, str]] = [
    *_block("", 14),
    ("tag", "jeq", 0x8100, "t", "ad"),
    ("ad", "jeq", 0x88A8, "t", "qq"),
    ("qq", "jeq", 0x9100, "t", "rej"),
    *_block("t", 18),
    ("acc", "ret", SNAPLEN, "", ""),
    ("rej", "ret", 0, "", ""),
]


def bpf_program(*, outgoing: bool = True) -> list[tuple[int, int, int, int]]:
    """Assemble the filter into (code, jt, jf, k) tuples; jumps are relative in classic BPF.
    Without `outgoing`, frames this host sent are rejected first."""
    asm = _ASM if outgoing else [*_NOT_OUTGOING, ("ether", *_ASM[0][1:]), *_ASM[1:]]
    where = {label: i for i, (label, *_rest) in enumerate(asm) if label}
    out = []
    for i, (_label, op, k, jt, jf) in enumerate(asm):
        t = where[jt] - i - 1 if jt else 0
        f = where[jf] - i - 1 if jf else 0
        out.append((_OPS[op], t, f, k))
    return out


def _attach_filter(sock: socket.socket, *, outgoing: bool = True) -> None:
    prog = bpf_program(outgoing=outgoing)
    raw = b"".join(struct.pack("HBBI", code, jt, jf, k) for code, jt, jf, k in prog)
    buf = ctypes.create_string_buffer(raw)
    fprog = struct.pack("HL", len(prog), ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


class Packet(NamedTuple):
    """One received frame with the kernel's receive timestamp.

    A NamedTuple: built once per frame on the live hot path, where a frozen dataclass's
    __init__ would cost a noticeable share of the per-frame budget at 51,000 adverts/s.
    """

    time: WallUs
    data: bytes
    outgoing: bool


class CaptureSocket:
    """A non-blocking receive-only packet socket on one interface. `outgoing` False (a
    node's capture) leaves out, in the kernel, the frames this host sends."""

    def __init__(self, interface: str, *, rcvbuf: int = 32 << 20, outgoing: bool = True) -> None:
        self.interface = interface
        try:
            self.ifindex = socket.if_nametoindex(interface)
        except OSError:
            raise RuntimeFault(f"interface {interface!r} does not exist") from None
        try:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        except PermissionError:
            raise RuntimeFault(
                f"capturing on {interface} needs root (or CAP_NET_RAW): run it with sudo"
            ) from None
        try:
            _attach_filter(sock, outgoing=outgoing)
            sock.bind((interface, ETH_P_ALL))
            mreq = struct.pack("iHH8s", self.ifindex, PACKET_MR_PROMISC, 0, b"")
            sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            try:
                sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)
            except PermissionError:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            raise RuntimeFault(f"cannot capture on {interface}: {exc.strerror or exc}") from None
        self.sock = sock
        self.drops = 0
        self.received = 0

    def fileno(self) -> int:
        return self.sock.fileno()

    def read_batch(self, limit: int = 512) -> list[Packet]:
        """Drain up to `limit` queued frames without blocking."""
        out: list[Packet] = []
        recvmsg = self.sock.recvmsg
        for _ in range(limit):
            try:
                data, anc, _flags, addr = recvmsg(SNAPLEN, 64)
            except BlockingIOError:
                break
            except InterruptedError:
                continue
            stamp = 0
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = _TIMESPEC.unpack_from(payload)
                    stamp = sec * 1_000_000 + nsec // 1000
            out.append(Packet(WallUs(stamp), data, addr[2] == PACKET_OUTGOING))
        return out

    def statistics(self) -> tuple[int, int]:
        """(packets, drops) since the last call, from the kernel; totals kept on self."""
        raw = self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        packets, drops = struct.unpack("II", raw)
        self.received += packets
        self.drops += drops
        return packets, drops

    def close(self) -> None:
        self.sock.close()
