"""The replay loop's shortcuts (feed_frame, inline link-type test) change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from hatui.adapters.pcap import LINKTYPE_RAW, PcapReader, PcapWriter, ethernet_frame
from hatui.codec.build import build_garp_frame, build_vrrp_frame
from hatui.codec.decode import decode
from hatui.codec.frames import Captured, Family
from hatui.observe.observer import Observer
from hatui.runtime.replay import replay
from hatui.types import WallUs

MAC_A, MAC_B = "02:00:00:00:00:11", "02:00:00:00:00:12"


def _frames() -> list[tuple[int, bytes]]:
    t0 = 1_700_000_000_000_000
    out = []
    for i in range(40):  # A masters, dies at 20; B takes over 3.6 s later
        who, ip = (MAC_A, "192.0.2.11") if i < 20 else (MAC_B, "192.0.2.12")
        prio = 150 if i < 20 else 100
        t = t0 + i * 1_000_000 + (2_609_375 if i >= 20 else 0)
        v4 = build_vrrp_frame(
            src_mac=who, src_ip=ip, vrid=7, priority=prio, addresses=["192.0.2.100"], ident=i
        )
        v6 = build_vrrp_frame(
            src_mac=who,
            src_ip=f"fe80::{ip.rsplit('.', 1)[1]}",
            vrid=7,
            priority=prio,
            addresses=["2001:db8::100"],
            family=Family.IPV6,
        )
        out += [(t, v4), (t + 10, v6)]
        if i == 20:
            out.append((t + 20, build_garp_frame(mac=MAC_B, ip="192.0.2.100")))
    out.append(
        (
            t0 + 50_000_000,
            build_vrrp_frame(
                src_mac=MAC_A, src_ip="192.0.2.11", vrid=7, addresses=["192.0.2.100"], ttl=254
            ),
        )
    )
    return out


def _reference(path: Path) -> object:
    obs = Observer()
    last = 0
    with PcapReader(path) as reader:
        for record in reader:
            data = ethernet_frame(record)
            if data is None:
                continue
            frame = decode(data)
            last = record.time
            if frame is not None:
                obs.feed(Captured(time=record.time, interface="pcap", frame=frame))
    obs.tick(WallUs(last))
    return obs.snapshot(WallUs(last))


@pytest.mark.parametrize("raw", [False, True])
def test_replay_matches_the_plain_loop(tmp_path: Path, raw: bool) -> None:
    path = tmp_path / "c.pcap"
    with PcapWriter(path, linktype=LINKTYPE_RAW if raw else 1) as w:
        for t, f in _frames():
            if raw and f[12:14] == b"\x08\x06":
                continue  # ARP has no raw-IP form
            w.write(t, f[14:] if raw else f)
    result = replay(str(path))
    assert result.snapshot == _reference(path)
    assert len(result.snapshot.failovers) == 2  # both families saw A -> B
    assert result.snapshot.counters.rejected["ttl"] == 1
