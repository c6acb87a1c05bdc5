"""keepalived's conditional and parameterised config: @ID lines, $NAME parameters, ~SEQ."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hatui.config.diagnostics import Diagnostics
from hatui.config.keepalived import check_config, load_config
from hatui.config.params import Preprocessor
from tests.config.test_keepalived_oracle import keepalived_test

ONE_FILE_TWO_NODES = """\
$VIP=192.0.2.100
$IFACE=eth0
$VIPS=\\
    ${VIP}/24 \\
    192.0.2.101/24

global_defs {
@high    router_id high_node
@^high   router_id other_node
}
vrrp_instance VI_1 {
    interface $IFACE   # comments still end a line
@high    priority 170
@low     priority 85
    virtual_router_id 51
    virtual_ipaddress {
        $VIPS
~SEQ(n, 102, 2, 106) 192.0.2.${n}/24
    }
}
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "k.conf"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("config_id", "priority", "router_id"),
    [("high", 170, "high_node"), ("low", 85, "other_node"), (None, 100, "other_node")],
)
def test_one_file_serves_both_nodes(
    tmp_path: Path, config_id: str | None, priority: int, router_id: str
) -> None:
    spec = load_config(write(tmp_path, ONE_FILE_TWO_NODES), config_id)
    (inst,) = spec.instances
    assert (inst.priority, spec.router_id, inst.interface) == (priority, router_id, "eth0")
    assert [str(v) for v in inst.vips] == [
        "192.0.2.100/24",
        "192.0.2.101/24",
        "192.0.2.102/24",
        "192.0.2.104/24",
        "192.0.2.106/24",
    ]


def test_keepalived_accepts_the_same_file(tmp_path: Path) -> None:
    path = write(tmp_path, ONE_FILE_TWO_NODES)
    assert check_config(path, "high").errors == ()
    result = keepalived_test(Path(path))
    assert result.returncode == 0, result.stdout + result.stderr


def lines(text: str, config_id: str | None = None) -> tuple[list[str], Diagnostics]:
    diag = Diagnostics()
    pre = Preprocessor(diag, config_id)
    out: list[str] = []
    for n, raw in enumerate(text.splitlines(), 1):
        out += pre.lines(raw, "k.conf", n)
    return out, diag


def test_substitution_rules() -> None:
    out, diag = lines(
        "$A=one\n$B = two words\n$A$B ${A}x $Ax $UNKNOWN\n$A=redefined\n$A\n${_INSTANCE}\n",
        "node1",
    )
    # As keepalived: "$A$B" keeps "$A" (a bare name must end at a blank, ',' or ')').
    assert out == ["$Atwo words onex $Ax $UNKNOWN", "redefined", "node1"]
    assert diag.errors == []


def test_seq_forms_and_hex() -> None:
    out, _ = lines("~SEQ(i, 3) a$i\n~SEQ(i, 5, 3) b$i\n~SEQx(i, 9, 3, 15) c$i\n~SEQ(i, 0) d$i\n")
    assert out == ["a1", "a2", "a3", "b5", "b4", "b3", "c9", "cc", "cf", "d1", "d0"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("~SEQ(i, 1, -1, 5) x", "invalid ~SEQ specification"),
        ("~SEQ(1i, 5) x", "invalid ~SEQ specification"),
        ("~SEQx(i, -2, 2) x", "~SEQx is only valid for positive numbers"),
        ("~SEQ(i, 1, 100000) x", "~SEQ of 100000 lines is too long"),
        ("~LST({a}, {1}) x", "not supported by hatui: ~LST({a},"),
        ("$A=$A $A\n$A", "parameter substitution makes the line too long"),
        ("$A=x$A\n$A", "parameter substitution nested or repeated too far"),
    ],
)
def test_bad_preprocessor_lines_are_errors_at_their_line(text: str, message: str) -> None:
    _, diag = lines(text)
    (error,) = diag.errors
    assert str(error).startswith(f"k.conf:{text.count(chr(10)) + 1}: {message}"), str(error)


def test_config_id_flag_selects_lines_at_config_test(tmp_path: Path) -> None:
    path = write(tmp_path, ONE_FILE_TWO_NODES.replace("@low     priority 85", "@low priority 999"))
    argv = [sys.executable, "-m", "hatui", "-c", path, "--config-test", "--config-id"]
    ok = subprocess.run([*argv, "high"], capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([*argv, "low"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2
    assert bad.stderr.strip().endswith(
        f"{path}:14: priority 999 out of range 1..255; keepalived 2.2.7 would run this "
        "instance at priority 100"
    )
