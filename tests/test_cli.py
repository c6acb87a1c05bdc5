"""Bad input gets one clear line on stderr and the documented exit code, never a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require, require_root


def hatui(*args: str, drop_caps: bool = False) -> subprocess.CompletedProcess[str]:
    """Run hatui; `drop_caps` runs it as root without CAP_NET_RAW/NET_ADMIN, like a user."""
    prefix = ["setpriv", "--bounding-set=-net_raw,-net_admin"] if drop_caps else []
    return subprocess.run(
        [*prefix, sys.executable, "-m", "hatui", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def one_line_error(proc: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("hatui: ") or ":" in lines[0]
    assert needle in lines[0], lines[0]
    assert "Traceback" not in proc.stderr


def test_no_mode_is_a_usage_error() -> None:
    one_line_error(hatui(), 2, "choose a mode")


def test_unknown_flag_is_one_line() -> None:
    one_line_error(hatui("--frobnicate"), 2, "unrecognized arguments: --frobnicate")


def test_two_modes_are_refused() -> None:
    one_line_error(hatui("--read", "x.pcap", "--serve"), 2, "not allowed with argument")


def test_haproxy_flag_outside_live_modes_is_refused() -> None:
    one_line_error(hatui("--read", "x.pcap", "--haproxy", "/s"), 2, "--haproxy goes with --watch")


def test_missing_capture_file(tmp_path: Path) -> None:
    one_line_error(hatui("--read", str(tmp_path / "none.pcap"), "--json"), 2, "none.pcap")


def test_garbage_capture_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"this is not a capture file at all, not even close")
    one_line_error(hatui("--read", str(bad), "--json"), 2, "not a pcap or pcapng file")


def test_missing_interface_for_watch() -> None:
    require_root()
    one_line_error(
        hatui("--watch", "nosuch0", "--headless", "--duration", "1"),
        1,
        "interface 'nosuch0' does not exist",
    )


def test_watch_without_capture_rights_says_so() -> None:
    require_root()
    require(shutil.which("setpriv") is not None, "needs setpriv (util-linux)")
    proc = hatui("--watch", "lo", "--headless", "--duration", "1", drop_caps=True)
    one_line_error(proc, 1, "needs root")


def test_serve_on_missing_interface() -> None:
    require_root()
    proc = hatui(
        "--serve",
        "--interface",
        "nosuch0",
        "--vrid",
        "51",
        "--vip",
        "192.0.2.100/24",
        "--headless",
        "--duration",
        "1",
        "--control",
        "/tmp/hatui-test-none.sock",
    )
    one_line_error(proc, 1, "nosuch0")


def test_serve_flags_validation() -> None:
    one_line_error(
        hatui(
            "--serve",
            "--interface",
            "eth0",
            "--vrid",
            "300",
            "--vip",
            "192.0.2.100/24",
            "--headless",
        ),
        2,
        "300",
    )


def test_serve_without_instance_flags() -> None:
    one_line_error(hatui("--serve", "--headless"), 2, "--serve needs -c FILE")


def test_config_test_reports_file_and_line(tmp_path: Path) -> None:
    conf = tmp_path / "keepalived.conf"
    conf.write_text("vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 999\n}\n")
    proc = hatui("-c", str(conf), "--config-test")
    assert proc.returncode == 2
    assert f"{conf}:3:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_config_test_ok(tmp_path: Path) -> None:
    conf = tmp_path / "keepalived.conf"
    conf.write_text(
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n"
        "    priority 150\n    virtual_ipaddress {\n        192.0.2.100/24\n    }\n}\n"
    )
    proc = hatui("-c", str(conf), "--config-test")
    assert proc.returncode == 0, proc.stderr
    assert "VI_1" in proc.stdout


@pytest.mark.parametrize("args", [["--help"], ["ctl", "--help"]])
def test_help_works(args: list[str]) -> None:
    proc = hatui(*args)
    assert proc.returncode == 0
    assert "hatui" in proc.stdout


@pytest.mark.parametrize(
    "flags",
    [
        ["--interface", "eth0", "--vrid", "51", "--priority", "150", "--vip", "192.0.2.100/24",
         "--vip", "192.0.2.101/24", "--advert-int", "0.1", "--vrrp-version", "3",
         "--unicast-peer", "192.0.2.12", "--unicast-src", "192.0.2.11", "--auth-pass", "s3cret",
         "--nopreempt", "--preempt-delay", "2", "--name", "VI_X", "--checksum", "plain",
         "--rt-priority", "10", "--metrics", "127.0.0.1:9650", "-v"],
        ["-c", "/etc/keepalived/keepalived.conf", "--config-id", "a"],
    ],
)  # fmt: skip
def test_a_serving_consoles_node_child_gets_the_same_node(flags: list[str]) -> None:
    """The child's flags, parsed again, define the same node as the console's."""
    from hatui.cli import NODE_CHILD_FLAGS, NODE_GROUP, build_parser, node_argv

    parser = build_parser()
    mine = parser.parse_args(["--serve", "--control", "/tmp/x.sock", "--duration", "5", *flags])
    child = parser.parse_args(node_argv(mine))
    group = next(g for g in parser._action_groups if g.title == NODE_GROUP)
    for dest in NODE_CHILD_FLAGS | {a.dest for a in group._group_actions}:
        assert getattr(child, dest) == getattr(mine, dest), dest
    assert (child.serve, child.headless, child.control) == (True, True, "/tmp/x.sock")
    assert child.duration is None  # the console's own: it stops the node itself
