"""Who scripts run as, and keepalived's script security check (enable_script_security).

keepalived (lib/notify.c) runs scripts as their own `user`, else `script_user`, else
the user `keepalived_script` if it exists, else as itself (root). A script that runs
as root (uid or gid 0, or set-uid/gid root) is unsafe when the script, or any directory
on its path (as written and resolved), is not owned by root, or is writable by a
non-root group or by everyone (a directory with the sticky bit, like /tmp, is fine).
With enable_script_security an unsafe script is refused; without it keepalived warns.
"""

from __future__ import annotations

import grp
import os
import pwd
import shlex
import shutil
import stat
from dataclasses import dataclass

from hatui.config.diagnostics import Diagnostics, shorten
from hatui.config.lexer import Token
from hatui.config.values import fail
from hatui.vrrp.spec import RunAs

DEFAULT_USER = "keepalived_script"
VIOLATION = "SECURITY VIOLATION - scripts are being executed but script_security not enabled."


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptLine:
    """A configured script, with the `user [group]` words written for it, if any."""

    label: str  # "vrrp_script chk", "vrrp_instance VI_1 notify_master", ...
    command: str
    at: Token
    user: Token | None = None
    group: Token | None = None


def run_as(user: Token, group: Token | None) -> RunAs:
    """`user [group]` to ids; the group defaults to the user's own (keepalived.conf(5))."""
    try:
        pw = pwd.getpwnam(user.text)
    except (KeyError, ValueError):
        fail(user, f"user '{shorten(user.text)}' does not exist")
    gid = pw.pw_gid
    if group is not None:
        try:
            gid = grp.getgrnam(group.text).gr_gid
        except (KeyError, ValueError):
            fail(group, f"group '{shorten(group.text)}' does not exist")
    return RunAs(user=user.text, uid=pw.pw_uid, gid=gid)


def default_run_as(script_user: tuple[Token, Token | None] | None) -> RunAs | None:
    """script_user, else keepalived_script when that user exists, else None (ourselves)."""
    if script_user is not None:
        return run_as(*script_user)
    try:
        pw = pwd.getpwnam(DEFAULT_USER)
    except (KeyError, ValueError):
        return None
    return RunAs(user=DEFAULT_USER, uid=pw.pw_uid, gid=pw.pw_gid)


def _unsafe_component(path: str) -> str | None:
    """Why `path` or a directory above it could be changed by a non-root user, or None."""
    parts = path.split("/")
    for end in range(1, len(parts) + 1):
        here = "/".join(parts[:end]) or "/"
        if end > 1 and not parts[end - 1]:
            continue  # a doubled or trailing slash
        try:
            st = os.lstat(here)
        except OSError:
            return None  # missing: the runtime reports it and marks the script failed
        mode = st.st_mode
        if st.st_uid != 0:
            return f"{here} is owned by uid {st.st_uid}, not root"
        guarded = stat.S_ISDIR(mode) and mode & stat.S_ISVTX
        if guarded or not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            continue
        if mode & stat.S_IWOTH:
            return f"{here} is writable by everyone (mode {stat.S_IMODE(mode):04o})"
        if st.st_gid != 0 and mode & stat.S_IWGRP:
            return f"{here} is writable by group {st.st_gid} (mode {stat.S_IMODE(mode):04o})"
    return None


def _program(command: str) -> str | None:
    """The absolute path of the program a script line runs, or None if it is not found."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None  # the runtime reports the quoting error
    if not words or "\0" in words[0]:
        return None  # no program, or one no path can name
    exe = words[0] if "/" in words[0] else shutil.which(words[0])
    return os.path.abspath(exe) if exe else None


def _runs_as_root(path: str, who: RunAs | None) -> bool:
    uid, gid = (os.geteuid(), os.getegid()) if who is None else (who.uid, who.gid)
    if uid == 0 or gid == 0:
        return True
    try:
        st = os.stat(path)
    except OSError:
        return False
    return bool(
        (st.st_uid == 0 and st.st_mode & stat.S_ISUID)
        or (st.st_gid == 0 and st.st_mode & stat.S_ISGID)
    )


def unsafe_reason(command: str, who: RunAs | None) -> tuple[str, str] | None:
    """(program, why) when the script runs as root and a non-root user could change it."""
    program = _program(command)
    if program is None or not _runs_as_root(program, who):
        return None
    for path in dict.fromkeys((program, os.path.realpath(program))):
        why = _unsafe_component(path)
        if why is not None:
            return program, why
    return None


def check_scripts(
    lines: list[tuple[ScriptLine, RunAs | None]],
    enabled: bool,
    has_script_user: bool,
    config: str,
    diag: Diagnostics,
) -> None:
    """Refuse unsafe scripts under enable_script_security; warn as keepalived does without."""
    insecure = False
    for line, who in lines:
        if enabled and who is None and line.user is None and not has_script_user:
            # keepalived will not fall back to root silently under script security.
            diag.error(
                f"{line.label}: unable to set default user {DEFAULT_USER} for script "
                "(no such user): set script_user",
                line.at.file,
                line.at.line,
            )
            break
        found = unsafe_reason(line.command, who)
        if found is None:
            continue
        program, why = found
        message = f"{line.label}: script {program} runs as root and is unsafe: {why}"
        if enabled:
            diag.error(f"{message} (enable_script_security)", line.at.file, line.at.line)
        else:
            insecure = True
            diag.warn(message, line.at.file, line.at.line)
    if lines and not enabled:
        diag.warn(VIOLATION + (" There are insecure scripts." if insecure else ""), config)
