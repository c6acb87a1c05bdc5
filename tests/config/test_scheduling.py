"""keepalived's process scheduling keywords reach the node spec instead of being ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from hatui.config.keepalived import check_config, load_config
from hatui.errors import ConfigError

INSTANCE = """
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.100/24
    }
}
"""


def write(tmp_path: Path, globals_text: str) -> str:
    path = tmp_path / "keepalived.conf"
    path.write_text(f"global_defs {{\n{globals_text}\n}}\n{INSTANCE}")
    return str(path)


def test_rt_priority_and_nice_are_read(tmp_path: Path) -> None:
    spec = load_config(write(tmp_path, "    vrrp_rt_priority 40\n    vrrp_priority -5"))
    assert (spec.rt_priority, spec.nice) == (40, -5)
    assert spec.warnings == ()


def test_defaults_leave_scheduling_alone(tmp_path: Path) -> None:
    spec = load_config(write(tmp_path, "    router_id a"))
    assert (spec.rt_priority, spec.nice) == (None, None)


@pytest.mark.parametrize(
    "line", ["vrrp_rt_priority 0", "vrrp_rt_priority 100", "vrrp_priority 20", "vrrp_priority -21"]
)
def test_out_of_range_values_are_errors_with_their_line(tmp_path: Path, line: str) -> None:
    path = write(tmp_path, f"    {line}")
    check = check_config(path)
    assert check.spec is None
    assert any(f"{path}:2:" in str(e) for e in check.errors), check.errors
    with pytest.raises(ConfigError):
        load_config(path)
