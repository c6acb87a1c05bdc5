"""The shipped systemd units pass `systemd-analyze verify` and say what the node needs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require

UNITS = Path(__file__).resolve().parents[1] / "systemd"


def verify(tmp_path: Path, name: str, text: str) -> subprocess.CompletedProcess[str]:
    """Verify a copy whose ExecStart points at this machine's hatui (verify checks it exists)."""
    hatui = shutil.which("hatui")
    require(hatui is not None, "needs the hatui command installed")
    assert hatui is not None
    path = tmp_path / name
    path.write_text(text.replace("/usr/local/bin/hatui", hatui))
    return subprocess.run(
        ["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("unit", "instance"),
    [("hatui.service", "hatui.service"), ("hatui-watch@.service", "hatui-watch@eth0.service")],
)
def test_units_verify(tmp_path: Path, unit: str, instance: str) -> None:
    require(shutil.which("systemd-analyze") is not None, "needs systemd-analyze")
    out = verify(tmp_path, instance, (UNITS / unit).read_text())
    assert out.returncode == 0 and not out.stderr.strip(), out.stderr


def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    require(shutil.which("systemd-analyze") is not None, "needs systemd-analyze")
    text = (UNITS / "hatui.service").read_text().replace("Type=notify", "Type=notifyy")
    out = verify(tmp_path, "hatui.service", text)
    assert "notifyy" in out.stderr


def test_node_unit_is_a_keepalived_drop_in() -> None:
    text = (UNITS / "hatui.service").read_text()
    for line in (
        "Type=notify",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "Conflicts=keepalived.service",
        "KillMode=mixed",
    ):
        assert line in text.splitlines(), line
    assert any(x.startswith("WatchdogSec=") for x in text.splitlines())
    watch = (UNITS / "hatui-watch@.service").read_text()
    assert "CapabilityBoundingSet=CAP_NET_RAW" in watch.splitlines()  # it never transmits
