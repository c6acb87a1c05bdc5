"""keepalived's own config test (`keepalived -t`) as a syntax oracle for the fixtures.

It runs in a fresh, empty network namespace (`unshare -n`) holding only a veth pair named
eth0/eth1 so keepalived finds the interfaces the fixtures name; -t parses and exits, so
nothing is ever sent.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from hatui.config.keepalived import check_config
from tests.conftest import require, require_keepalived

FIXTURES = Path(__file__).parent / "fixtures"
VALID = sorted(p for p in FIXTURES.rglob("*.conf") if "conf.d" not in p.parts)

pytestmark = pytest.mark.keepalived


def keepalived_test(path: Path) -> subprocess.CompletedProcess[str]:
    require_keepalived()
    require(shutil.which("unshare") is not None, "needs unshare(1)")
    script = 'ip link add eth0 type veth peer name eth1 && exec keepalived -t -l -n -D -f "$1"'
    return subprocess.run(
        ["unshare", "-n", "sh", "-c", script, "sh", str(path)],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_keepalived_accepts_our_valid_fixtures(path: Path) -> None:
    assert check_config(str(path)).errors == ()
    result = keepalived_test(path)
    assert result.returncode == 0, result.stdout + result.stderr


INSTANCE = """\
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        192.0.2.100/24
    }
}
"""


@pytest.mark.parametrize(
    "text",
    [
        INSTANCE.replace("virtual_router_id 51", "virtual_router_id 256"),
        INSTANCE.replace("    priority 100\n", "    track_script {\n        nope\n    }\n"),
        INSTANCE + INSTANCE.replace("VI_1", "VI_2"),
        INSTANCE.replace("192.0.2.100/24", "2001:db8::1/64").replace("}\n}", "}\n    version 2\n}"),
        # The mistakes in keepalived's own vrrp.lvs_syncd and vrrp.rules samples.
        "vrrp_sync_group VG1 {\n    VI_1\n}\n" + INSTANCE,
        INSTANCE.replace(
            "    virtual_ipaddress",
            "    virtual_rules {\n        to 192.0.2./24 table 1\n    }\n    virtual_ipaddress",
        ),
    ],
    ids=[
        "vrid-range",
        "undefined-track-script",
        "duplicate-vrid",
        "v2-ipv6",
        "sync-group-without-group",
        "rule-bad-address",
    ],
)
def test_both_reject_the_same_mistakes(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.conf"
    path.write_text(text)
    assert check_config(str(path)).errors != ()
    assert keepalived_test(path).returncode != 0
