"""keepalived.conf to NodeSpec: `load_config` for running, `check_config` for --config-test."""

from __future__ import annotations

from dataclasses import dataclass, replace

from hatui.config.diagnostics import Diagnostics
from hatui.config.globaldefs import Globals, read_global_defs
from hatui.config.instance import Draft, read_instance
from hatui.config.lexer import Token, read_tokens
from hatui.config.resolve import finish_instance
from hatui.config.tree import Stmt, build_tree
from hatui.config.values import arg, fail, integer
from hatui.errors import ConfigError
from hatui.types import US_PER_S
from hatui.vrrp.spec import (
    InstanceSpec,
    NodeSpec,
    NotifySpec,
    ScriptSpec,
    SyncGroupSpec,
    TrackFileSpec,
)

LVS = frozenset({"virtual_server", "virtual_server_group"})
# Top-level blocks keepalived knows and hatui does not run.
IGNORED_BLOCKS = frozenset(
    """
    vrrp_track_process bfd_instance garp_group vrrp_garp_group linkbeat_interfaces
    static_ipaddress static_routes static_rules
    """.split()  # noqa: SIM905 - a word list reads better
)
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


def _script(stmt: Stmt, diag: Diagnostics) -> ScriptSpec:
    name, block = _named_block(stmt)
    fields: dict[str, int | str | None] = {}
    command: str | None = None
    for line in block:
        key = line.key
        try:
            match line.name:
                case "script":
                    # keepalived runs the first word, split again: a command with
                    # arguments is quoted whole, and later words are dropped.
                    command = arg(line).text
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
                    fields["user"] = arg(line).text
                    if len(line.args) > 1:
                        diag.warn("user: group ignored", key.file, key.line)
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
    return ScriptSpec(
        name=name,
        command=command,
        interval_us=int(fields.get("interval_us") or US_PER_S),
        timeout_us=int(t) if (t := fields.get("timeout_us")) is not None else None,
        weight=int(fields.get("weight") or 0),
        rise=int(fields.get("rise") or 1),
        fall=int(fields.get("fall") or 1),
        user=str(u) if (u := fields.get("user")) is not None else None,
    )


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


def _sync_group(stmt: Stmt, diag: Diagnostics) -> tuple[SyncGroupSpec, list[Token], bool]:
    """The group, its member name tokens (checked later), and sync_group_tracking_weight."""
    name, block = _named_block(stmt)
    members: list[Token] = []
    notify = NotifySpec()
    keep_weights = False
    for line in block:
        key = line.key
        try:
            if line.name == "group":
                if line.block is None:
                    fail(key, "group: expected a '{' block of vrrp_instance names")
                for item in line.block:
                    members.extend([item.key, *item.args])
            elif line.name in _GROUP_NOTIFY:
                if len(line.args) > 1:
                    diag.warn(
                        f"{line.name}: user/group ignored: hatui runs scripts as script_user",
                        key.file,
                        key.line,
                    )
                notify = replace(notify, **{_GROUP_NOTIFY[line.name]: arg(line).text})
            elif line.name in (
                "track_interface",
                "track_script",
                "track_file",
                "track_bfd",
                "track_process",
            ):
                fail(key, f"not supported by hatui: {line.name} in vrrp_sync_group")
            elif line.name == "sync_group_tracking_weight":
                keep_weights = True
            elif line.name in ("smtp_alert", "global_tracking", "notify_priority_changes"):
                pass
            else:
                diag.warn(f"unknown keyword '{line.name}' ignored", key.file, key.line)
        except ConfigError as e:
            diag.add(e)
    if not members:
        fail(stmt.key, f"vrrp_sync_group {name} has no group members")
    spec = SyncGroupSpec(name=name, members=tuple(m.text for m in members), notify=notify)
    return spec, members, keep_weights


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


def _read(path: str, diag: Diagnostics) -> NodeSpec | None:
    tree = build_tree(read_tokens(path, diag), diag)
    g = Globals()
    scripts: dict[str, ScriptSpec] = {}
    files: dict[str, TrackFileSpec] = {}
    drafts: list[Draft] = []
    groups: list[tuple[Stmt, SyncGroupSpec, list[Token], bool]] = []
    for stmt in tree:
        key = stmt.key
        try:
            match stmt.name:
                case "global_defs":
                    if stmt.block is None:
                        fail(key, "global_defs: expected a '{' block")
                    g = read_global_defs(g, stmt.block, diag)
                case "vrrp_script":
                    script = _script(stmt, diag)
                    if script.name in scripts:
                        fail(key, f"duplicate vrrp_script '{script.name}'")
                    scripts[script.name] = script
                case "vrrp_track_file":
                    tf = _track_file(stmt, diag)
                    if tf.name in files:
                        fail(key, f"duplicate vrrp_track_file '{tf.name}'")
                    files[tf.name] = tf
                case "vrrp_instance":
                    draft = read_instance(stmt, diag)
                    if draft is not None:
                        drafts.append(draft)
                case "vrrp_sync_group":
                    groups.append((stmt, *_sync_group(stmt, diag)))
                case name if name in LVS:
                    diag.warn("LVS configuration ignored: hatui runs VRRP only", key.file, key.line)
                case name if name in IGNORED_BLOCKS:
                    diag.warn(f"not supported by hatui: {name} ignored", key.file, key.line)
                case name:
                    diag.warn(f"unknown keyword '{name}' ignored", key.file, key.line)
        except ConfigError as e:
            diag.add(e)
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
        spec = finish_instance(d, g, scripts, weights, diag)
        if spec is not None:
            specs[d.name] = spec
    _check_duplicates(drafts, specs, diag)
    member_of: dict[str, str] = {}
    sync_groups: list[SyncGroupSpec] = []
    for stmt, group, members, keep_weights in groups:
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
                    specs[m.text] = _join(spec, group.name, keep_weights, m, diag)
    if diag.errors:
        return None
    if not specs:
        diag.error("no vrrp_instance defined", path)
        return None
    return NodeSpec(
        instances=tuple(specs[d.name] for d in drafts if d.name in specs),
        scripts=tuple(scripts.values()),
        track_files=tuple(files.values()),
        sync_groups=tuple(sync_groups),
        router_id=g.router_id,
        enable_script_security=g.enable_script_security,
        script_user=g.script_user,
        rt_priority=g.rt_priority,
        nice=g.nice,
        warnings=tuple(diag.warnings),
    )


def _join(
    spec: InstanceSpec, group: str, keep_weights: bool, at: Token, diag: Diagnostics
) -> InstanceSpec:
    """Make `spec` a member of `group`, zeroing its tracking weights as keepalived does."""
    tracks = (*spec.track_interfaces, *spec.track_scripts, *spec.track_files)
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
    )


def check_config(path: str) -> ConfigCheck:
    """Read `path` and report every error and warning (for --config-test)."""
    diag = Diagnostics()
    spec = _read(path, diag)
    return ConfigCheck(spec=spec, errors=tuple(diag.errors), warnings=tuple(diag.warnings))


def load_config(path: str) -> NodeSpec:
    """Read `path` into a NodeSpec; raise the first ConfigError found."""
    result = check_config(path)
    if result.errors:
        raise result.errors[0]
    assert result.spec is not None
    return result.spec


__all__ = ["ConfigCheck", "check_config", "load_config"]
