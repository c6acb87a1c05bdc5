"""The stats socket client: each bad socket gives one clear status, never an exception,
and a hanging haproxy costs the poll its timeout without blocking the loop."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from hatui.adapters.haproxy import (
    HaproxyPoller,
    local_addresses,
    locate,
    poll_from_json,
    poll_to_json,
)
from hatui.haproxy.join import Reached, Unreached

DATA = Path(__file__).parent.parent / "haproxy" / "data"
STAT = (DATA / "stat-2.6.csv").read_text()
INFO = (DATA / "info-2.6.txt").read_text()
Handler = Callable[[str, asyncio.StreamWriter], Awaitable[None]]


async def answer(command: str, writer: asyncio.StreamWriter) -> None:
    writer.write((INFO if command == "show info" else STAT).encode())


@asynccontextmanager
async def fake_haproxy(path: Path, handler: Handler = answer) -> AsyncIterator[None]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        command = (await reader.readline()).decode().strip()
        try:
            await handler(command, writer)
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_unix_server(serve, path=str(path))
    try:
        yield
    finally:
        server.close()


async def status(sock: Path | str, timeout: float = 0.3) -> str:
    out = (await HaproxyPoller(str(sock), timeout=timeout).poll()).outcome
    assert isinstance(out, Unreached) and out.configured
    return out.status


async def test_reads_a_live_socket(tmp_path: Path) -> None:
    sock = tmp_path / "admin.sock"
    async with fake_haproxy(sock):
        poll = await HaproxyPoller(str(sock), cfg=str(tmp_path / "none.cfg")).poll()
    assert isinstance(poll.outcome, Reached), poll.outcome
    assert poll.outcome.info.version.startswith("2.6")
    assert [f.name for f in poll.outcome.stats.frontends] == ["web"]
    assert poll.outcome.config is None  # neither its -f file (dead pid) nor the default cfg
    assert poll.socket == str(sock) and "127.0.0.1" in poll.local


async def test_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "admin.sock"
    path.write_text("not a socket")
    assert await status(path) == f"{path} is a regular file, not haproxy's stats socket"


async def test_missing_and_stale_sockets(tmp_path: Path) -> None:
    assert "no such socket (haproxy not running?)" in await status(tmp_path / "gone.sock")
    stale = tmp_path / "stale.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(stale))
    s.close()  # the file stays, nobody listens: as after haproxy was killed
    assert "connection refused (haproxy not running, stale socket)" in await status(stale)


async def test_hangs_mid_answer_costs_the_timeout_and_never_blocks_the_loop(
    tmp_path: Path,
) -> None:
    async def half(command: str, writer: asyncio.StreamWriter) -> None:
        writer.write(STAT[:200].encode())
        await writer.drain()
        await asyncio.sleep(5)

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    sock = tmp_path / "admin.sock"
    async with fake_haproxy(sock, half):
        task = asyncio.create_task(ticker())
        start = time.monotonic()
        text = await status(sock, timeout=0.3)
        took = time.monotonic() - start
        task.cancel()
    assert text == f"{sock}: hangs mid-answer (200 bytes in 0.3 s)"
    assert 0.25 < took < 1.5
    assert ticks > 10  # the loop kept running its timers during the hang


async def test_accepts_but_never_answers(tmp_path: Path) -> None:
    async def mute(command: str, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    sock = tmp_path / "admin.sock"
    async with fake_haproxy(sock, mute):
        assert await status(sock) == f"{sock}: accepts but does not answer (0 bytes in 0.3 s)"


@pytest.mark.parametrize(
    ("garbage", "expected"),
    [
        (b"\x00\xff\xfe garbage", "show info: no Version in show info"),
        (b"", "show info: empty answer to show info"),
    ],
)
async def test_garbage_info(tmp_path: Path, garbage: bytes, expected: str) -> None:
    async def junk(command: str, writer: asyncio.StreamWriter) -> None:
        writer.write(garbage)

    sock = tmp_path / "admin.sock"
    async with fake_haproxy(sock, junk):
        assert (await status(sock)).startswith(expected)


async def test_garbage_csv(tmp_path: Path) -> None:
    async def junk(command: str, writer: asyncio.StreamWriter) -> None:
        text = INFO if command == "show info" else "# pxname,svname\nweb,FRONTEND\n"
        writer.write(text.encode())

    sock = tmp_path / "admin.sock"
    async with fake_haproxy(sock, junk):
        assert await status(sock) == "show stat: no status, type column"


def test_permission_refused(tmp_path: Path) -> None:
    """An operator outside haproxy's group gets EACCES: the status says so. Root without
    CAP_DAC_OVERRIDE (setpriv) meets the socket's mode as any other user would."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv")
    sock = tmp_path / "admin.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(sock))
    s.listen()
    os.chown(sock, 65534, 65534)
    os.chmod(sock, 0o600)
    code = (
        "import asyncio\nfrom hatui.adapters.haproxy import HaproxyPoller\n"
        f"print(asyncio.run(HaproxyPoller({str(sock)!r}).poll()).outcome.status)"
    )
    argv = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all"]
    try:
        out = subprocess.run(
            [*argv, sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
            timeout=30,
        )
    finally:
        s.close()
    assert out.stdout.strip() == f"{sock}: permission denied (run as root or in haproxy's group)"


def test_locate(tmp_path: Path) -> None:
    cfg = tmp_path / "haproxy.cfg"
    missing = locate(None, str(cfg))
    assert missing.problem == f"no stats socket: no {cfg} (--haproxy SOCKET)"
    cfg.write_text("global\n    daemon\n")
    assert locate(None, str(cfg)).problem == f"no `stats socket` in {cfg} (--haproxy SOCKET)"
    cfg.write_text("global\n    stats socket /run/haproxy/admin.sock mode 660 level admin\n")
    found = locate(None, str(cfg))
    assert (found.socket, found.origin, found.problem) == (
        "/run/haproxy/admin.sock",
        str(cfg),
        None,
    )
    flag = locate("/tmp/x.sock", str(cfg))
    assert (flag.socket, flag.origin) == ("/tmp/x.sock", "--haproxy")


async def test_unconfigured_is_not_an_alerting_outage(tmp_path: Path) -> None:
    poll = await HaproxyPoller(cfg=str(tmp_path / "haproxy.cfg")).poll()
    assert isinstance(poll.outcome, Unreached) and not poll.outcome.configured
    assert poll.socket == "none"
    assert poll.local == frozenset()  # no haproxy here: the addresses are not read


def test_local_addresses_sees_loopback() -> None:
    assert {"127.0.0.1", "::1"} <= local_addresses() or "127.0.0.1" in local_addresses()


async def test_restart_is_the_next_poll(tmp_path: Path) -> None:
    """Each poll connects afresh: haproxy gone, then back (a restart or reload), needs
    nothing more than the next poll."""
    sock = tmp_path / "admin.sock"
    poller = HaproxyPoller(str(sock), timeout=0.3)
    async with fake_haproxy(sock):
        up = await poller.poll()
        assert isinstance(up.outcome, Reached) and "127.0.0.1" in up.local
    down = await poller.poll()
    gone = down.outcome
    assert isinstance(gone, Unreached) and "connection refused" in gone.status
    assert "127.0.0.1" in down.local  # configured but down: held VIPs still alert
    async with fake_haproxy(sock):
        assert isinstance((await poller.poll()).outcome, Reached)


async def test_a_poll_crosses_json_unchanged(tmp_path: Path) -> None:
    """The LAN view sends its polls to consoles as JSON: real answers (haproxy 2.6's own
    `show stat` and `show info`, a config with binds) and a miss come back equal."""
    sock, cfg = tmp_path / "admin.sock", tmp_path / "haproxy.cfg"
    cfg.write_text(
        f"global\n    stats socket {sock}\nfrontend web\n    bind 192.0.2.100:80\n"
        "    default_backend app\nbackend app\n    server a 192.0.2.21:80\n"
    )
    async with fake_haproxy(sock):
        hit = await HaproxyPoller(str(sock), cfg=str(cfg)).poll()
    assert isinstance(hit.outcome, Reached) and hit.outcome.config is not None
    assert hit.outcome.stats.backends and hit.outcome.stats.backends[0].servers
    miss = await HaproxyPoller(str(tmp_path / "gone.sock")).poll()
    assert isinstance(miss.outcome, Unreached)
    for poll in (hit, miss):
        assert poll_from_json(json.loads(json.dumps(poll_to_json(poll)))) == poll
    with pytest.raises((KeyError, TypeError)):
        poll_from_json({"outcome": {"reached": True}})
