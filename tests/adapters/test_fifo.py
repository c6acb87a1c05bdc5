"""Notify FIFOs: keepalived's lines, made and removed as keepalived does, never blocking."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from hatui.adapters.fifo import NotifyFifo, fifo_line
from hatui.runtime.trackers import Notifier
from hatui.vrrp.spec import FifoSpec, InstanceSpec, NodeSpec, SyncGroupSpec, Vip


def read_all(fd: int) -> bytes:
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return out
        if not chunk:
            return out
        out += chunk


def test_lines_reach_a_reader_and_the_made_fifo_is_removed(tmp_path: Path) -> None:
    path = tmp_path / "fifo"
    fifo = NotifyFifo(FifoSpec(path=str(path)))
    fifo.open()
    assert stat.S_ISFIFO(path.stat().st_mode) and stat.S_IMODE(path.stat().st_mode) == 0o644
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        assert fifo.write(fifo_line("INSTANCE", "VI_1", "MASTER", 150))
        assert fifo.write(fifo_line("GROUP", "G", "BACKUP", 0))
        assert read_all(reader) == b'INSTANCE "VI_1" MASTER 150\nGROUP "G" BACKUP 0\n'
    finally:
        os.close(reader)
    fifo.close()
    assert not path.exists()


def test_a_fifo_without_reader_never_blocks_and_counts_drops(tmp_path: Path) -> None:
    fifo = NotifyFifo(FifoSpec(path=str(tmp_path / "fifo")))
    fifo.open()
    line = fifo_line("INSTANCE", "VI_1", "BACKUP_PRIORITY", 100)
    start = time.monotonic()
    for _ in range(20_000):  # 20k lines of 35 bytes: far past the 64 KiB pipe buffer
        fifo.write(line)
    assert time.monotonic() - start < 5
    assert fifo.dropped > 0 and fifo.written > 0
    assert fifo.written + fifo.dropped == 20_000
    assert fifo.written * len(line) <= 1024 * 1024  # what the pipe could hold
    fifo.close()


def test_an_existing_fifo_is_kept_and_a_regular_file_is_not_used(tmp_path: Path) -> None:
    mine = tmp_path / "theirs"
    os.mkfifo(mine)
    fifo = NotifyFifo(FifoSpec(path=str(mine)))
    fifo.open()
    assert fifo.fd is not None
    fifo.close()
    assert mine.exists()  # keepalived removes only what it made
    plain = tmp_path / "plain"
    plain.write_text("data")
    other = NotifyFifo(FifoSpec(path=str(plain)))
    other.open()
    assert other.fd is None and not other.write(b"x\n")
    other.close()
    assert plain.read_text() == "data"


def test_the_reader_script_gets_the_path_and_is_stopped(tmp_path: Path) -> None:
    out = tmp_path / "seen"
    script = tmp_path / "reader.sh"
    script.write_text(f'#!/bin/sh\nexec cat "$1" > {out}\n')
    script.chmod(0o755)
    path = tmp_path / "fifo"
    fifo = NotifyFifo(FifoSpec(path=str(path), script=(str(script),)))
    fifo.open()
    assert fifo.script is not None
    fifo.write(fifo_line("INSTANCE", "VI_1", "FAULT", 0))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not (out.exists() and out.read_bytes()):
        time.sleep(0.01)
    assert out.read_bytes() == b'INSTANCE "VI_1" FAULT 0\n'
    proc = fifo.script
    fifo.close()
    assert proc.poll() is not None  # end of file, or SIGTERM, when the node stops


async def test_notifier_writes_states_events_and_groups(tmp_path: Path) -> None:
    path = tmp_path / "fifo"
    inst = InstanceSpec(
        name="VI_1", interface="eth0", vrid=51, vips=(Vip(address="192.0.2.100", prefixlen=24),)
    )
    group = SyncGroupSpec(name="G", members=("VI_1",))
    spec = NodeSpec(instances=(inst,), notify_fifos=(FifoSpec(path=str(path)),))
    notifier = Notifier(spec)
    notifier(inst, "BACKUP", 100)  # the first line opens the FIFO
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        notifier(inst, "MASTER", 100)
        notifier(group, "MASTER", 0)
        notifier(inst, "MASTER_RX_LOWER_PRI", 100)
        notifier(inst, "MASTER_PRIORITY", 90)
        assert read_all(reader).decode().splitlines() == [
            'INSTANCE "VI_1" BACKUP 100',
            'INSTANCE "VI_1" MASTER 100',
            'GROUP "G" MASTER 0',
            'INSTANCE "VI_1" MASTER_RX_LOWER_PRI 100',
            'INSTANCE "VI_1" MASTER_PRIORITY 90',
        ]
    finally:
        os.close(reader)
    await notifier.drain()
    assert not path.exists()
