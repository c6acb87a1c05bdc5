"""The pcap reader hands read pages back (flat RSS) without losing or bending a record."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from hatui.adapters import pcap
from hatui.adapters.pcap import PcapReader, PcapWriter


def _frames(n: int) -> list[bytes]:
    # Odd lengths so records straddle page and release boundaries at varied offsets.
    return [bytes([i & 0xFF]) * (60 + i % 37) + i.to_bytes(4, "big") for i in range(n)]


def test_records_intact_across_release_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pcap, "_RELEASE_EVERY", 10_000)  # many releases in a small file
    frames = _frames(5_000)
    path = tmp_path / "x.pcap"
    with PcapWriter(path) as w:
        for i, f in enumerate(frames):
            w.write(1_700_000_000_000_000 + i, f)
    with PcapReader(path) as reader:
        got = [(r.time, r.data) for r in reader]
        assert reader.records == len(frames)
        assert not reader.truncated
    assert got == [(1_700_000_000_000_000 + i, f) for i, f in enumerate(frames)]


def test_truncated_file_still_reported_with_releases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pcap, "_RELEASE_EVERY", 4096)
    frames = _frames(500)
    path = tmp_path / "cut.pcap"
    with PcapWriter(path) as w:
        for i, f in enumerate(frames):
            w.write(i, f)
    path.write_bytes(path.read_bytes()[:-10])
    with PcapReader(path) as reader:
        got = [r.data for r in reader]
        assert reader.truncated
    assert got == frames[:-1]


def test_reading_a_large_file_does_not_keep_it_resident(tmp_path: Path) -> None:
    path = tmp_path / "big.pcap"
    frame = bytes(1400)
    with PcapWriter(path) as w:
        for i in range(40_000):  # 56 MB
            w.write(i, frame)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with PcapReader(path) as reader:
        assert sum(1 for _ in reader) == 40_000
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 30  # without the release it grows by the whole file (~56 MB)
