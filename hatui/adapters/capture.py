"""Live capture: a receive-only AF_PACKET socket with a kernel BPF filter: the watcher's
(VRRP, CARP, HSRP, GLBP, ARP and neighbour advertisements) or a node's (only the VRRP
adverts of the VRIDs it runs).

The socket never transmits: it is bound for receiving, joins no multicast group (that
would send IGMP/MLD reports) and uses packet-socket promiscuous membership, which the
kernel drops when the socket closes.
"""

from __future__ import annotations

import ctypes
import logging
import socket
import struct
from collections.abc import Collection, Mapping
from typing import NamedTuple

from hatui.errors import RuntimeFault
from hatui.types import WallUs

log = logging.getLogger(__name__)

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_STATISTICS = 6
PACKET_IGNORE_OUTGOING = 23
PACKET_OUTGOING = 4
SO_ATTACH_FILTER = 26
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
SNAPLEN = 2048
_TIMESPEC = struct.Struct("qq")

# Classic BPF opcodes (linux/filter.h): loads of a word, half-word or byte at a fixed
# offset, of a half-word or byte at X + k, X = 4 * (the IHL nibble at k), jumps if A equals,
# is at least or is above k, return.
_OPS = {
    "ldw": 0x20,
    "ldh": 0x28,
    "ldb": 0x30,
    "ldhx": 0x48,
    "ldbx": 0x50,
    "ldxmsh": 0xB1,
    "jeq": 0x15,
    "jge": 0x35,
    "jgt": 0x25,
    "ret": 0x06,
}
BPF_MAXINSNS = 4096  # the kernel refuses a longer classic program

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
# Whether the frame came with a VLAN tag (SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT). The kernel
# moves the outer tag of a received frame into metadata before packet sockets and their
# filters see it (skb_vlan_untag, or the NIC's VLAN offload), so the EtherType at 12 of a
# tagged frame reads as the inner one: only this load tells the two apart.
_SKF_AD_VLAN_TAG_PRESENT = (-0x1000 + 48) & 0xFFFFFFFF

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


def _assemble(asm: list[tuple[str, str, int, str, str]]) -> list[tuple[int, int, int, int]]:
    """(code, jt, jf, k) tuples; jumps are relative and forward only, and one byte each in
    classic BPF, so a jump longer than 255 instructions is a bug in the layout, not a frame."""
    where = {label: i for i, (label, *_rest) in enumerate(asm) if label}
    out = []
    for i, (_label, op, k, jt, jf) in enumerate(asm):
        t = where[jt] - i - 1 if jt else 0
        f = where[jf] - i - 1 if jf else 0
        assert 0 <= t <= 255 and 0 <= f <= 255, f"jump out of reach at {i}: {asm[i]}"
        out.append((_OPS[op], t, f, k))
    assert len(out) <= BPF_MAXINSNS, len(out)
    return out


def bpf_program(*, outgoing: bool = True) -> list[tuple[int, int, int, int]]:
    """The watcher's filter. Without `outgoing`, frames this host sent are rejected first."""
    return _assemble(_ASM if outgoing else [*_NOT_OUTGOING, ("ether", *_ASM[0][1:]), *_ASM[1:]])


def _ranges(vrids: Collection[int]) -> list[tuple[int, int]]:
    """Sorted VRIDs as runs of consecutive ones, (low, high) inclusive."""
    runs: list[tuple[int, int]] = []
    for v in sorted(set(vrids)):
        if runs and runs[-1][1] == v - 1:
            runs[-1] = (runs[-1][0], v)
        else:
            runs.append((v, v))
    return runs


def _vrid_in(p: str, vrids: Collection[int]) -> list[tuple[str, str, int, str, str]]:
    """A holds a VRID: jump to {p}acc if it is in the set, else to {p}rej. The runs are
    tested in ascending order, so A is above every earlier run when a run is reached: below
    its low end means in a gap (reject), not above its high end means inside (accept). A
    single VRID costs one jump, a run two, whatever its length (1..255 is two)."""
    runs = _ranges(vrids)
    asm: list[tuple[str, str, int, str, str]] = []
    for i, (lo, hi) in enumerate(runs):
        here, nxt = f"{p}r{i}", f"{p}r{i + 1}" if i + 1 < len(runs) else f"{p}rej"
        if lo == hi:
            asm.append((here, "jeq", lo, f"{p}acc", nxt))
        else:
            asm.append((here, "jge", lo, f"{here}hi", f"{p}rej"))
            asm.append((f"{here}hi", "jgt", hi, nxt, f"{p}acc"))
    return [*asm, (f"{p}acc", "ret", SNAPLEN, "", ""), (f"{p}rej", "ret", 0, "", "")]


def _node_v4(vrids: Collection[int]) -> list[tuple[str, str, int, str, str]]:
    """IPv4 VRRP (protocol 112) with a wanted VRID: the byte after the version/type byte,
    behind an IP header whose length the IHL nibble gives (options make it longer)."""
    return [
        ("v4", "ldb", 14 + 9, "", ""),  # IPv4 protocol
        ("", "jeq", 112, "v4id", "v4rej"),
        ("v4id", "ldxmsh", 14, "", ""),  # X = IPv4 header length
        # The VRID. CARP (also protocol 112) has its VHID in this byte: a CARP frame whose
        # VHID the node runs passes, and user space drops it (codec/carp.py tells CARP from
        # VRRPv2 by length and authlen, which one byte compare here cannot).
        ("", "ldbx", 14 + 1, "", ""),
        *_vrid_in("v4", vrids),
    ]


def _node_v6(vrids: Collection[int]) -> list[tuple[str, str, int, str, str]]:
    """IPv6 VRRP (next header 112) with a wanted VRID. Extension headers that may hide VRRP
    (hop-by-hop, routing, destination options, AH) pass whatever follows: user space walks
    them (codec/decode.py). Fragments and everything else are rejected."""
    return [
        ("v6", "ldb", 14 + 6, "", ""),  # IPv6 next header
        ("", "jeq", 112, "v6id", "x0"),
        ("x0", "jeq", 0, "v6acc", "x43"),
        ("x43", "jeq", 43, "v6acc", "x60"),
        ("x60", "jeq", 60, "v6acc", "x51"),
        ("x51", "jeq", 51, "v6acc", "v6rej"),
        ("v6id", "ldb", 14 + 40 + 1, "", ""),  # VRID
        *_vrid_in("v6", vrids),
    ]


def node_bpf_program(vrids: Mapping[int, Collection[int]]) -> list[tuple[int, int, int, int]]:
    """A serving node's filter: only the VRRP adverts its state machines consume, keyed by
    IP version (4, 6) to the VRIDs it runs in that family on this interface. Frames this
    host sent, tagged frames (a VLAN is its own interface) and a family without VRIDs are
    rejected. At most 363 instructions whatever the sets (the kernel allows 4096): both
    families at their worst, runs of two VRIDs with gaps of one. Raises ValueError for a
    version other than 4 or 6 or a VRID outside 1..255."""
    for family, ids in vrids.items():
        if family not in (4, 6):
            raise ValueError(f"IP version {family} is neither 4 nor 6")
        if bad := sorted(v for v in ids if not 1 <= v <= 255):
            raise ValueError(f"VRID {bad[0]} out of 1..255")
    v4, v6 = vrids.get(4, ()), vrids.get(6, ())
    return _assemble(
        [
            *_NOT_OUTGOING,
            ("ether", "ldw", _SKF_AD_VLAN_TAG_PRESENT, "", ""),
            ("", "jeq", 0, "untagged", "rej"),
            # The EtherType. A second tag (QinQ), or a first one the kernel left in place,
            # reads 0x8100 / 0x88a8 here and fails both.
            ("untagged", "ldh", 12, "", ""),
            ("", "jeq", 0x0800, "v4" if v4 else "rej", "n6"),
            ("n6", "jeq", 0x86DD, "v6" if v6 else "rej", "rej"),
            ("rej", "ret", 0, "", ""),
            *(_node_v4(v4) if v4 else []),
            *(_node_v6(v6) if v6 else []),
        ]
    )


def _attach_filter(sock: socket.socket, prog: list[tuple[int, int, int, int]]) -> None:
    """SO_ATTACH_FILTER swaps the socket's program atomically: every frame meets one whole
    program, the old or the new (frames already queued stay queued)."""
    raw = b"".join(struct.pack("HBBI", code, jt, jf, k) for code, jt, jf, k in prog)
    buf = ctypes.create_string_buffer(raw)
    fprog = struct.pack("HL", len(prog), ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


class Packet(NamedTuple):
    """One received frame with the kernel's receive timestamp.

    A NamedTuple: built once per frame on the live hot path, where a frozen dataclass's
    __init__ would cost a noticeable share of the per-frame budget at full advert rate.
    """

    time: WallUs
    data: bytes
    outgoing: bool


def _ignore_outgoing(sock: socket.socket) -> None:
    """Leave this socket out of the host's transmit path (Linux 4.20+): the kernel then
    neither clones nor filters, in the sender's context, a frame it would only reject. On
    an older kernel the filter's outgoing check still drops them, a little later."""
    try:
        sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    except OSError:
        log.debug("PACKET_IGNORE_OUTGOING not supported; the filter drops outgoing frames")


class CaptureSocket:
    """A non-blocking receive-only packet socket on one interface. `outgoing` False leaves
    out, in the kernel, the frames this host sends. With `vrids` (a serving node's capture:
    IP version to the VRIDs it runs here) the kernel keeps only those VRRP adverts, and
    never the host's own, whatever `outgoing` says."""

    def __init__(
        self,
        interface: str,
        *,
        rcvbuf: int = 32 << 20,
        outgoing: bool = True,
        vrids: Mapping[int, Collection[int]] | None = None,
    ) -> None:
        self.interface = interface
        try:
            self.ifindex = socket.if_nametoindex(interface)
        except OSError:
            raise RuntimeFault(f"interface {interface!r} does not exist") from None
        prog = bpf_program(outgoing=outgoing) if vrids is None else node_bpf_program(vrids)
        try:
            # Protocol 0: nothing is queued until the bind below, which comes after the
            # filter (a socket opened for ETH_P_ALL hears every interface, unfiltered, at once).
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        except PermissionError:
            raise RuntimeFault(
                f"capturing on {interface} needs root (or CAP_NET_RAW): run it with sudo"
            ) from None
        try:
            _attach_filter(sock, prog)
            sock.bind((interface, ETH_P_ALL))  # CPython converts it to network order
            mreq = struct.pack("iHH8s", self.ifindex, PACKET_MR_PROMISC, 0, b"")
            sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            if not outgoing or vrids is not None:
                _ignore_outgoing(sock)
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

    def set_vrids(self, vrids: Mapping[int, Collection[int]]) -> None:
        """Keep only these VRIDs from now on (a node reload added or removed instances). The
        new program replaces the old at once; frames queued before it stay, so user space
        still drops a VRID it no longer runs."""
        prog = node_bpf_program(vrids)
        try:
            _attach_filter(self.sock, prog)
        except OSError as exc:
            raise RuntimeFault(
                f"cannot filter on {self.interface}: {exc.strerror or exc}"
            ) from None

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
