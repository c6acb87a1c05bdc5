"""tshark as the oracle, with its own labels: each field's value as tshark shows it and the
name its dissector gives that value ("State: Active (6)" gives label "Active", show "6").

`-T fields` prints only the number of an enumerated field, and a test that maps numbers
to names itself shares whatever mistake the code under test makes; PDML carries the
dissector's label with the value.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

HAVE_TSHARK = shutil.which("tshark") is not None
_LABELLED = re.compile(r"^(?P<label>.*) \((?P<num>\d+)\)$")


@dataclass(frozen=True)
class Field:
    show: str  # the value as tshark prints it ("6", "192.0.2.11")
    label: str  # the dissector's name for it ("Active", "Unknown", "Good")


def packets(path: Path, names: set[str], *decode_as: str) -> list[dict[str, Field]]:
    """For each frame, the first occurrence of each named field tshark decodes in it."""
    argv = ["tshark", "-r", str(path), "-T", "pdml"]
    for d in decode_as:
        argv += ["-d", d]
    xml = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    out: list[dict[str, Field]] = []
    for packet in ET.fromstring(xml).iter("packet"):
        found: dict[str, Field] = {}
        for node in packet.iter("field"):
            name = node.get("name", "")
            if name not in names or name in found:
                continue
            show = node.get("show", "")
            value = node.get("showname", "").split(": ", 1)[-1]
            m = _LABELLED.match(value)
            found[name] = Field(show=show, label=m["label"] if m else value or show)
        out.append(found)
    return out


def write_pcap(path: Path, frames: list[bytes]) -> Path:
    """Ethernet frames one second apart, in libpcap's format (global header, records),
    written here so that no hatui code stands between a test's bytes and tshark."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, data in enumerate(frames):
        out.append(struct.pack("<IIII", 1_700_000_000 + i, 0, len(data), len(data)) + data)
    path.write_bytes(b"".join(out))
    return path
