"""Promise 5: bad local input gets one clear line and the right exit code; a live node shrugs.

Parser-level cases (include loops, huge numbers, non-UTF-8, unterminated blocks, missing
files) are tests/config/test_errors.py; flags tests/test_cli.py; the control protocol with
a fake node tests/adapters/test_control.py. Here the same inputs go end to end: through
the `hatui` command, and against a live node's 0600 control socket.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hatui.lab import Lab
from hatui.lab.faults import start_node, wait_converged
from hatui.lab.nodes import flags, has_vip
from tests.conftest import require_root

HATUI = [sys.executable, "-m", "hatui"]
GOOD = """vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        192.0.2.100/24
    }
}
"""


def _write(tmp_path: Path, case: str) -> Path:
    main = tmp_path / "main.conf"
    if case == "include_loop":
        (tmp_path / "b.conf").write_text(f"include {main}\n")
        main.write_text(f"include {tmp_path / 'b.conf'}\n{GOOD}")
    elif case == "huge_number":
        main.write_text(GOOD.replace("priority 100", "priority 99999999999999999999999999"))
    elif case == "non_utf8":
        main.write_bytes(GOOD.encode().replace(b"VI_1", b"VI_\xff\xfe"))
    elif case == "unterminated":
        main.write_text(GOOD.rstrip().rstrip("}"))
    elif case == "missing_include":
        main.write_text(f"include {tmp_path / 'nope.conf'}\n{GOOD}")
    return main


CASES = ["include_loop", "huge_number", "non_utf8", "unterminated", "missing_include"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("mode", ["--config-test", "--serve"])
def test_hostile_config_is_one_line_exit_2(tmp_path: Path, case: str, mode: str) -> None:
    path = _write(tmp_path, case)
    extra = ["--headless", "--control", str(tmp_path / "s.sock")] if mode == "--serve" else []
    done = subprocess.run(
        [*HATUI, "-c", str(path), mode, *extra], capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert str(tmp_path) in lines[0] and ":" in lines[0], lines[0]


def test_live_node_shrugs_off_bad_control_input(lab: Lab) -> None:
    require_root()
    a = lab.add_host("a", 11)
    na = start_node(lab, a, flags(150))
    wait_converged(lab, [na], 5, "a master", master="a")
    assert stat.S_IMODE(os.stat(na.control).st_mode) == 0o600
    before = na.status()
    for args in (
        ["priority", "VI_51", "0"],
        ["priority", "VI_51", "300"],
        ["priority", "VI_51", "nan"],
        ["priority", "VI_51", "+99999999999999999999"],
        ["release", "NOPE"],
        ["frobnicate", "VI_51"],
    ):
        done = na.ctl(*args, check=False)
        assert done.returncode in (1, 2), (args, done)
        err = done.stderr.strip().splitlines()
        assert len(err) == 1 and "Traceback" not in done.stderr, (args, done.stderr)
    # Raw garbage straight into the socket: binary, invalid JSON, a huge line.
    for junk in (b"\xff\xfe\x00garbage\n", b"{not json\n", b'{"cmd": 5}\n', b"x" * 200_000 + b"\n"):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(na.control))
            try:
                s.sendall(junk)
                s.recv(4096)
            except OSError:
                pass  # the node may hang up on an overlong line: that is its right
    after = na.status()
    assert na.proc.poll() is None and na.state() == "MASTER" and has_vip(lab, a)
    assert after["effective_priority"] == before["effective_priority"] == 150
    assert after["override"] is None


def test_non_root_user_cannot_steer_a_live_node(lab: Lab) -> None:
    require_root()
    a = lab.add_host("a", 11)
    base = Path(lab.workdir)
    os.chmod(base, 0o755)  # nobody may reach the socket's folder; the 0600 mode must stop it
    na = start_node(lab, a, flags(150))
    wait_converged(lab, [na], 5, "a master", master="a")
    rc, err = _ctl_as_nobody(str(na.control), ["release", "VI_51"])
    assert rc != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "permission" in lines[0].lower(), lines[0]
    assert na.state() == "MASTER" and has_vip(lab, a)


def _ctl_as_nobody(control: str, args: list[str]) -> tuple[int, str]:
    """`hatui ctl ARGS` in a forked child that dropped to uid 65534: (exit code, stderr)."""
    from hatui.cli import main

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            os.close(read_end)
            sys.stderr = os.fdopen(write_end, "w")  # pytest swaps sys.stderr
            os.setgid(65534)
            os.setuid(65534)
            code = main(["ctl", "--control", control, *args])
        finally:
            sys.stderr.flush()
            os._exit(code)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 4096):
        chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode(errors="replace")
