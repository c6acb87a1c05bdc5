"""The pcap adapter: classic pcap and pcapng, byte orders, resolutions, cooked links, damage."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from hatui.adapters.pcap import (
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_RAW,
    PcapReader,
    PcapRecord,
    PcapWriter,
    ethernet_frame,
    read_records,
)
from hatui.codec.build import build_garp_frame, build_vrrp_frame
from hatui.codec.decode import decode
from hatui.codec.frames import ArpFrame, VrrpAdvert
from hatui.errors import UsageError

MAC = "02:00:00:00:00:11"
ADVERT = build_vrrp_frame(src_mac=MAC, src_ip="192.0.2.11", vrid=51, addresses=["192.0.2.100"])
GARP = build_garp_frame(mac=MAC, ip="192.0.2.100")
T0 = 1_700_000_000_123_456


def test_writer_then_reader(tmp_path: Path) -> None:
    path = tmp_path / "a.pcap"
    with PcapWriter(path) as w:
        w.write(T0, ADVERT)
        w.write(T0 + 1_000_000, GARP)
    reader = PcapReader(path)
    records = list(reader)
    assert records == [
        PcapRecord(T0, ADVERT, LINKTYPE_ETHERNET),
        PcapRecord(T0 + 1_000_000, GARP, LINKTYPE_ETHERNET),
    ]
    assert not reader.truncated and reader.records == 2
    reader.close()
    assert isinstance(decode(records[0].data), VrrpAdvert)


def pcap_bytes(order: str, magic: int, frac: int, frames: list[bytes], linktype: int = 1) -> bytes:
    out = struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)
    for data in frames:
        out += struct.pack(order + "IIII", 1_700_000_000, frac, len(data), len(data)) + data
    return out


@pytest.mark.parametrize("order", ["<", ">"])
def test_nanosecond_and_big_endian(tmp_path: Path, order: str) -> None:
    path = tmp_path / "ns.pcap"
    path.write_bytes(pcap_bytes(order, 0xA1B23C4D, 123_456_789, [ADVERT]))
    [rec] = read_records(path)
    assert rec.time == 1_700_000_000_123_456 and rec.data == ADVERT
    path.write_bytes(pcap_bytes(order, 0xA1B2C3D4, 654_321, [GARP]))
    [rec] = read_records(path)
    assert rec.time == 1_700_000_000_654_321 and rec.data == GARP


def test_truncated_last_record(tmp_path: Path) -> None:
    path = tmp_path / "cut.pcap"
    whole = pcap_bytes("<", 0xA1B2C3D4, 0, [ADVERT, GARP, ADVERT])
    for cut in (5, 16 + 10):  # inside the last header, inside the last data
        path.write_bytes(whole[: len(whole) - len(ADVERT) - 16 + cut])
        reader = PcapReader(path)
        assert [r.data for r in reader] == [ADVERT, GARP]
        assert reader.truncated and reader.records == 2
        reader.close()


def test_usage_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pcap"
    with pytest.raises(UsageError, match=r"nope\.pcap") as err:
        read_records(missing)
    assert err.value.exit_code == 2 and "\n" not in str(err.value)
    garbage = tmp_path / "garbage.pcap"
    garbage.write_bytes(b"this is not a capture file at all, just text\n" * 3)
    with pytest.raises(UsageError, match=r"garbage\.pcap: not a pcap"):
        read_records(garbage)
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    with pytest.raises(UsageError, match=r"empty\.pcap"):
        read_records(empty)
    with pytest.raises(UsageError, match="cannot read"):
        read_records(tmp_path)  # a directory


def block(order: str, kind: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    n = len(body) + 12
    return struct.pack(order + "II", kind, n) + body + struct.pack(order + "I", n)


def shb(order: str) -> bytes:
    return block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(order: str, linktype: int, tsresol: int | None = None, offset_s: int = 0) -> bytes:
    opts = b""
    if tsresol is not None:
        opts += struct.pack(order + "HHB3x", 9, 1, tsresol)
    if offset_s:
        opts += struct.pack(order + "HHq", 14, 8, offset_s)
    if opts:
        opts += struct.pack(order + "HH", 0, 0)
    return block(order, 1, struct.pack(order + "HHI", linktype, 0, 65535) + opts)


def epb(order: str, iface: int, ts: int, data: bytes) -> bytes:
    head = struct.pack(order + "IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
    return block(order, 6, head + data)


def spb(order: str, data: bytes) -> bytes:
    return block(order, 3, struct.pack(order + "I", len(data)) + data)


@pytest.mark.parametrize("order", ["<", ">"])
def test_pcapng_blocks_and_resolutions(tmp_path: Path, order: str) -> None:
    content = (
        shb(order)
        + idb(order, 1)  # default microseconds
        + idb(order, 1, tsresol=9)  # nanoseconds
        + idb(order, 1, tsresol=0x80 | 10, offset_s=100)  # 2^-10 s units, +100 s
        + block(order, 5, b"statistics are skipped")
        + epb(order, 0, T0, ADVERT)
        + epb(order, 1, T0 * 1000 + 999, GARP)
        + epb(order, 2, 1024 * 5 + 512, ADVERT)
        + spb(order, GARP)
    )
    path = tmp_path / "x.pcapng"
    path.write_bytes(content)
    reader = PcapReader(path)
    assert reader.format == "pcapng"
    records = list(reader)
    assert [r.time for r in records] == [T0, T0, 105_500_000, 105_500_000]
    assert [r.data for r in records] == [ADVERT, GARP, ADVERT, GARP]
    assert not reader.truncated
    reader.close()


def test_pcapng_second_section_switches_byte_order(tmp_path: Path) -> None:
    content = shb("<") + idb("<", 1) + epb("<", 0, 1, ADVERT)
    content += shb(">") + idb(">", LINKTYPE_RAW) + epb(">", 0, 2, ADVERT[14:])
    path = tmp_path / "two.pcapng"
    path.write_bytes(content)
    records = list(read_records(path))
    assert [(r.time, r.linktype) for r in records] == [(1, 1), (2, LINKTYPE_RAW)]
    assert ethernet_frame(records[1]) is not None


def test_pcapng_truncated_last_block(tmp_path: Path) -> None:
    content = shb("<") + idb("<", 1) + epb("<", 0, 1, ADVERT) + epb("<", 0, 2, GARP)
    path = tmp_path / "cut.pcapng"
    path.write_bytes(content[:-7])
    reader = PcapReader(path)
    assert [r.data for r in reader] == [ADVERT]
    assert reader.truncated
    reader.close()


def sll(pkttype: int, frame: bytes) -> bytes:
    return struct.pack("!HHH8s", pkttype, 1, 6, frame[6:12] + b"\0\0") + frame[12:]


def sll2(pkttype: int, frame: bytes) -> bytes:
    return (
        frame[12:14]
        + struct.pack("!HIHBB8s", 0, 3, 1, pkttype, 6, frame[6:12] + b"\0\0")
        + frame[14:]
    )


def test_cooked_captures_decode() -> None:
    cooked = PcapRecord(0, sll(2, ADVERT), LINKTYPE_LINUX_SLL)  # type: ignore[arg-type]
    frame = ethernet_frame(cooked)
    assert frame == ADVERT  # multicast destination MAC restored from the group
    cooked2 = PcapRecord(0, sll2(1, GARP), LINKTYPE_LINUX_SLL2)  # type: ignore[arg-type]
    frame2 = ethernet_frame(cooked2)
    assert frame2 is not None
    got = decode(frame2)
    assert isinstance(got, ArpFrame) and got.link.src_mac == MAC
    assert got.link.dst_mac == "ff:ff:ff:ff:ff:ff"
    outgoing = ethernet_frame(PcapRecord(0, sll(4, ADVERT), LINKTYPE_LINUX_SLL))  # type: ignore[arg-type]
    assert outgoing is not None and outgoing[:6] == bytes(6)
    assert ethernet_frame(PcapRecord(0, b"\x00" * 10, LINKTYPE_LINUX_SLL)) is None  # type: ignore[arg-type]
    assert ethernet_frame(PcapRecord(0, ADVERT, 147)) is None  # type: ignore[arg-type]


def test_tcpdump_can_read_our_file(tmp_path: Path) -> None:
    import shutil
    import subprocess

    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump not installed")
    path = tmp_path / "w.pcap"
    with PcapWriter(path) as w:
        w.write(T0, ADVERT)
    out = subprocess.run(
        ["tcpdump", "-nn", "-r", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "VRRPv3" in out and "vrid 51" in out
