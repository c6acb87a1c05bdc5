"""`--vip ADDR` and `--vips FILE` with --read/--watch: addresses watched as VIPs; bad input is
one line and exit 2 (with FILE:LINE for the file)."""

from __future__ import annotations

import json
from pathlib import Path

from scapy.layers.l2 import ARP, Ether
from scapy.utils import wrpcap

from tests.test_cli import hatui, one_line_error

A = "02:00:00:00:00:0b"
CLIENT = "02:00:00:00:00:0e"


def _pcap(path: Path) -> str:
    """A client asks for 192.0.2.70 and .71; A answers both (no announcement at all)."""
    pkts = []
    for i, ip in enumerate(("192.0.2.70", "192.0.2.71", "192.0.2.72")):
        q = Ether(src=CLIENT, dst="ff:ff:ff:ff:ff:ff") / ARP(
            op=1, hwsrc=CLIENT, psrc="192.0.2.14", pdst=ip
        )
        r = Ether(src=A, dst=CLIENT) / ARP(op=2, hwsrc=A, psrc=ip, hwdst=CLIENT, pdst="192.0.2.14")
        q.time, r.time = 1_700_000_000 + i, 1_700_000_000 + i + 0.001
        pkts += [q, r]
    wrpcap(str(path), pkts)
    return str(path)


def test_listed_vips_from_flags_and_a_file(tmp_path: Path) -> None:
    pcap = _pcap(tmp_path / "asked.pcap")
    listed = tmp_path / "vips.txt"
    listed.write_text("# service addresses\n192.0.2.71  # web\n\n2001:db8::71\n")
    proc = hatui("--read", pcap, "--json", "--vip", "192.0.2.70", "--vips", str(listed))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    rows = {(v["ip"], v["interface"], v["source"], v["mac"], v["answers"]) for v in doc["vips"]}
    assert rows == {
        ("192.0.2.70", "pcap", "listed", A, 1),
        ("192.0.2.71", "pcap", "listed", A, 1),
        ("2001:db8::71", "", "listed", None, 0),  # listed, never heard
    }
    arp = {a["ip"]: (a["vip"], a.get("source")) for a in doc["arp"]}
    assert arp["192.0.2.70"] == (True, "listed")
    assert arp["192.0.2.72"] == (False, None)  # answered, not listed: an ordinary address


def test_bad_vip_flag_is_one_line() -> None:
    one_line_error(hatui("--read", "x.pcap", "--vip", "192.0.2.300"), 2, "--vip: '192.0.2.300'")


def test_bad_vips_line_names_file_and_line(tmp_path: Path) -> None:
    listed = tmp_path / "vips.txt"
    listed.write_text("192.0.2.70\n# fine\nweb-vip\n")
    one_line_error(hatui("--read", "x.pcap", "--vips", str(listed)), 2, f"{listed}:3:")


def test_vips_file_outside_watch_and_read_is_refused(tmp_path: Path) -> None:
    one_line_error(hatui("--serve", "--vips", str(tmp_path)), 2, "--vips goes with --watch")
