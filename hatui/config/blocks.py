"""Top-level blocks that define tracked objects: vrrp_script, vrrp_track_file and
vrrp_track_process, each read as keepalived 2.2.7 reads it."""

from __future__ import annotations

from hatui.config.diagnostics import Diagnostics
from hatui.config.fallback import SCRIPT, follows, for_keyword, misplaced_block, would
from hatui.config.lexer import Token
from hatui.config.security import ScriptLine
from hatui.config.tree import Stmt
from hatui.config.values import arg, fail, integer, timer
from hatui.errors import ConfigError
from hatui.types import US_PER_S
from hatui.vrrp.spec import ScriptSpec, TrackFileSpec, TrackProcessSpec


def named_block(stmt: Stmt) -> tuple[str, tuple[Stmt, ...]]:
    name = arg(stmt).text
    if stmt.block is None:
        fail(stmt.key, f"{stmt.name} {name}: expected a '{{' block")
    return name, stmt.block


def block_of(stmt: Stmt) -> tuple[Stmt, ...]:
    if stmt.block is None:
        fail(stmt.key, f"{stmt.name}: expected a '{{' block")
    return stmt.block


def read_script(stmt: Stmt, diag: Diagnostics) -> tuple[ScriptSpec, ScriptLine]:
    name, block = named_block(stmt)
    fields: dict[str, int | str | None] = {}
    command: str | None = None
    command_at = stmt.key
    user: tuple[Token, Token | None] | None = None
    for n, line in enumerate(block):
        key = line.key
        try:
            match line.name:
                case "script":
                    # keepalived runs the first word, split again: a command with
                    # arguments is quoted whole, and later words are dropped.
                    command, command_at = arg(line).text, key
                    if len(line.args) > 1:
                        diag.warn(
                            "script: words after the first ignored (quote the whole command)",
                            key.file,
                            key.line,
                        )
                case "interval":
                    # keepalived 2.2 reads whole seconds up to UINT_MAX / TIMER_HZ.
                    fields["interval_us"] = integer(line, 1, 4294) * US_PER_S
                case "timeout":
                    fields["timeout_us"] = integer(line, 1, 4294) * US_PER_S
                case "weight":
                    fields["weight"] = integer(line, -253, 253)
                    if len(line.args) > 1 and line.args[1].text == "reverse":
                        fail(line.args[1], "not supported by hatui: vrrp_script weight reverse")
                case "rise":
                    fields["rise"] = integer(line, 1, 1_000_000)
                case "fall":
                    fields["fall"] = integer(line, 1, 1_000_000)
                case "user":
                    user = (arg(line), line.args[1] if len(line.args) > 1 else None)
                case "init_fail":
                    diag.warn(
                        "'init_fail' ignored: hatui does not implement it", key.file, key.line
                    )
                case _ if line.block is not None:
                    fail(key, misplaced_block(line, f"vrrp_script {name}", block[n + 1 :]))
                case _:
                    diag.warn(follows(f"unknown keyword '{line.name}' ignored"), key.file, key.line)
        except ConfigError as e:
            value = line.args[0].text if line.args else ""
            diag.add(would(e, for_keyword(SCRIPT, line.name, value)))
    if command is None:
        fail(stmt.key, f"vrrp_script {name} has no script")
    spec = ScriptSpec(
        name=name,
        command=command,
        interval_us=int(fields.get("interval_us") or US_PER_S),
        timeout_us=int(t) if (t := fields.get("timeout_us")) is not None else None,
        weight=int(fields.get("weight") or 0),
        rise=int(fields.get("rise") or 1),
        fall=int(fields.get("fall") or 1),
    )
    words = user or (None, None)
    script_line = ScriptLine(
        label=f"vrrp_script {name}", command=command, at=command_at, user=words[0], group=words[1]
    )
    return spec, script_line


def read_track_file(stmt: Stmt, diag: Diagnostics) -> TrackFileSpec:
    name, block = named_block(stmt)
    path: str | None = None
    weight = 1
    for line in block:
        key = line.key
        try:
            if line.name == "file":
                path = arg(line).text
            elif line.name == "weight":
                weight = integer(line, -254, 254)
                if len(line.args) > 1 and line.args[1].text == "reverse":
                    fail(line.args[1], "not supported by hatui: vrrp_track_file weight reverse")
            elif line.name == "init_file":
                diag.warn("'init_file' ignored: hatui does not implement it", key.file, key.line)
            else:
                diag.warn(follows(f"unknown keyword '{line.name}' ignored"), key.file, key.line)
        except ConfigError as e:
            diag.add(e)
    if path is None:
        fail(stmt.key, f"vrrp_track_file {name} has no file")
    return TrackFileSpec(name=name, path=path, weight=weight)


_PARAM_MATCH = frozenset({"initial", "partial"})


def read_track_process(stmt: Stmt, diag: Diagnostics) -> TrackProcessSpec:
    """A vrrp_track_process block, as keepalived 2.2.7's parser reads it."""
    name, block = named_block(stmt)
    fields: dict[str, object] = {}
    for line in block:
        key = line.key
        try:
            match line.name:
                case "process":
                    if "process" in fields:
                        fail(key, f"vrrp_track_process {name}: process already set")
                    fields["process"] = arg(line).text
                    if len(line.args) > 1:
                        # Parameters mean the command line is matched, exactly by default.
                        fields["params"] = tuple(t.text for t in line.args[1:])
                        fields["full_command"] = True
                        fields.setdefault("param_match", "exact")
                case "param_match":
                    word = line.args[0].text if line.args else "exact"
                    if word not in _PARAM_MATCH and line.args:
                        fail(line.args[0], "param_match: expected initial or partial")
                    fields["param_match"] = word
                    fields["full_command"] = True
                case "weight":
                    fields["weight"] = integer(line, -254, 254)
                    if len(line.args) > 1 and line.args[1].text == "reverse":
                        fail(
                            line.args[1],
                            "not supported by hatui: vrrp_track_process weight reverse",
                        )
                case "quorum":
                    fields["quorum"] = integer(line, 1, 65535)
                case "quorum_max":
                    fields["quorum_max"] = integer(line, 0, 65535)
                case "fork_delay" | "terminate_delay" | "delay":
                    us = timer(line, 0, 3600 * US_PER_S)
                    if line.name != "terminate_delay":
                        fields["fork_delay_us"] = us
                    if line.name != "fork_delay":
                        fields["terminate_delay_us"] = us
                case "full_command":
                    fields["full_command"] = True
                case _:
                    diag.warn(follows(f"unknown keyword '{line.name}' ignored"), key.file, key.line)
        except ConfigError as e:
            diag.add(e)
    if "process" not in fields:
        fail(stmt.key, f"vrrp_track_process {name} has no process")
    quorum = int(fields.get("quorum", 1))  # type: ignore[call-overload]
    quorum_max = fields.get("quorum_max")
    if quorum_max == 0:
        quorum = 0  # keepalived: quorum_max 0 means "must not run"
    elif isinstance(quorum_max, int) and quorum_max < quorum:
        fail(stmt.key, f"vrrp_track_process {name}: quorum_max {quorum_max} < quorum {quorum}")
    fields["quorum"] = quorum
    return TrackProcessSpec(name=name, **fields)  # type: ignore[arg-type]
