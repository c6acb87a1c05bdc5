"""pcap and pcapng capture files: a fast record reader, link-layer normalisation, and a writer."""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterator
from types import TracebackType
from typing import BinaryIO, NamedTuple

from hatui.errors import UsageError
from hatui.types import WallUs

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

_PCAP_MAGIC = {  # magic as read little-endian -> (byte order, units per second)
    0xA1B2C3D4: ("<", 1_000_000),
    0xD4C3B2A1: (">", 1_000_000),
    0xA1B23C4D: ("<", 1_000_000_000),
    0x4D3CB2A1: (">", 1_000_000_000),
}
_SHB = 0x0A0D0D0A
_BOM = 0x1A2B3C4D
_IDB, _SPB, _EPB, _OPB = 1, 3, 6, 2
_MAX_RECORD = 1 << 18  # no sane frame is longer: larger means a corrupt file
# Pages of the mapping already read are handed back every this many bytes: each record is
# copied out, and without this a file's pages stay in the process's RSS to its end.
_RELEASE_EVERY = 8 << 20


class PcapRecord(NamedTuple):
    """One captured frame.

    A NamedTuple rather than a frozen dataclass: it is built once per record on the
    replay hot path, and a tuple costs a fraction of a frozen dataclass's __init__.
    """

    time: WallUs
    data: bytes
    linktype: int


class PcapReader:
    """Iterate the records of a pcap or pcapng file (both byte orders, any tsresol).

    Opening checks the file and raises UsageError naming it. A record cut short at the
    end (tcpdump killed mid-write) ends the iteration and sets `truncated`.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.truncated = False
        self.records = 0
        try:
            with open(self.path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size < 24:
                    raise UsageError(f"{self.path}: not a pcap or pcapng file (too short)")
                self._buf: mmap.mmap | bytes = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as exc:
            raise UsageError(f"{self.path}: cannot read capture: {exc.strerror or exc}") from None
        magic = struct.unpack_from("<I", self._buf, 0)[0]
        if magic in _PCAP_MAGIC:
            self.format = "pcap"
        elif magic == _SHB:
            self.format = "pcapng"
        else:
            self.close()
            raise UsageError(f"{self.path}: not a pcap or pcapng file")

    def close(self) -> None:
        """Release the mapping (iteration must be finished)."""
        buf = self._buf
        self._buf = b""
        if isinstance(buf, mmap.mmap):
            buf.close()

    def __enter__(self) -> PcapReader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[PcapRecord]:
        if self.format == "pcap":
            return self._pcap()
        return self._pcapng()

    def _pcap(self) -> Iterator[PcapRecord]:
        buf = self._buf
        order, units = _PCAP_MAGIC[struct.unpack_from("<I", buf, 0)[0]]
        linktype = struct.unpack_from(order + "I", buf, 20)[0] & 0xFFFF
        head = struct.Struct(order + "IIII").unpack_from
        new = tuple.__new__
        n = len(buf)
        off = 24
        count = 0
        nano = units == 1_000_000_000
        released = 0
        while off < n:
            limit = min(n, off + _RELEASE_EVERY)
            while off < limit:
                if off + 16 > n:
                    self.truncated = True
                    break
                sec, frac, incl, _orig = head(buf, off)
                start = off + 16
                off = start + incl
                if off > n or incl > _MAX_RECORD:
                    self.truncated = True
                    break
                stamp = sec * 1_000_000 + (frac // 1000 if nano else frac)
                count += 1
                yield new(PcapRecord, (stamp, buf[start:off], linktype))
            if self.truncated:
                break
            released = _release(buf, released, off)
        self.records = count

    def _pcapng(self) -> Iterator[PcapRecord]:
        buf = self._buf
        n = len(buf)
        off = 0
        order = "<"
        # Per interface: (linktype, multiplier, divisor, offset in us) for its timestamps.
        ifaces: list[tuple[int, int, int, int]] = []
        new = tuple.__new__
        last = 0
        released = 0
        while off < n:
            if off - released >= _RELEASE_EVERY:
                released = _release(buf, released, off)
            if off + 12 > n:
                self.truncated = True
                break
            kind = struct.unpack_from(order + "I", buf, off)[0]
            if kind == _SHB:  # a palindrome: the same in either byte order
                if struct.unpack_from("<I", buf, off + 8)[0] == _BOM:
                    order = "<"
                elif struct.unpack_from(">I", buf, off + 8)[0] == _BOM:
                    order = ">"
                else:
                    self.truncated = True  # a corrupt section header: stop, like a cut file
                    break
                ifaces = []
            length = struct.unpack_from(order + "I", buf, off + 4)[0]
            end = off + length
            if length < 12 or length % 4 or end > n:
                self.truncated = True
                break
            body = off + 8
            if kind in (_EPB, _OPB):
                if kind == _EPB:
                    iface, high, low, caplen = struct.unpack_from(order + "IIII", buf, body)
                    start = body + 20
                else:
                    iface, _drops, high, low, caplen = struct.unpack_from(
                        order + "HHIII", buf, body
                    )
                    start = body + 20
                if iface >= len(ifaces) or start + caplen > end - 4:
                    self.truncated = True
                    break
                linktype, mul, div, shift = ifaces[iface]
                last = (high << 32 | low) * mul // div + shift
                self.records += 1
                yield new(PcapRecord, (last, buf[start : start + caplen], linktype))
            elif kind == _SPB:
                if not ifaces:
                    self.truncated = True
                    break
                orig = struct.unpack_from(order + "I", buf, body)[0]
                caplen = min(orig, end - 4 - (body + 4))
                self.records += 1
                # A simple packet block has no timestamp: reuse the last one seen.
                yield new(PcapRecord, (last, buf[body + 4 : body + 4 + caplen], ifaces[0][0]))
            elif kind == _IDB:
                linktype = struct.unpack_from(order + "H", buf, body)[0]
                ifaces.append((linktype, *_if_time(buf, body + 8, end - 4, order)))
            off = end


def _release(buf: mmap.mmap | bytes, done: int, upto: int) -> int:
    """Drop the mapped pages in [done, upto) from RSS (they are re-read if touched again);
    returns the new page-aligned mark."""
    upto -= upto % mmap.PAGESIZE
    if upto > done and isinstance(buf, mmap.mmap):
        buf.madvise(mmap.MADV_DONTNEED, done, upto - done)
        return upto
    return done


def _if_time(buf: mmap.mmap | bytes, off: int, end: int, order: str) -> tuple[int, int, int]:
    """(multiplier, divisor, offset in us) from an IDB's if_tsresol (9) and if_tsoffset (14)."""
    mul, div, shift = 1, 1, 0  # default resolution: microseconds
    while off + 4 <= end:
        code, size = struct.unpack_from(order + "HH", buf, off)
        if code == 0:
            break
        value = off + 4
        if code == 9 and size >= 1:
            resol = buf[value]
            exp = resol & 0x7F
            if resol & 0x80:  # 2^-exp seconds per unit
                mul, div = 1_000_000, 1 << exp
            elif exp >= 6:
                mul, div = 1, 10 ** (exp - 6)
            else:
                mul, div = 10 ** (6 - exp), 1
        elif code == 14 and size >= 8:
            shift = struct.unpack_from(order + "q", buf, value)[0] * 1_000_000
        off = value + (size + 3) // 4 * 4
    return mul, div, shift


def read_records(path: str | os.PathLike[str]) -> Iterator[PcapRecord]:
    """Records of a capture file; raises UsageError now (not on first next()) if unreadable."""
    return iter(PcapReader(path))


_ETHERTYPE_FOR_VERSION = {4: b"\x08\x00", 6: b"\x86\xdd"}
_NO_MAC = bytes(6)
_BROADCAST = b"\xff" * 6


def ethernet_frame(record: PcapRecord) -> bytes | None:
    """The record as an Ethernet frame for `decode`, or None for a link type hatui cannot read.

    Linux cooked captures (SLL, SLL2; `tcpdump -i any`) carry the sender's MAC and the
    packet type but not the destination MAC: it is synthesised (broadcast, the multicast
    MAC of the IP destination, or zeros when unknown). Raw IP captures get zero MACs.
    """
    lt = record.linktype
    data = record.data
    if lt == LINKTYPE_ETHERNET:
        return data
    if lt == LINKTYPE_LINUX_SLL:
        if len(data) < 16:
            return None
        pkttype, _hatype, halen = struct.unpack_from("!HHH", data, 0)
        addr, proto, payload = data[6 : 6 + min(halen, 8)], data[14:16], data[16:]
    elif lt == LINKTYPE_LINUX_SLL2:
        if len(data) < 20:
            return None
        proto, pkttype, halen = data[0:2], data[10], data[11]
        addr, payload = data[12 : 12 + min(halen, 8)], data[20:]
    elif lt in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6):
        kind = _ETHERTYPE_FOR_VERSION.get(data[0] >> 4) if data else None
        return None if kind is None else _NO_MAC + _NO_MAC + kind + data
    else:
        return None
    if proto[0] < 0x06:  # below 0x0600 is not an Ethernet type (802.2, CAN, ...)
        return None
    src = addr[:6] if len(addr) >= 6 else _NO_MAC
    return _cooked_dst(pkttype, proto, payload) + src + proto + payload


def _cooked_dst(pkttype: int, proto: bytes, payload: bytes) -> bytes:
    if pkttype == 1:  # PACKET_BROADCAST
        return _BROADCAST
    if pkttype == 2:  # PACKET_MULTICAST: RFC 1112 6.4 / RFC 2464 7 mapping
        if proto == b"\x08\x00" and len(payload) >= 20:
            return b"\x01\x00\x5e" + bytes((payload[17] & 0x7F,)) + payload[18:20]
        if proto == b"\x86\xdd" and len(payload) >= 40:
            return b"\x33\x33" + payload[36:40]
    return _NO_MAC


class PcapWriter:
    """Write a classic pcap file (microsecond stamps), for tests and benchmarks."""

    def __init__(
        self,
        target: str | os.PathLike[str] | BinaryIO,
        *,
        linktype: int = LINKTYPE_ETHERNET,
        snaplen: int = 65535,
    ) -> None:
        if isinstance(target, (str, os.PathLike)):
            self._fh: BinaryIO = open(target, "wb")  # noqa: SIM115 - closed by close()
            self._owned = True
        else:
            self._fh = target
            self._owned = False
        self._fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        self._head = struct.Struct("<IIII")

    def write(self, time: WallUs | int, data: bytes) -> None:
        """Append one record stamped `time` (microseconds since the epoch)."""
        sec, usec = divmod(time, 1_000_000)
        self._fh.write(self._head.pack(sec, usec, len(data), len(data)) + data)

    def close(self) -> None:
        if self._owned:
            self._fh.close()
        else:
            self._fh.flush()

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
