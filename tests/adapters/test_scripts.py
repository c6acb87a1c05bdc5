"""Check scripts (rise/fall, timeout kills the group, missing scripts), notify, track files."""

from __future__ import annotations

import asyncio
import pwd
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from hatui.adapters.scripts import (
    ScriptChecker,
    notify_commands,
    read_track_file,
    run_command,
    run_notify,
)
from hatui.errors import RuntimeFault
from hatui.vrrp.spec import NotifySpec, RunAs, ScriptSpec
from tests.conftest import require_root


def alive(pid: int) -> bool:
    """Running, not a zombie (an orphan's reaper may be slow in a container)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def spec(command: str, **kw: Any) -> ScriptSpec:
    # A generous timeout: a loaded machine must not turn a slow start into a failure.
    kw.setdefault("interval_us", 20_000)
    kw.setdefault("timeout_us", 2_000_000)
    return ScriptSpec(name="chk", command=command, **kw)


async def run_checker(checker: ScriptChecker, until: float) -> None:
    checker.start()
    await asyncio.sleep(until)
    await checker.stop()


async def test_success_and_failure_are_reported_once(tmp_path: Path) -> None:
    seen: list[tuple[str, bool]] = []
    ok = ScriptChecker(spec(script(tmp_path, "ok", "exit 0")), lambda n, v: seen.append((n, v)))
    await run_checker(ok, 0.15)
    assert seen == [("chk", True)]
    assert ok.runs >= 3  # ran every interval, reported only the transition
    seen.clear()
    bad = ScriptChecker(spec(script(tmp_path, "bad", "exit 3")), lambda n, v: seen.append((n, v)))
    await run_checker(bad, 0.1)
    assert seen == [("chk", False)]


def test_rise_and_fall_counting() -> None:
    seen: list[bool] = []
    c = ScriptChecker(spec("true", rise=3, fall=2), lambda _n, v: seen.append(v))
    for result in [True, True, False, True, True, True, True, False, True, False, False, False]:
        c.record(result)
    # ok after three in a row (not the interrupted two), failed after two in a row.
    assert seen == [True, False]
    assert c.ok is False


async def test_flapping_script_with_rise_fall(tmp_path: Path) -> None:
    """A script that fails every other run never reaches fall=2 once it rose."""
    flag = tmp_path / "flag"
    body = f"if [ -e {flag} ]; then rm {flag}; exit 1; else touch {flag}; exit 0; fi"
    seen: list[bool] = []
    c = ScriptChecker(
        spec(script(tmp_path, "flap", body), rise=1, fall=2), lambda _n, v: seen.append(v)
    )
    await run_checker(c, 0.2)
    assert seen == [True]


async def test_timeout_kills_the_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    # The script forks a helper that would outlive it: the whole group must die.
    body = f"sleep 30 & echo $! > {pidfile}; wait"
    start = time.monotonic()
    status = await run_command([script(tmp_path, "slow", body)], 0.2)
    assert status is None
    assert time.monotonic() - start < 2
    child = int(pidfile.read_text())
    await asyncio.sleep(0.05)
    assert not alive(child)


async def test_timeout_counts_as_failure(tmp_path: Path) -> None:
    seen: list[bool] = []
    s = ScriptSpec(
        name="chk",
        command=script(tmp_path, "hang", "sleep 5"),
        interval_us=50_000,
        timeout_us=30_000,
    )
    c = ScriptChecker(s, lambda _n, v: seen.append(v))
    await run_checker(c, 0.2)
    assert seen == [False] and c.timeouts >= 1


async def test_missing_or_non_executable_script(tmp_path: Path) -> None:
    seen: list[bool] = []
    ScriptChecker(spec(str(tmp_path / "nope")), lambda _n, v: seen.append(v)).start()
    assert seen == [False]  # keepalived marks it failed and carries on
    plain = tmp_path / "plain"
    plain.write_text("exit 0\n")
    with pytest.raises(RuntimeFault, match="is not executable"):
        ScriptChecker(spec(str(plain)), lambda _n, _v: None, strict=True).start()
    with pytest.raises(RuntimeFault, match="not found in PATH"):
        ScriptChecker(spec("no-such-cmd-hatui --x"), lambda _n, _v: None, strict=True).start()


async def test_stop_kills_a_running_check(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    s = ScriptChecker(
        spec(script(tmp_path, "long", f"echo $$ > {pidfile}; exec sleep 30")), lambda _n, _v: None
    )
    s.start()
    for _ in range(100):
        if pidfile.exists() and pidfile.read_text().strip():
            break
        await asyncio.sleep(0.01)
    await s.stop()
    await asyncio.sleep(0.05)
    assert not alive(int(pidfile.read_text()))


def test_notify_argument_convention() -> None:
    n = NotifySpec(master="/etc/ka/up.sh 'a b' x", generic="/etc/ka/notify.sh --flag")
    assert notify_commands(n, kind="INSTANCE", name="VI_1", state="MASTER", priority=150) == [
        ["/etc/ka/up.sh", "a b", "x"],
        ["/etc/ka/notify.sh", "--flag", "INSTANCE", "VI_1", "MASTER", "150"],
    ]
    assert notify_commands(n, kind="GROUP", name="G", state="FAULT", priority=0) == [
        ["/etc/ka/notify.sh", "--flag", "GROUP", "G", "FAULT", "0"],
    ]
    assert (
        notify_commands(NotifySpec(), kind="INSTANCE", name="VI_1", state="STOP", priority=1) == []
    )


async def test_run_notify_passes_arguments_and_survives_failures(tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = [script(tmp_path, "n", f'echo "$@" > {out}'), "INSTANCE", "VI_1", "BACKUP", "100"]
    assert await run_notify(argv, 5) == 0
    assert out.read_text() == "INSTANCE VI_1 BACKUP 100\n"
    assert await run_notify([script(tmp_path, "f", "exit 7")], 5) == 7
    assert await run_notify([script(tmp_path, "h", "sleep 5")], 0.1) is None
    assert await run_notify([str(tmp_path / "missing")], 1) is None


async def test_the_loop_is_never_blocked(tmp_path: Path) -> None:
    """A hanging check leaves the loop free: a 10 ms tick keeps its pace."""
    s = ScriptSpec(name="chk", command=script(tmp_path, "hang", "sleep 5"), interval_us=100_000)
    c = ScriptChecker(s, lambda _n, _v: None)
    c.start()
    loop = asyncio.get_running_loop()
    worst, last = 0.0, loop.time()
    for _ in range(20):
        await asyncio.sleep(0.01)
        now = loop.time()
        worst, last = max(worst, now - last), now
    await c.stop()
    assert worst < 0.1


def test_track_file(tmp_path: Path) -> None:
    f = tmp_path / "track"
    assert read_track_file(str(f)) is None  # missing: a failure
    f.write_text("42\n")
    assert read_track_file(str(f)) == 42
    f.write_text("  -7 trailing words\n")
    assert read_track_file(str(f)) == -7
    f.write_text("garbage\n")
    assert read_track_file(str(f)) is None
    f.write_text("")
    assert read_track_file(str(f)) is None


def open_dir() -> Path:
    """A directory user nobody can enter and write (tmp_path's parents are root's 0700)."""
    path = Path(tempfile.mkdtemp(prefix="hatui-runas-"))
    path.chmod(0o1777)
    return path


async def test_check_and_notify_scripts_run_as_their_user_and_group() -> None:
    require_root()
    nobody = pwd.getpwnam("nobody")
    who = RunAs(user="nobody", uid=nobody.pw_uid, gid=nobody.pw_gid)
    where = open_dir()
    try:
        body = f'echo "$(id -u) $(id -g) $(id -G)" > {where}/$1'
        ids = script(where, "ids", body)
        checker = ScriptChecker(spec(f"{ids} check", run_as=who), lambda n, v: None)
        await run_checker(checker, 0.1)
        await asyncio.wait_for(run_notify([ids, "notify"], 2.0, who), 5)
        await asyncio.wait_for(run_notify([ids, "root"], 2.0, None), 5)
        expected = f"{nobody.pw_uid} {nobody.pw_gid} {nobody.pw_gid}\n"
        assert (where / "check").read_text() == expected
        assert (where / "notify").read_text() == expected
        assert (where / "root").read_text().startswith("0 0 ")
    finally:
        shutil.rmtree(where)
