"""keepalived.conf to NodeSpec: `load_config` for running, `check_config` for --config-test."""

from __future__ import annotations

from dataclasses import dataclass, replace

from hatui.config.addresses import read_vips
from hatui.config.blocks import block_of, read_script, read_track_file, read_track_process
from hatui.config.diagnostics import Diagnostics
from hatui.config.fallback import KEEPALIVED, follows
from hatui.config.fifos import notify_users, read_fifos, who_runs
from hatui.config.globaldefs import Globals, read_global_defs
from hatui.config.instance import Draft, read_instance
from hatui.config.lexer import read_tokens
from hatui.config.resolve import finish_instance
from hatui.config.routes import read_routes, read_rules
from hatui.config.security import ScriptLine, check_scripts, default_run_as
from hatui.config.syncgroup import (
    GroupRead,
    join_group,
    read_sync_group,
    resolve_group_tracks,
    with_group_tracks,
)
from hatui.config.tree import build_tree
from hatui.config.values import fail
from hatui.errors import ConfigError
from hatui.vrrp.spec import (
    InstanceSpec,
    NodeSpec,
    RouteSpec,
    RuleSpec,
    RunAs,
    ScriptSpec,
    SyncGroupSpec,
    TrackFileSpec,
    TrackProcessSpec,
    Vip,
)

LVS = frozenset({"virtual_server", "virtual_server_group"})
# Top-level blocks keepalived knows and hatui does not run.
IGNORED_BLOCKS = frozenset(
    """
    bfd_instance garp_group vrrp_garp_group linkbeat_interfaces
    """.split()  # noqa: SIM905 - a word list reads better
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigCheck:
    """The result of --config-test: the spec when there is no error, and every message."""

    spec: NodeSpec | None
    errors: tuple[ConfigError, ...]
    warnings: tuple[str, ...]


def _check_duplicates(
    drafts: list[Draft], specs: dict[str, InstanceSpec], diag: Diagnostics
) -> None:
    """One (interface, family, VRID) per adverts channel (RFC 5798 5.2.3), and one
    instance per macvlan name."""
    vmacs: dict[str, InstanceSpec] = {}
    for d in drafts:
        spec = specs.get(d.name)
        if spec is None or spec.vmac is None or d.vmac is None:
            continue
        first = vmacs.setdefault(spec.vmac, spec)
        if first is not spec:
            diag.error(
                f"use_vmac {spec.vmac} is already vrrp_instance {first.name}'s: give a name",
                d.vmac.file,
                d.vmac.line,
            )
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
    groups: list[GroupRead] = []
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
                    script, line = read_script(stmt, diag)
                    if script.name in scripts:
                        fail(key, f"duplicate vrrp_script '{script.name}'")
                    scripts[script.name] = (script, line)
                case "vrrp_track_file":
                    tf = read_track_file(stmt, diag)
                    if tf.name in files:
                        fail(key, f"duplicate vrrp_track_file '{tf.name}'")
                    files[tf.name] = tf
                case "vrrp_track_process":
                    tp = read_track_process(stmt, diag)
                    if tp.name in processes:
                        fail(key, f"duplicate vrrp_track_process '{tp.name}'")
                    processes[tp.name] = tp
                case "vrrp_instance":
                    draft = read_instance(stmt, diag)
                    if draft is not None:
                        drafts.append(draft)
                case "vrrp_sync_group":
                    groups.append(read_sync_group(stmt, diag))
                case "static_ipaddress":
                    block = block_of(stmt)
                    static_ips.extend(v for v, _ in read_vips(block, stmt.name, diag))
                case "static_routes":
                    static_routes.extend(read_routes(block_of(stmt), diag))
                case "static_rules":
                    static_rules.extend(read_rules(block_of(stmt), diag))
                case "net_namespace" | "instance":
                    # keepalived reads these outside global_defs too.
                    why = "hatui runs in the namespace and instance it is started in"
                    diag.warn(f"'{stmt.name}' ignored: {why} (ip netns exec)", key.file, key.line)
                case name if name in LVS:
                    diag.warn("LVS configuration ignored: hatui runs VRRP only", key.file, key.line)
                case name if name in IGNORED_BLOCKS:
                    diag.warn(f"not supported by hatui: {name} ignored", key.file, key.line)
                case name:
                    diag.warn(follows(f"unknown keyword '{name}' ignored"), key.file, key.line)
        except ConfigError as e:
            diag.add(e)
    try:
        default = default_run_as(g.script_user_at)
    except ConfigError as e:
        diag.add(e)
        default = None
    checks: list[tuple[ScriptLine, RunAs | None]] = []
    fifos = read_fifos(g, default, checks, diag)
    resolved: dict[str, ScriptSpec] = {}
    for name, (script, line) in scripts.items():
        who = who_runs(line, default, diag)
        checks.append((line, who))
        resolved[name] = replace(script, run_as=who)
    specs: dict[str, InstanceSpec] = {}
    defined: dict[str, Draft] = {}
    weights = {name: f.weight for name, f in files.items()}
    for d in drafts:
        first = defined.setdefault(d.name, d)
        if first is not d:
            diag.error(
                f"duplicate vrrp_instance '{d.name}' (first at {first.at.where}); "
                f"{KEEPALIVED} would ignore this one",
                d.at.file,
                d.at.line,
            )
            continue
        pweights = {name: p.weight for name, p in processes.items()}
        spec = finish_instance(d, g, resolved, weights, diag, pweights)
        users = notify_users(d.notify_lines, default, checks, diag)
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
        group_tracks = resolve_group_tracks(read, defaults, diag)
        users = notify_users(read.notify_lines, default, checks, diag)
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
                    spec = join_group(spec, group.name, keep_weights, m, diag)
                    spec = with_group_tracks(spec, group_tracks)
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
