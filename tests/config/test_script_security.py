"""Script users and enable_script_security, checked against keepalived -t where it can run."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from hatui.config.keepalived import check_config
from hatui.vrrp.spec import RunAs
from tests.config.test_keepalived_oracle import keepalived_test
from tests.conftest import require_root

NOBODY = pwd.getpwnam("nobody")
VIOLATION = "SECURITY VIOLATION - scripts are being executed but script_security not enabled."


def conf(script: str, *, globals_: str, user: str = "", notify: str = "") -> str:
    return (
        f"global_defs {{\n{globals_}}}\n"
        f"vrrp_script chk {{\n    script {script}\n{user}}}\n"
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n"
        "    virtual_ipaddress {\n        192.0.2.100/24\n    }\n"
        f"    track_script {{\n        chk\n    }}\n{notify}}}\n"
    )


SECURE_ROOT = "    script_user root\n    enable_script_security\n"


def script_in(directory: Path, mode: int) -> Path:
    directory.mkdir(mode=mode)
    directory.chmod(mode)  # mkdir applies the umask
    path = directory / "chk.sh"
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "k.conf"
    path.write_text(text)
    return str(path)


def test_script_in_world_writable_dir_is_refused_naming_script_and_dir(tmp_path: Path) -> None:
    require_root()
    chk = script_in(tmp_path / "open", 0o777)
    path = write(tmp_path, conf(str(chk), globals_=SECURE_ROOT))
    result = check_config(path)
    assert [str(e) for e in result.errors] == [
        f"{path}:6: vrrp_script chk: script {chk} runs as root and is unsafe: "
        f"{tmp_path / 'open'} is writable by everyone (mode 0777) (enable_script_security)"
    ]
    assert keepalived_test(Path(path)).returncode != 0  # keepalived refuses it too


def test_sticky_world_writable_dir_is_safe_as_keepalived_says(tmp_path: Path) -> None:
    require_root()
    chk = script_in(tmp_path / "sticky", 0o1777)  # like /tmp
    path = write(tmp_path, conf(str(chk), globals_=SECURE_ROOT))
    assert check_config(path).errors == ()
    result = keepalived_test(Path(path))
    assert result.returncode == 0, result.stderr


def test_script_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    require_root()
    chk = script_in(tmp_path / "d", 0o755)
    os.chown(chk, NOBODY.pw_uid, NOBODY.pw_gid)
    path = write(tmp_path, conf(str(chk), globals_=SECURE_ROOT))
    (error,) = check_config(path).errors
    assert f"{chk} is owned by uid {NOBODY.pw_uid}, not root" in str(error)


def test_without_script_security_unsafe_scripts_only_warn_as_keepalived(tmp_path: Path) -> None:
    require_root()
    chk = script_in(tmp_path / "open", 0o777)
    text = conf(str(chk), globals_="    script_user root\n")
    path = write(tmp_path, text)
    result = check_config(path)
    assert result.errors == ()
    assert result.warnings == (
        f"{path}:{line_of(text, 'script /')}: vrrp_script chk: script {chk} runs as root and "
        f"is unsafe: {tmp_path / 'open'} is writable by everyone (mode 0777)",
        f"{path}: {VIOLATION} There are insecure scripts.",
    )


def test_script_user_nobody_needs_no_root_safety(tmp_path: Path) -> None:
    chk = script_in(tmp_path / "open", 0o777)
    secure_nobody = "    script_user nobody\n    enable_script_security\n"
    path = write(tmp_path, conf(str(chk), globals_=secure_nobody))
    result = check_config(path)
    assert result.errors == () and result.warnings == ()
    assert result.spec is not None
    (script,) = result.spec.scripts
    assert script.run_as == RunAs(user="nobody", uid=NOBODY.pw_uid, gid=NOBODY.pw_gid)


def test_per_script_and_per_notify_users_override_script_user(tmp_path: Path) -> None:
    text = conf(
        "/bin/true",
        globals_=SECURE_ROOT,
        user="    user nobody root\n",
        notify='    notify_master "/bin/true up" nobody\n',
    )
    result = check_config(write(tmp_path, text))
    assert result.errors == ()
    assert result.spec is not None
    assert result.spec.scripts[0].run_as == RunAs(user="nobody", uid=NOBODY.pw_uid, gid=0)
    notify = result.spec.instances[0].notify
    assert notify.user_of("master") == RunAs(user="nobody", uid=NOBODY.pw_uid, gid=NOBODY.pw_gid)


@pytest.mark.parametrize(
    ("globals_", "user", "message"),
    [
        ("    script_user no_such_user_x\n", "", "user 'no_such_user_x' does not exist"),
        ("", "    user nobody no_such_group_x\n", "group 'no_such_group_x' does not exist"),
        (
            "    enable_script_security\n",
            "",
            "vrrp_script chk: unable to set default user keepalived_script for script "
            "(no such user): set script_user",
        ),
    ],
    ids=["unknown-user", "unknown-group", "no-default-user"],
)
def test_users_that_cannot_run_scripts_are_errors(
    tmp_path: Path, globals_: str, user: str, message: str
) -> None:
    if "keepalived_script" in message:
        try:
            pwd.getpwnam("keepalived_script")
            pytest.skip("this machine has a keepalived_script user")
        except KeyError:
            pass
    text = conf("/bin/true", globals_=globals_, user=user)
    path = write(tmp_path, text)
    at = line_of(text, message.split("'")[1] if "'" in message else "script /")
    assert [str(e) for e in check_config(path).errors] == [f"{path}:{at}: {message}"]
