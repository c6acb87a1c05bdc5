"""vrrp_sync_group blocks: members, notify scripts, group-level tracking, and joining
members to their group as keepalived 2.2.7 does (vrrp_sync.c, sync_group_tracking_init)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from hatui.config.blocks import named_block
from hatui.config.diagnostics import Diagnostics
from hatui.config.fallback import follows, misplaced_block
from hatui.config.instance import notify_line
from hatui.config.lexer import Token
from hatui.config.security import ScriptLine
from hatui.config.tracklines import track_lines
from hatui.config.tree import Stmt
from hatui.config.values import boolean, fail
from hatui.errors import ConfigError
from hatui.vrrp.spec import InstanceSpec, NotifySpec, SyncGroupSpec, TrackRef

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
class GroupRead:
    """A vrrp_sync_group as read: member tokens are checked once every instance is known."""

    stmt: Stmt
    spec: SyncGroupSpec
    members: list[Token]
    keep_weights: bool  # sync_group_tracking_weight
    notify_lines: dict[str, ScriptLine]
    priority_changes: bool | None  # notify_priority_changes for members that do not say
    # track_interface/_script/_file/_process of the group: every member tracks them.
    tracks: dict[str, list[tuple[Token, int | None]]]


def read_sync_group(stmt: Stmt, diag: Diagnostics) -> GroupRead:
    name, block = named_block(stmt)
    members: list[Token] = []
    notify = NotifySpec()
    lines: dict[str, ScriptLine] = {}
    keep_weights = False
    priority_changes: bool | None = None
    tracks: dict[str, list[tuple[Token, int | None]]] = {}
    for n, line in enumerate(block):
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
            elif line.block is not None:
                fail(key, misplaced_block(line, f"vrrp_sync_group {name}", block[n + 1 :]))
            else:
                diag.warn(follows(f"unknown keyword '{line.name}' ignored"), key.file, key.line)
        except ConfigError as e:
            diag.add(e)
    if not members:
        fail(stmt.key, f"vrrp_sync_group {name} has no group members")
    spec = SyncGroupSpec(name=name, members=tuple(m.text for m in members), notify=notify)
    return GroupRead(
        stmt=stmt,
        spec=spec,
        members=members,
        keep_weights=keep_weights,
        notify_lines=lines,
        priority_changes=priority_changes,
        tracks=tracks,
    )


def resolve_group_tracks(
    read: GroupRead, defaults: dict[str, dict[str, int]], diag: Diagnostics
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


def with_group_tracks(spec: InstanceSpec, tracks: dict[str, tuple[TrackRef, ...]]) -> InstanceSpec:
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


def join_group(
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
