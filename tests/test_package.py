"""The package as a user installs it: a wheel in a clean venv, runtime dependencies only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hatui import __version__
from hatui.ui import scenario

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def run(argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    # A PYTHONPATH naming a source tree (with its editable install's metadata) would make the
    # clean venv's pip find hatui already installed and skip it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env, **kw)  # type: ignore[call-overload]


def test_wheel_in_a_clean_venv(tmp_path: Path) -> None:
    built = run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"),
         str(ROOT)],
        cwd=tmp_path,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("hatui-*.whl")
    venv = tmp_path / "venv"
    assert run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    pip = run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(wheel)]
    )
    assert pip.returncode == 0, pip.stderr
    hatui = str(venv / "bin" / "hatui")
    out = run([hatui, "--version"], cwd=tmp_path)
    assert out.stdout.strip() == f"hatui {__version__}", out.stderr
    conf = tmp_path / "keepalived.conf"
    conf.write_text(
        "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 100\n"
        "  virtual_ipaddress {\n    192.0.2.100/24\n  }\n}\n"
    )
    out = run([hatui, "-c", str(conf), "--config-test"], cwd=tmp_path)
    assert out.returncode == 0 and "OK, 1 instance(s): VI_1" in out.stdout, out.stderr
    pcap = tmp_path / "pair.pcap"
    scenario.write_pcap(str(pcap), scenario.PAIR_STREAMS)
    out = run([hatui, "--read", str(pcap), "--json"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert {f["cause"] for f in doc["failovers"]} >= {"release", "preempt"}
    # The console's stylesheet ships, and nothing of the developer tools does.
    py = str(venv / "bin" / "python")
    probe = (
        "import hatui.ui.app, importlib.resources as r;"
        "print(r.files('hatui.ui').joinpath('hatui.tcss').is_file())"
    )
    assert run([py, "-c", probe], cwd=tmp_path).stdout.strip() == "True"
    assert run([py, "-c", "import pytest"], cwd=tmp_path).returncode != 0
