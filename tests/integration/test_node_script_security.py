"""A node runs check scripts as script_user, and refuses to start with an unsafe root script."""

from __future__ import annotations

import pwd
import subprocess
from pathlib import Path

from hatui.lab import Lab
from hatui.lab.nodes import HATUI, has_vip, start_hatui, vrrp_conf, wait_for


def _script(directory: Path, mode: int, out: Path) -> Path:
    directory.mkdir()
    directory.chmod(mode)
    path = directory / "chk.sh"
    path.write_text(f"#!/bin/sh\nid -u > {out}/uid\nexit 0\n")
    path.chmod(0o755)
    return path


def _conf(script: Path, user: str) -> str:
    text = vrrp_conf("a", 150, scripts=f"vrrp_script chk {{\n    script {script}\n}}\n")
    text = text.replace("script_user root", f"script_user {user}")
    return text.replace(
        "    virtual_ipaddress", "    track_script {\n        chk\n    }\n    virtual_ipaddress"
    )


def test_script_user_nobody_runs_the_check_as_nobody(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    lab.workdir.chmod(0o711)  # nobody must reach the script, as under /etc/keepalived
    out = lab.workdir / "out"
    out.mkdir()
    out.chmod(0o1777)
    # A world-writable directory: fine for a script that does not run as root.
    chk = _script(lab.workdir / "open", 0o777, out)
    node = start_hatui(lab, a, conf=_conf(chk, "nobody"))

    def written() -> str:
        # The shell creates the file before `id` writes to it: wait for the whole line.
        try:
            text = (out / "uid").read_text()
        except FileNotFoundError:
            return ""
        return text.strip() if text.endswith("\n") else ""

    wait_for(written, 10, "the check script to run")
    assert written() == str(pwd.getpwnam("nobody").pw_uid)
    wait_for(lambda: node.state() == "MASTER", 10, "MASTER with the check passing")


def test_unsafe_root_script_stops_the_node_at_start(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    out = lab.workdir / "out"
    out.mkdir()
    chk = _script(lab.workdir / "open", 0o777, out)
    conf = lab.workdir / "a.conf"
    conf.write_text(_conf(chk, "root"))
    control = lab.workdir / "a.sock"
    argv = [*HATUI, "--serve", "--headless", "--control", str(control), "-c", str(conf)]
    done = subprocess.run(a.argv(argv), capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2, done
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"hatui: {conf}:") and str(chk) in line, line
    assert f"{lab.workdir / 'open'} is writable by everyone" in line, line
    assert not (out / "uid").exists(), "the unsafe script ran"
    assert not control.exists() and not has_vip(lab, a)
