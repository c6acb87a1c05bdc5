"""`hatui --fleet` on the command line: usage errors exit 2, an unreachable server exits 1,
each as one line."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

HATUI = [sys.executable, "-m", "hatui"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HATUI, *args], capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--fleet-match", '{job="a"}'], "hatui: --fleet-match goes with --fleet URL"),
        (["--fleet", "prom:9090"], "hatui: --fleet prom:9090: expected the Prometheus URL, "
                                   "e.g. http://prom:9090"),
        (["--fleet", "http://127.0.0.1:9", "--fleet-match", "job", "--json"],
         "hatui: --fleet-match job: expected a label selector such as '{job=\"hatui\"}'"),
        (["--fleet", "http://p:1", "--watch", "eth0"],
         "hatui: argument --watch: not allowed with argument --fleet (see hatui --help)"),
    ],
)  # fmt: skip
def test_usage_errors(args: list[str], line: str) -> None:
    done = run(*args)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", line + "\n")


def test_no_server_is_one_line_and_exit_1() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for mode in (["--headless"], ["--headless", "--json"]):
        done = run("--fleet", f"http://127.0.0.1:{port}", *mode)
        assert (done.returncode, done.stdout) == (1, "")
        assert done.stderr == f"hatui: Prometheus at http://127.0.0.1:{port}: connection refused\n"


def test_help_names_the_fleet() -> None:
    out = run("--help").stdout
    assert "--fleet URL" in out and "--fleet-match SELECTOR" in out
