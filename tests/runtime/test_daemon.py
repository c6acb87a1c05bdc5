"""sd_notify on real datagram sockets, the watchdog's pings from the event loop, parent death."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hatui.adapters.sdnotify import SdNotify, watchdog_interval_s
from hatui.errors import RuntimeFault
from hatui.runtime.daemon import Supervision, status_line
from hatui.runtime.node import NodeEvent
from hatui.runtime.parent import PARENT_ENV, bind_to_parent
from hatui.types import WallUs


def listener(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    return sock


def fields(sock: socket.socket) -> dict[str, str]:
    text = sock.recv(4096).decode()
    return dict(line.split("=", 1) for line in text.splitlines())


def test_path_and_abstract_sockets_receive_datagrams(tmp_path: Path) -> None:
    with listener(tmp_path / "notify") as sock:
        note = SdNotify(str(tmp_path / "notify"))
        assert note.send(READY="1", STATUS="two\nlines")
        assert fields(sock) == {"READY": "1", "STATUS": "two lines"}
        note.close()
    name = f"hatui-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        note = SdNotify("@" + name)
        assert note.send(STOPPING="1")
        assert fields(sock) == {"STOPPING": "1"}
        note.close()


def test_unreachable_or_bad_notify_socket_is_logged_never_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    note = SdNotify(str(tmp_path / "nobody"))
    assert note.enabled
    assert not note.send(READY="1") and not note.send(STATUS="x")
    assert note.errors == 2
    assert len([r for r in caplog.records if "NOTIFY_SOCKET" in r.message]) == 1
    bad = SdNotify("relative/path")
    assert not bad.enabled and not bad.send(READY="1")
    assert not SdNotify("").enabled


def test_watchdog_interval_is_half_of_watchdog_usec_for_this_process() -> None:
    assert watchdog_interval_s({"WATCHDOG_USEC": "2000000"}) == 1.0
    mine = {"WATCHDOG_USEC": "500000", "WATCHDOG_PID": str(os.getpid())}
    assert watchdog_interval_s(mine) == 0.25
    assert watchdog_interval_s({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_interval_s({}) is None


def test_status_line_lists_instances_then_counts_when_many() -> None:
    assert status_line({"VI_1": ("MASTER", 150), "VI_2": ("BACKUP", 100)}) == (
        "VI_1 MASTER 150, VI_2 BACKUP 100"
    )
    many = {f"VI_{v}": ("MASTER" if v % 2 else "BACKUP", 100) for v in range(1, 256)}
    line = status_line(many)
    assert line.startswith("255 instances: 127 BACKUP, 128 MASTER; VI_1 MASTER 100")


def event(instance: str, state: str, priority: int) -> NodeEvent:
    return NodeEvent(
        time=WallUs(0), instance=instance, kind="transition", detail="", state=state,
        priority=priority,
    )  # fmt: skip


async def test_ready_status_watchdog_and_stopping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # a ping every 50 ms
    monkeypatch.delenv(PARENT_ENV, raising=False)
    sock = listener(tmp_path / "notify")
    sock.setblocking(False)
    sup = Supervision(["VI_1", "VI_2"], SdNotify(str(tmp_path / "notify")))
    assert sup.watchdog_s == 0.05
    loop = asyncio.get_running_loop()
    got: list[tuple[float, dict[str, str]]] = []

    def drain() -> None:
        while True:
            try:
                got.append((time.monotonic(), fields(sock)))
            except BlockingIOError:
                return

    sup.ready(loop)
    for ev in (event("VI_1", "MASTER", 150), event("VI_2", "BACKUP", 100)):
        sup.on_node_event(ev)  # two changes: one STATUS, sent 0.1 s later
    await asyncio.sleep(0.3)
    drain()
    assert got[0][1]["READY"] == "1" and got[0][1]["STATUS"] == "VI_1 INIT 0, VI_2 INIT 0"
    statuses = [f["STATUS"] for _, f in got[1:] if "STATUS" in f]
    assert statuses == ["VI_1 MASTER 150, VI_2 BACKUP 100"]
    pings = [t for t, f in got if f.get("WATCHDOG") == "1"]
    assert len(pings) >= 4
    # A wedged loop sends no pings: that is what gets a hung node restarted.
    got.clear()
    wedged = time.monotonic()
    time.sleep(0.4)
    drain()
    assert not [t for t, f in got if f.get("WATCHDOG") == "1"]
    await asyncio.sleep(0.2)
    drain()
    assert [t for t, f in got if f.get("WATCHDOG") == "1" and t > wedged]
    sup.stopping()
    got.clear()
    await asyncio.sleep(0.2)
    drain()
    assert got[0][1]["STOPPING"] == "1"
    assert not [f for _, f in got if "WATCHDOG" in f]  # no pings once stopping
    sup.close()
    sock.close()


def test_parent_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    bind_to_parent({})  # not a console's child: nothing to do
    with pytest.raises(RuntimeFault, match="the hatui process that started this one is gone"):
        bind_to_parent({PARENT_ENV: str(os.getppid() + 100000)})
    # The real thing in a child process: the kernel holds SIGTERM for its parent's death.
    code = (
        "import ctypes, os, sys; from hatui.runtime.parent import bind_to_parent;"
        "bind_to_parent({'HATUI_PARENT_PID': str(os.getppid())});"
        "sig = ctypes.c_int(); ctypes.CDLL(None).prctl(2, ctypes.byref(sig), 0, 0, 0);"
        "print(sig.value)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "15"
