"""keepalived.conf to NodeSpec: `load_config` for running, `check_config` for --config-test."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace

from hatui.config.addresses import read_vips
from hatui.config.diagnostics import Diagnostics
from hatui.config.globaldefs import Globals, read_global_defs
from hatui.config.instance import Draft, notify_line, read_instance, track_lines
from hatui.config.lexer import Token, read_tokens
from hatui.config.resolve import finish_instance
from hatui.config.routes import read_routes, read_rules
from hatui.config.security import ScriptLine, check_scripts, default_run_as, run_as
from hatui.config.tree import Stmt, build_tree
from hatui.config.values import arg, boolean, fail, integer, timer
from hatui.errors import ConfigError
from hatui.types import US_PER_S
from hatui.vrrp.spec import (
    FifoSpec,
    InstanceSpec,
    NodeSpec,
    NotifySpec,
    RouteSpec,
    RuleSpec,
    RunAs,
    ScriptSpec,
    SyncGroupSpec,
    TrackFileSpec,
    TrackProcessSpec,
    TrackRef,
    Vip,
)

LVS = frozenset({"virtual_server", "virtual_server_group"})
# Top-level blocks keepalived knows and hatui does not run.
IGNORED_BLOCKS = frozenset(
    """
    bfd_instance garp_group vrrp_garp_group linkbeat_interfaces
    """.split()  # noqa: SIM905 - a word list reads better
)
_GROUP_TRACKS = {
    "track_interface": (-253, 253),
    "track_script": (-253, 253),
    "track_file": (-254, 254),
    "track_process": (-254, 254),
}
_GROUP_IGNORED = {
    "smtp_alert": "hatui sends no mail",
    "global_tracking": "deprecated in keepalived: use sync_group_tracking_weight",
}
_GROUP_NOTIFY = {
    "notify_master": "master",
    "notify_backup": "backup",
    "notify_fault": "fault",
    "notify_stop": "stop",
    "notify": "generic",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigCheck:
    """The result of --config-test: the spec when there is no error, and every message."""

    spec: NodeSpec | None
    errors: tuple[ConfigError, ...]
    warnings: tuple[str, ...]


def _named_block(stmt: Stmt) -> tuple[str, tuple[Stmt, ...]]:
    name = arg(stmt).text
    if stmt.block is None:
        fail(stmt.key, f"{stmt.name} {name}: expected a '{{' block")
    return name, stmt.block


def _named_block_only(stmt: Stmt) -> tuple[Stmt, ...]:
    if stmt.block is None:
        fail(stmt.key, f"{stmt.name}: expected a '{{' block")
    return stmt.block


def _script(stmt: Stmt, diag: Diagnostics) -> tuple[ScriptSpec, ScriptLine]:
    name, block = _named_block(stmt)
    fields: dict[str, int | str | None] = {}
    command: str | None = None
    command_at = stmt.key
    user: tuple[Token, Token | None] | None = None
    for line in block:
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
                case _:
                    diag.warn(f"unknown keyword '{line.name}' ignored", key.file, key.line)
        except ConfigError as e:
            diag.add(e)
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


def _track_file(stmt: Stmt, diag: Diagnostics) -> TrackFileSpec:
    name, block = _named_block(stmt)
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
                diag.warn(f"unknown keyword '{line.name}' ignored", key.file, key.line)
        except ConfigError as e:
            diag.add(e)
    if path is None:
        fail(stmt.key, f"vrrp_track_file {name} has no file")
    return TrackFileSpec(name=name, path=path, weight=weight)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Group:
    """A vrrp_sync_group as read: member tokens are checked once every instance is known."""

    stmt: Stmt
    spec: SyncGroupSpec
    members: list[Token]
    keep_weights: bool  # sync_group_tracking_weight
    notify_lines: dict[str, ScriptLine]
    priority_changes: bool | None  # notify_priority_changes for members that do not say
    # track_interface/_script/_file/_process of the group: every member tracks them.
    tracks: dict[str, list[tuple[Token, int | None]]]


_PARAM_MATCH = frozenset({"initial", "partial"})


def _track_process(stmt: Stmt, diag: Diagnostics) -> TrackProcessSpec:
    """A vrrp_track_process block, as keepalived 2.2.7's parser reads it."""
    name, block = _named_block(stmt)
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
                    diag.warn(f"unknown keyword '{line.name}' ignored", key.file, key.line)
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


def _sync_group(stmt: Stmt, diag: Diagnostics) -> _Group:
    name, block = _named_block(stmt)
    members: list[Token] = []
    notify = NotifySpec()
    lines: dict[str, ScriptLine] = {}
    keep_weights = False
    priority_changes: bool | None = None
    tracks: dict[str, list[tuple[Token, int | None]]] = {}
    for line in block:
        key = line.key
        try:
            if line.name == "group":
                if line.block is None:
                    fail(key, "group: expected a '{' block of vrrp_instance names")
                for item in line.block:
                    members.extend([item.key, *item.args])
            elif line.name in _GROUP_NOTIFY:
                script = notify_line(f"vrrp_sync_group {name}", line, diag)
                notify = notify.with_script(_GROUP_NOTIFY[line.name], script.command)
                lines[_GROUP_NOTIFY[line.name]] = script
            elif line.name in _GROUP_TRACKS:
                lo, hi = _GROUP_TRACKS[line.name]
                kind = line.name.removeprefix("track_")
                tracks.setdefault(kind, []).extend(track_lines(line, lo, hi))
            elif line.name == "track_bfd":
                fail(key, "not supported by hatui: track_bfd in vrrp_sync_group")
            elif line.name == "sync_group_tracking_weight":
                keep_weights = True
            elif line.name == "notify_priority_changes":
                priority_changes = boolean(line)
            elif line.name in _GROUP_IGNORED:
                why = _GROUP_IGNORED[line.name]
                diag.warn(f"'{line.name}' ignored: {why}", key.file, key.line)
            else:
                diag.warn(f"unknown keyword '{line.name}' ignored", key.file, key.line)
        except ConfigError as e:
            diag.add(e)
    if not members:
        fail(stmt.key, f"vrrp_sync_group {name} has no group members")
    spec = SyncGroupSpec(name=name, members=tuple(m.text for m in members), notify=notify)
    return _Group(
        stmt=stmt,
        spec=spec,
        members=members,
        keep_weights=keep_weights,
        notify_lines=lines,
        priority_changes=priority_changes,
        tracks=tracks,
    )


def _users(
    lines: dict[str, ScriptLine],
    default: RunAs | None,
    checks: list[tuple[ScriptLine, RunAs | None]],
    diag: Diagnostics,
) -> tuple[tuple[str, RunAs], ...]:
    """Who each notify script runs as; each one also joins the security check."""
    out: list[tuple[str, RunAs]] = []
    for field_name, line in lines.items():
        who = _who(line, default, diag)
        checks.append((line, who))
        if who is not None:
            out.append((field_name, who))
    return tuple(out)


def _who(line: ScriptLine, default: RunAs | None, diag: Diagnostics) -> RunAs | None:
    if line.user is None:
        return default
    try:
        return run_as(line.user, line.group)
    except ConfigError as e:
        diag.add(e)
        return default


def _fifos(
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
            who = _who(line, default, diag)
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


def _check_duplicates(
    drafts: list[Draft], specs: dict[str, InstanceSpec], diag: Diagnostics
) -> None:
    """One (interface, family, VRID) per adverts channel (RFC 5798 5.2.3)."""
    seen: dict[tuple[str, str, int, str], InstanceSpec] = {}
    for d in drafts:
        spec = specs.get(d.name)
        if spec is None or d.vrid_at is None:
            continue
        # keepalived allows a repeated VRID when the channels differ: disjoint unicast
        # peers or another multicast group.
        channels = [f"u:{p}" for p in spec.unicast_peers] or [f"m:{spec.group}"]
        for channel in channels:
            key = (spec.interface, spec.family.value, spec.vrid, channel)
            first = seen.setdefault(key, spec)
            if first is not spec:
                diag.error(
                    f"virtual_router_id {spec.vrid} on {spec.interface} ({spec.family.value}) "
                    f"already used by vrrp_instance {first.name} at {first.source}",
                    d.vrid_at.file,
                    d.vrid_at.line,
                )
                break


def _read(path: str, diag: Diagnostics, config_id: str | None) -> NodeSpec | None:
    tree = build_tree(read_tokens(path, diag, config_id), diag)
    g = Globals()
    scripts: dict[str, tuple[ScriptSpec, ScriptLine]] = {}
    files: dict[str, TrackFileSpec] = {}
    processes: dict[str, TrackProcessSpec] = {}
    drafts: list[Draft] = []
    groups: list[_Group] = []
    static_ips: list[Vip] = []
    static_routes: list[RouteSpec] = []
    static_rules: list[RuleSpec] = []
    for stmt in tree:
        key = stmt.key
        try:
            match stmt.name:
                case "global_defs":
                    if stmt.block is None:
                        fail(key, "global_defs: expected a '{' block")
                    g = read_global_defs(g, stmt.block, diag)
                case "vrrp_script":
                    script, line = _script(stmt, diag)
                    if script.name in scripts:
                        fail(key, f"duplicate vrrp_script '{script.name}'")
                    scripts[script.name] = (script, line)
                case "vrrp_track_file":
                    tf = _track_file(stmt, diag)
                    if tf.name in files:
                        fail(key, f"duplicate vrrp_track_file '{tf.name}'")
                    files[tf.name] = tf
                case "vrrp_track_process":
                    tp = _track_process(stmt, diag)
                    if tp.name in processes:
                        fail(key, f"duplicate vrrp_track_process '{tp.name}'")
                    processes[tp.name] = tp
                case "vrrp_instance":
                    draft = read_instance(stmt, diag)
                    if draft is not None:
                        drafts.append(draft)
                case "vrrp_sync_group":
                    groups.append(_sync_group(stmt, diag))
                case "static_ipaddress":
                    block = _named_block_only(stmt)
                    static_ips.extend(v for v, _ in read_vips(block, stmt.name, diag))
                case "static_routes":
                    static_routes.extend(read_routes(_named_block_only(stmt), diag))
                case "static_rules":
                    static_rules.extend(read_rules(_named_block_only(stmt), diag))
                case name if name in LVS:
                    diag.warn("LVS configuration ignored: hatui runs VRRP only", key.file, key.line)
                case name if name in IGNORED_BLOCKS:
                    diag.warn(f"not supported by hatui: {name} ignored", key.file, key.line)
                case name:
                    diag.warn(f"unknown keyword '{name}' ignored", key.file, key.line)
        except ConfigError as e:
            diag.add(e)
    try:
        default = default_run_as(g.script_user_at)
    except ConfigError as e:
        diag.add(e)
        default = None
    checks: list[tuple[ScriptLine, RunAs | None]] = []
    fifos = _fifos(g, default, checks, diag)
    resolved: dict[str, ScriptSpec] = {}
    for name, (script, line) in scripts.items():
        who = _who(line, default, diag)
        checks.append((line, who))
        resolved[name] = replace(script, run_as=who)
    specs: dict[str, InstanceSpec] = {}
    defined: dict[str, Draft] = {}
    weights = {name: f.weight for name, f in files.items()}
    for d in drafts:
        first = defined.setdefault(d.name, d)
        if first is not d:
            diag.error(
                f"duplicate vrrp_instance '{d.name}' (first at {first.at.where})",
                d.at.file,
                d.at.line,
            )
            continue
        pweights = {name: p.weight for name, p in processes.items()}
        spec = finish_instance(d, g, resolved, weights, diag, pweights)
        users = _users(d.notify_lines, default, checks, diag)
        if spec is not None:
            specs[d.name] = replace(spec, notify=replace(spec.notify, run_as=users))
    _check_duplicates(drafts, specs, diag)
    member_of: dict[str, str] = {}
    sync_groups: list[SyncGroupSpec] = []
    defaults = {
        "interface": {},
        "script": {n: s.weight for n, s in resolved.items()},
        "file": weights,
        "process": {n: p.weight for n, p in processes.items()},
    }
    for read in groups:
        stmt, members, keep_weights = read.stmt, read.members, read.keep_weights
        group_tracks = _resolve_group_tracks(read, defaults, diag)
        users = _users(read.notify_lines, default, checks, diag)
        group = replace(read.spec, notify=replace(read.spec.notify, run_as=users))
        if any(s.name == group.name for s in sync_groups):
            diag.error(f"duplicate vrrp_sync_group '{group.name}'", stmt.key.file, stmt.key.line)
            continue
        sync_groups.append(group)
        for m in members:
            if m.text not in defined:
                diag.error(
                    f"vrrp_sync_group {group.name}: no vrrp_instance named '{m.text}'",
                    m.file,
                    m.line,
                )
            elif m.text in member_of:
                diag.error(
                    f"vrrp_instance {m.text} is already in vrrp_sync_group {member_of[m.text]}",
                    m.file,
                    m.line,
                )
            else:
                member_of[m.text] = group.name
                spec = specs.get(m.text)
                if spec is not None:
                    spec = _join(spec, group.name, keep_weights, m, diag)
                    spec = _with_group_tracks(spec, group_tracks)
                    said = "notify_priority_changes" in defined[m.text].flags
                    if read.priority_changes is not None and not said:
                        spec = replace(spec, notify_priority_changes=read.priority_changes)
                    specs[m.text] = spec
    check_scripts(checks, g.enable_script_security, g.script_user_at is not None, path, diag)
    if diag.errors:
        return None
    if not specs:
        diag.error("no vrrp_instance defined", path)
        return None
    return NodeSpec(
        instances=tuple(specs[d.name] for d in drafts if d.name in specs),
        scripts=tuple(resolved.values()),
        track_files=tuple(files.values()),
        track_processes=tuple(processes.values()),
        sync_groups=tuple(sync_groups),
        router_id=g.router_id,
        enable_script_security=g.enable_script_security,
        script_user=g.script_user,
        rt_priority=g.rt_priority,
        nice=g.nice,
        notify_fifos=fifos,
        static_addresses=tuple(static_ips),
        static_routes=tuple(static_routes),
        static_rules=tuple(static_rules),
        warnings=tuple(diag.warnings),
    )


def _resolve_group_tracks(
    read: _Group, defaults: dict[str, dict[str, int]], diag: Diagnostics
) -> dict[str, tuple[TrackRef, ...]]:
    """The group's tracked objects with their weights (keepalived: the object's own weight
    when the line gives none); a name no block defines is an error at its line."""
    out: dict[str, tuple[TrackRef, ...]] = {}
    for kind, lines in read.tracks.items():
        refs: list[TrackRef] = []
        for tok, weight in lines:
            known = defaults[kind]
            if kind != "interface" and tok.text not in known:
                block = {"script": "vrrp_script", "file": "vrrp_track_file"}.get(
                    kind, "vrrp_track_process"
                )
                diag.error(
                    f"track_{kind} '{tok.text}' is not defined by any {block}", tok.file, tok.line
                )
                continue
            refs.append(
                TrackRef(name=tok.text, weight=known.get(tok.text, 0) if weight is None else weight)
            )
        out[kind] = tuple(refs)
    return out


def _with_group_tracks(spec: InstanceSpec, tracks: dict[str, tuple[TrackRef, ...]]) -> InstanceSpec:
    """keepalived sync_group_tracking_init: the group's objects join each member's own
    (with their weights: only the members' own weights are zeroed). A member tracks its
    own interface already, and an object it tracks itself is not added twice."""

    def add(
        mine: tuple[TrackRef, ...], theirs: tuple[TrackRef, ...], skip: str = ""
    ) -> tuple[TrackRef, ...]:
        names = {t.name for t in mine} | {skip}
        return mine + tuple(t for t in theirs if t.name not in names)

    return replace(
        spec,
        track_interfaces=add(spec.track_interfaces, tracks.get("interface", ()), spec.interface),
        track_scripts=add(spec.track_scripts, tracks.get("script", ())),
        track_files=add(spec.track_files, tracks.get("file", ())),
        track_processes=add(spec.track_processes, tracks.get("process", ())),
    )


def _join(
    spec: InstanceSpec, group: str, keep_weights: bool, at: Token, diag: Diagnostics
) -> InstanceSpec:
    """Make `spec` a member of `group`, zeroing its tracking weights as keepalived does."""
    tracks = (
        *spec.track_interfaces,
        *spec.track_scripts,
        *spec.track_files,
        *spec.track_processes,
    )
    if keep_weights or not any(t.weight for t in tracks):
        return replace(spec, sync_group=group)
    # keepalived.conf(5): members' weights become 0 so the whole group moves together.
    diag.warn(
        f"vrrp_instance {spec.name}: tracking weights set to 0 in vrrp_sync_group "
        f"{group} (see sync_group_tracking_weight)",
        at.file,
        at.line,
    )
    return replace(
        spec,
        sync_group=group,
        track_interfaces=tuple(replace(t, weight=0) for t in spec.track_interfaces),
        track_scripts=tuple(replace(t, weight=0) for t in spec.track_scripts),
        track_files=tuple(replace(t, weight=0) for t in spec.track_files),
        track_processes=tuple(replace(t, weight=0) for t in spec.track_processes),
    )


def check_config(path: str, config_id: str | None = None) -> ConfigCheck:
    """Read `path` and report every error and warning (for --config-test); `config_id`
    keeps the lines marked `@ID` (keepalived's -i)."""
    diag = Diagnostics()
    spec = _read(path, diag, config_id)
    return ConfigCheck(spec=spec, errors=tuple(diag.errors), warnings=tuple(diag.warnings))


def load_config(path: str, config_id: str | None = None) -> NodeSpec:
    """Read `path` into a NodeSpec; raise the first ConfigError found."""
    result = check_config(path, config_id)
    if result.errors:
        raise result.errors[0]
    assert result.spec is not None
    return result.spec


__all__ = ["ConfigCheck", "check_config", "load_config"]
