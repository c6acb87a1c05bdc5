"""notify_fifo / vrrp_notify_fifo in global_defs to FifoSpecs, and who runs scripts."""

from __future__ import annotations

import shlex

from hatui.config.diagnostics import Diagnostics
from hatui.config.globaldefs import Globals
from hatui.config.instance import notify_line
from hatui.config.security import ScriptLine, run_as
from hatui.errors import ConfigError
from hatui.vrrp.spec import FifoSpec, RunAs


def notify_users(
    lines: dict[str, ScriptLine],
    default: RunAs | None,
    checks: list[tuple[ScriptLine, RunAs | None]],
    diag: Diagnostics,
) -> tuple[tuple[str, RunAs], ...]:
    """Who each notify script runs as; each one also joins the security check."""
    out: list[tuple[str, RunAs]] = []
    for field_name, line in lines.items():
        who = who_runs(line, default, diag)
        checks.append((line, who))
        if who is not None:
            out.append((field_name, who))
    return tuple(out)


def who_runs(line: ScriptLine, default: RunAs | None, diag: Diagnostics) -> RunAs | None:
    if line.user is None:
        return default
    try:
        return run_as(line.user, line.group)
    except ConfigError as e:
        diag.add(e)
        return default


def read_fifos(
    g: Globals,
    default: RunAs | None,
    checks: list[tuple[ScriptLine, RunAs | None]],
    diag: Diagnostics,
) -> tuple[FifoSpec, ...]:
    """notify_fifo and vrrp_notify_fifo (hatui runs VRRP only: both get the same lines),
    each with its owner and the reader script keepalived would start on it."""
    scripts = dict(g.fifo_scripts)
    out: list[FifoSpec] = []
    for kind, path, user, group in g.fifos:
        owner = default
        if user is not None:
            try:
                owner = run_as(user, group)
            except ConfigError as e:
                diag.add(e)
        argv: tuple[str, ...] | None = None
        who: RunAs | None = None
        stmt = scripts.pop(f"{kind}_script", None)
        if stmt is not None:
            line = notify_line("global_defs", stmt, diag)
            who = who_runs(line, default, diag)
            checks.append((line, who))
            try:
                argv = tuple(shlex.split(line.command)) or None
            except ValueError as e:
                diag.error(f"{stmt.name}: {e}", stmt.key.file, stmt.key.line)
        if any(f.path == path.text for f in out):
            # keepalived: one FIFO named twice is written once.
            diag.warn(f"{kind} {path.text} is also notify_fifo: ignored", path.file, path.line)
            continue
        out.append(FifoSpec(path=path.text, owner=owner, script=argv, script_run_as=who))
    for kind, stmt in scripts.items():
        fifo = kind.removesuffix("_script")
        diag.warn(f"'{kind}' ignored: there is no {fifo}", stmt.key.file, stmt.key.line)
    return tuple(out)
