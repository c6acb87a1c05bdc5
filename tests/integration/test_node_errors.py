"""A node that cannot start says so in one line, exits with the right code, leaves nothing."""

from __future__ import annotations

import subprocess

from hatui.lab import Lab
from hatui.lab.nodes import HATUI, VIP, flags, has_vip
from tests.conftest import require_root


def _run_in(lab: Lab, ns_argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(ns_argv, capture_output=True, text=True, timeout=20, check=False)


def test_serve_on_missing_interface(lab: Lab) -> None:
    require_root()
    a = lab.add_host("a", 11)
    control = lab.workdir / "a.sock"
    argv = [*HATUI, "--serve", "--headless", "--control", str(control)]
    args = flags(150)
    args[args.index("eth0")] = "eth9"
    done = _run_in(lab, a.argv([*argv, *args, "--duration", "2"]))
    assert done.returncode == 1, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "eth9" in lines[0], done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not control.exists(), "a control socket was left behind"
    assert not has_vip(lab, a)
    assert "hatui" not in lab.sh(a, "ip -o addr show"), "an address with hatui's label"


def test_malformed_config_names_file_and_line(lab: Lab) -> None:
    require_root()
    a = lab.add_host("a", 11)
    conf = lab.workdir / "bad.conf"
    conf.write_text(
        "vrrp_instance VI_1 {\n"
        "    interface eth0\n"
        "    virtual_router_id 51\n"
        "    priority 400\n"
        f"    virtual_ipaddress {{\n        {VIP}/24\n    }}\n"
        "}\n"
    )
    control = lab.workdir / "a.sock"
    for mode in (["--serve", "--headless", "--control", str(control)], ["--config-test"]):
        done = _run_in(lab, a.argv([*HATUI, *mode, "-c", str(conf)]))
        assert done.returncode == 2, done
        first = done.stderr.strip().splitlines()[0]
        assert first.startswith(f"{conf}:4:") or f"{conf}:4:" in first, done.stderr
        assert "Traceback" not in done.stderr
    assert not control.exists()
    assert not has_vip(lab, a)
