"""The architecture holds: pure layers import no I/O, the watch path cannot transmit."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHECK = """
import sys
import hatui.cli, hatui.headless, hatui.runtime.watch, hatui.runtime.replay
import hatui.adapters.capture, hatui.adapters.pcap
{extra}
bad = sorted(m for m in sys.modules if m in {forbidden!r})
print(",".join(bad))
"""


def loaded(extra: str, forbidden: set[str]) -> list[str]:
    code = CHECK.format(extra=extra, forbidden=forbidden)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def test_watch_path_never_loads_transmit_or_netlink() -> None:
    forbidden = {
        "hatui.adapters.transmit",
        "hatui.adapters.netlink",
        "hatui.runtime.serve",
        "hatui.runtime.nodeio",
        "pyroute2",
    }
    assert loaded("", forbidden) == []


def test_the_check_itself_can_fail() -> None:
    # Guard against a vacuous test: importing serve does pull in the transmit adapter.
    assert "hatui.adapters.transmit" in loaded(
        "import hatui.runtime.serve", {"hatui.adapters.transmit"}
    )


def test_pure_layers_load_no_io_libraries() -> None:
    code = (
        "import sys\nimport hatui.codec.decode, hatui.codec.build, hatui.observe.observer, "
        "hatui.observe.report, hatui.vrrp.machine, hatui.vrrp.sim, hatui.haproxy.join, "
        "hatui.haproxy.events, hatui.haproxy.report, hatui.fleet.parse, hatui.fleet.report\n"
        "print(','.join(sorted(m for m in ('textual','rich','scapy','pyroute2','asyncio') "
        "if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_import_linter_contracts_hold() -> None:
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter not installed")
    proc = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "0 broken" in proc.stdout
