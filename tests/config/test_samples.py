"""keepalived's own VRRP sample configs (their shapes, interfaces renamed) pass
--config-test wherever keepalived 2.2.7's -t accepts them.

Each file mirrors one of keepalived's doc/samples/keepalived.conf.* (VRRP parts), written
for these tests. keepalived -t runs in an empty network namespace with eth0..eth3; it
fails on its own warnings as well, so the files avoid what it warns about.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from hatui.config.keepalived import check_config
from tests.conftest import require, require_keepalived

SAMPLES = Path(__file__).parent / "samples"
CASES = [(p, None) for p in sorted(SAMPLES.glob("*.conf")) if "conditional" not in p.name]
CASES += [(SAMPLES / "conditional_conf.conf", i) for i in ("high", "low")]

pytestmark = pytest.mark.keepalived


def keepalived_accepts(path: Path, config_id: str | None) -> subprocess.CompletedProcess[str]:
    require_keepalived()
    require(shutil.which("unshare") is not None, "needs unshare(1)")
    links = "ip link add eth0 type veth peer name eth1 && ip link add eth2 type veth peer name eth3"
    ident = f"-i {config_id} " if config_id else ""
    script = f'{links} && exec keepalived -t -l -n -D {ident}-f "$1"'
    return subprocess.run(
        ["unshare", "-n", "sh", "-c", script, "sh", str(path)],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


@pytest.mark.parametrize(("path", "config_id"), CASES, ids=lambda c: getattr(c, "name", str(c)))
def test_sample_shapes_pass_where_keepalived_accepts_them(
    path: Path, config_id: str | None
) -> None:
    result = keepalived_accepts(path, config_id)
    assert result.returncode == 0, result.stdout + result.stderr
    check = check_config(str(path), config_id)
    assert check.errors == (), [str(e) for e in check.errors]
    assert check.spec is not None and check.spec.instances


def test_conditional_sample_differs_by_config_id() -> None:
    path = str(SAMPLES / "conditional_conf.conf")
    high, low = (check_config(path, i).spec for i in ("high", "low"))
    assert high is not None and low is not None
    assert (high.instances[0].priority, low.instances[0].priority) == (170, 85)
    assert (high.scripts[0].command, low.scripts[0].command) == ("/usr/bin/test -e /", "/bin/true")
    assert [v.address for v in high.instances[0].vips] == [f"192.0.2.{n}" for n in range(250, 255)]
