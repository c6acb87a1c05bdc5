"""Kernel settings a node changes are put back as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from hatui.adapters.sysctl import Sysctls
from hatui.errors import RuntimeFault


def test_set_then_restore_only_what_changed(tmp_path: Path) -> None:
    conf = tmp_path / "net/ipv4/conf/eth0"
    conf.mkdir(parents=True)
    (conf / "promote_secondaries").write_text("0\n")
    (conf / "arp_ignore").write_text("1\n")
    s = Sysctls(str(tmp_path))
    s.set("net/ipv4/conf/eth0/promote_secondaries", 1)
    s.set("net/ipv4/conf/eth0/promote_secondaries", 1)  # the first old value is kept
    s.set("net/ipv4/conf/eth0/arp_ignore", 1)  # already so: nothing to put back
    assert (conf / "promote_secondaries").read_text() == "1\n"
    assert s.saved == {"net/ipv4/conf/eth0/promote_secondaries": "0"}
    s.restore()
    assert (conf / "promote_secondaries").read_text() == "0\n"
    with pytest.raises(RuntimeFault, match=r"cannot set net\.ipv4\.conf\.eth9\.rp_filter"):
        s.set("net/ipv4/conf/eth9/rp_filter", 0)
