"""vrrp_notify_fifo on a live node: keepalived's lines, its reader script, and clean-up."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from hatui.adapters.control import request
from hatui.lab import Lab, start_keepalived
from hatui.lab.nodes import start_hatui, vrrp_conf, wait_for
from tests.conftest import require_keepalived


def _conf(lab: Lab, name: str, vrid: int, vip: str) -> tuple[str, Path, Path]:
    fifo, out = lab.workdir / f"{name}.fifo", lab.workdir / f"{name}.lines"
    reader = lab.workdir / "reader.sh"
    reader.write_text('#!/bin/sh\nexec cat "$1" >> "$1.lines"\n')
    reader.chmod(0o755)
    conf = vrrp_conf(name, 150, vrid=vrid, vip=vip).replace(
        "    enable_script_security\n",
        f"    enable_script_security\n    vrrp_notify_fifo {fifo}\n"
        f"    vrrp_notify_fifo_script {reader}\n",
    )
    return conf, fifo, Path(f"{fifo}.lines") if out else out


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_fifo_lines_match_keepalived_and_the_fifo_goes_at_stop(lab: Lab) -> None:
    require_keepalived()
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    # Two independent VRIDs: each node is master of its own, both write the same story.
    conf, fifo, out = _conf(lab, "a", 51, "192.0.2.100")
    node = start_hatui(lab, a, conf=conf)
    ka_conf, _, ka_out = _conf(lab, "b", 52, "192.0.2.101")
    start_keepalived(lab, b, ka_conf)
    want = ['INSTANCE "VI_{0}" BACKUP 150', 'INSTANCE "VI_{0}" MASTER 150']
    wait_for(lambda: len(_lines(out)) >= 2, 10, "hatui's FIFO lines")
    wait_for(lambda: len(_lines(ka_out)) >= 2, 10, "keepalived's FIFO lines")
    assert _lines(out) == [w.format(51) for w in want]
    assert _lines(ka_out) == [w.format(52) for w in want]
    node.proc.send_signal(signal.SIGTERM)
    assert node.proc.wait(10) == 0, node.output()
    assert _lines(out)[-1] == 'INSTANCE "VI_51" STOP 150'
    assert not fifo.exists()  # made by hatui, so removed by it


def test_a_fifo_nobody_reads_does_not_stall_the_node(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    fifo = lab.workdir / "unread.fifo"
    conf = vrrp_conf("a", 150).replace(
        "    enable_script_security\n",
        f"    enable_script_security\n    vrrp_notify_fifo {fifo}\n"
        "    vrrp_notify_priority_changes\n",
    )
    node = start_hatui(lab, a, conf=conf)
    wait_for(lambda: node.state() == "MASTER", 5, "MASTER")

    # 2,500 priority lines (~90 KB) overfill the 64 KiB pipe nobody reads.
    async def flood() -> None:
        for i in range(2_500):
            req = {"cmd": "priority", "instance": "VI_51", "value": str(100 + i % 2)}
            reply = await request(str(node.control), req, timeout=2)
            assert reply.get("ok"), reply

    started = time.monotonic()
    asyncio.run(flood())
    assert time.monotonic() - started < 60
    before = node.status()["counters"].get("adverts_out", 0)
    wait_for(
        lambda: node.status()["counters"].get("adverts_out", 0) >= before + 5,
        5,
        "adverts to keep coming",
    )
    assert node.state() == "MASTER" and fifo.exists()
    # What the FIFO holds: as many whole lines as fit, the rest dropped.
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        held = b""
        while chunk := _read(reader):
            held += chunk
    finally:
        os.close(reader)
    lines = held.decode().splitlines()
    assert 1_000 < len(lines) < 2_500
    assert set(lines) <= {
        'INSTANCE "VI_51" BACKUP 150',
        'INSTANCE "VI_51" MASTER 150',
        'INSTANCE "VI_51" MASTER_PRIORITY 100',
        'INSTANCE "VI_51" MASTER_PRIORITY 101',
    }


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return b""
