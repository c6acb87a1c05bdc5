"""Counting running processes for vrrp_track_process by reading /proc (never a shell).

keepalived 2.2.7 (core/track_process.c read_procs) compares the process name from
/proc/PID/stat exactly (not a pattern: `ssh` does not match `sshd`), or argv[0] from
/proc/PID/cmdline with full_command or parameters, skips zombies, and checks the
parameters by the configured param_match. keepalived then follows the kernel's proc
connector, which refuses to work inside a network namespace; polling /proc works
everywhere, so that is what this does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from hatui.vrrp.spec import TrackProcessSpec

MAX_CMDLINE = 1 << 16


def params_match(spec: TrackProcessSpec, params: Sequence[str]) -> bool:
    """keepalived's check_params: `params` are the process's arguments after argv[0]."""
    want = spec.params
    match spec.param_match:
        case None:
            return True
        case "exact":
            return tuple(params) == want
        case "partial":
            return tuple(params[: len(want)]) == want
        case "initial":
            if not want:
                return True
            head, last = want[:-1], want[-1]
            n = len(want)
            return (
                len(params) >= n
                and tuple(params[: n - 1]) == head
                and params[n - 1].startswith(last)
            )
        case other:
            raise ValueError(f"unknown param_match {other!r}")


def _read(path: str, limit: int) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read(limit)
    except OSError:
        return None  # the process exited while we looked, or is not ours to read


def _comm(proc: str, pid: str) -> str | None:
    """The process name, or None for a zombie or a process that is gone."""
    stat = _read(f"{proc}/{pid}/stat", 512)
    if stat is None:
        return None
    open_, close = stat.find(b"("), stat.rfind(b")")
    if open_ < 0 or close < open_ or stat[close + 2 : close + 3] == b"Z":
        return None
    return stat[open_ + 1 : close].decode(errors="replace")


def count_processes(specs: Sequence[TrackProcessSpec], proc: str = "/proc") -> dict[str, int]:
    """How many running processes match each spec, by spec name; one pass over /proc."""
    counts = {s.name: 0 for s in specs}
    need_cmdline = any(s.full_command for s in specs)
    try:
        entries = os.listdir(proc)
    except OSError:
        return counts
    for pid in entries:
        if not pid.isdigit():
            continue
        comm = _comm(proc, pid)
        if comm is None:
            continue
        argv: list[str] = []
        if need_cmdline:
            raw = _read(f"{proc}/{pid}/cmdline", MAX_CMDLINE) or b""
            argv = raw.decode(errors="replace").split("\0")
            if argv and argv[-1] == "":
                argv.pop()
        for s in specs:
            if s.full_command:
                if argv and argv[0] == s.process and params_match(s, argv[1:]):
                    counts[s.name] += 1
            elif comm == s.process:
                counts[s.name] += 1
    return counts
