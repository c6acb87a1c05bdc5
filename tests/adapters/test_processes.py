"""vrrp_track_process counting from /proc: exact names, argv and parameters, no zombies."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hatui.adapters.processes import count_processes
from hatui.runtime.trackers import ProcessQuorum
from hatui.vrrp.spec import TrackProcessSpec


@pytest.fixture
def sleepers(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """Three processes of a binary with a unique name: NAME 30, NAME 30 1, NAME 300."""
    exe = tmp_path / f"tp-{uuid.uuid4().hex[:8]}"
    shutil.copy("/bin/sleep", exe)
    procs = [subprocess.Popen([str(exe), *args]) for args in (["30"], ["30", "1"], ["300"])]
    try:
        yield str(exe), procs
    finally:
        for p in procs:
            p.kill()
            p.wait()


def spec(process: str, **kw: object) -> TrackProcessSpec:
    return TrackProcessSpec(name="p", process=process, **kw)  # type: ignore[arg-type]


def count(s: TrackProcessSpec) -> int:
    return count_processes([s])["p"]


def test_names_match_exactly_and_argv_with_parameters(
    sleepers: tuple[str, list[subprocess.Popen[bytes]]],
) -> None:
    exe, _ = sleepers
    name = os.path.basename(exe)
    assert count(spec(name)) == 3
    assert count(spec(name[:-1])) == 0  # not a prefix match: `ssh` is not `sshd`
    assert count(spec(exe, full_command=True)) == 3
    assert count(spec(name, full_command=True)) == 0  # argv[0] is the path
    cases = {"exact": 1, "partial": 2, "initial": 3}
    for how, n in cases.items():
        assert count(spec(exe, params=("30",), param_match=how, full_command=True)) == n, how
    assert count(spec(exe, params=("3",), param_match="initial", full_command=True)) == 3
    assert count(spec(exe, param_match="exact", full_command=True)) == 0  # no parameters


def test_zombies_and_exited_processes_do_not_count(
    sleepers: tuple[str, list[subprocess.Popen[bytes]]],
) -> None:
    exe, procs = sleepers
    name = os.path.basename(exe)
    procs[0].send_signal(signal.SIGKILL)
    # Not reaped yet: a zombie, which keepalived does not count either.
    for _ in range(200):
        stat = Path(f"/proc/{procs[0].pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            break
    assert count(spec(name)) == 2
    procs[0].wait()
    assert count(spec(name)) == 2


def test_quorum_limits_and_delays() -> None:
    q = ProcessQuorum(
        TrackProcessSpec(
            name="p", process="x", quorum=2, quorum_max=3,
            fork_delay_us=1_000_000, terminate_delay_us=500_000,
        )
    )  # fmt: skip
    assert q.update(2, 0.0) is True  # the first reading counts at once
    assert q.update(4, 1.0) is None  # above quorum_max: failing after terminate_delay
    assert q.update(1, 1.4) is None
    assert q.update(1, 1.5) is False
    assert q.update(2, 2.0) is None  # back: OK after fork_delay
    assert q.update(1, 2.5) is None  # a bounce restarts nothing: still failing
    assert q.update(2, 3.0) is None
    assert q.update(3, 3.99) is None
    assert q.update(3, 4.0) is True
    must_not_run = ProcessQuorum(TrackProcessSpec(name="p", process="x", quorum=0, quorum_max=0))
    assert must_not_run.update(0, 0.0) is True
    assert must_not_run.update(1, 0.1) is False
