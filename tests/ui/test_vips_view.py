"""The VIPs view (`v`) and the header's conflict alert over a capture of a GARP-moved VIP
with two answerers at the end (frames by scapy), read with `--vip` listing another."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from scapy.layers.l2 import ARP, Ether
from scapy.utils import wrpcap
from textual.widgets import Static

from hatui.ui.app import HatuiApp
from hatui.ui.feeds import ReplayFeed
from hatui.ui.screens.vips import VipsScreen

VIP = "192.0.2.60"
A, B = "02:00:00:00:00:0b", "02:00:00:00:00:0c"
BCAST = "ff:ff:ff:ff:ff:ff"
CLIENT = "02:00:00:00:00:0e"


def _garp(mac: str, t: float) -> Ether:
    p = Ether(src=mac, dst=BCAST) / ARP(op=1, hwsrc=mac, psrc=VIP, hwdst=BCAST, pdst=VIP)
    p.time = t
    return p


def _arp(op: int, mac: str, src: str, dst: str, t: float) -> Ether:
    p = Ether(src=mac, dst=BCAST if op == 1 else CLIENT) / ARP(
        op=op, hwsrc=mac, psrc=src, pdst=dst, hwdst="00:00:00:00:00:00" if op == 1 else CLIENT
    )
    p.time = t
    return p


@pytest.fixture
def moved_pcap(tmp_path: Path) -> str:
    t0 = 1_700_000_000.0
    pkts = [
        _arp(1, B, "192.0.2.12", "192.0.2.1", t0),  # B's own address, in its request
        _garp(A, t0 + 1),
        _garp(B, t0 + 3.5),  # a move, gap 2.5 s
    ]
    for i in range(5):  # then both answer
        t = t0 + 10 + i * 0.2
        pkts += [
            _arp(1, CLIENT, "192.0.2.14", VIP, t),
            _arp(2, A, VIP, "192.0.2.14", t + 0.001),
            _arp(2, B, VIP, "192.0.2.14", t + 0.002),
        ]
    path = str(tmp_path / "moved.pcap")
    wrpcap(path, pkts)
    return path


async def test_v_shows_each_vip_owner_move_gap_and_conflict(moved_pcap: str) -> None:
    feed = ReplayFeed(moved_pcap, vips=("192.0.2.61",))
    feed.open()
    app = HatuiApp(feed, render_s=0)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        await pilot.pause()
        header = str(app.query_one("#header").render())
        assert f"VIP CONFLICT {VIP} (v)" in header
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, VipsScreen)
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#vips-table", Static).content)
        text = " ".join(console.export_text().split())
        assert VIP in text and "announced" in text
        assert "2500.0 ms" in text  # the move's gap
        assert f"{A} vs {B}" in text or f"{B} vs {A}" in text
        assert "192.0.2.61" in text and "(not heard)" in text and "listed" in text
        await pilot.press("v")
        await pilot.pause()
        assert not isinstance(app.screen, VipsScreen)
