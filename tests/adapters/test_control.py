"""The control socket: round trips, bad requests, permissions, stale sockets, subscriptions."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import stat
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hatui.adapters.control import (
    MAX_LINE,
    ControlServer,
    allowed,
    operator_command,
    request,
    subscribe,
)
from hatui.errors import RuntimeFault
from hatui.vrrp.inputs import AdjustPriority, Pause, SetPriority


class FakeNode:
    """A ControlHandler recording the commands it gets."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []
        self.generation = 0

    async def status(self) -> dict[str, Any]:
        return {"instances": [{"name": "VI_1", "state": "MASTER"}], "gen": self.generation}

    def command(self, cmd: str, instance: str, value: str | None) -> dict[str, Any]:
        if instance != "VI_1":
            raise ValueError(f"no instance named {instance!r}")
        if cmd == "garp":
            raise RuntimeError("boom")  # a handler bug
        self.calls.append((cmd, instance, value))
        return {"instance": instance}


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, ControlServer, FakeNode]]:
    node = FakeNode()
    path = str(tmp_path / "run" / "hatui.sock")
    server = ControlServer(path, node)
    await server.start()
    try:
        yield path, server, node
    finally:
        await server.close()


async def raw_exchange(path: str, data: bytes) -> list[dict[str, Any]]:
    reader, writer = await asyncio.open_unix_connection(path, limit=1 << 20)
    writer.write(data)
    await writer.drain()
    writer.write_eof()
    out = [json.loads(line) for line in (await reader.read()).splitlines()]
    writer.close()
    return out


async def test_round_trip_and_socket_mode(served: tuple[str, ControlServer, FakeNode]) -> None:
    path, _server, node = served
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o755
    status = await request(path, {"cmd": "status"})
    assert status == {"ok": True, "status": await node.status()}
    reply = await request(path, {"cmd": "priority", "instance": "VI_1", "value": "+10"})
    assert reply == {"ok": True, "instance": "VI_1"}
    assert await request(path, {"cmd": "release", "instance": "VI_1"}) == reply
    await request(path, {"cmd": "priority", "instance": "VI_1", "value": 120})
    assert node.calls == [
        ("priority", "VI_1", "+10"),
        ("release", "VI_1", None),
        ("priority", "VI_1", "120"),
    ]


async def test_bad_requests_get_errors_and_never_hurt(
    served: tuple[str, ControlServer, FakeNode],
) -> None:
    path, _server, node = served
    replies = await raw_exchange(
        path,
        b"{not json\n"
        b"[1,2]\n"
        b'{"cmd": "reboot"}\n'
        b'{"nocmd": 1}\n'
        b'{"cmd": "pause"}\n'
        b'{"cmd": "pause", "instance": "VI_9"}\n'
        b'{"cmd": "priority", "instance": "VI_1", "value": "high"}\n'
        b'{"cmd": "priority", "instance": "VI_1", "value": "300"}\n'
        b'{"cmd": "garp", "instance": "VI_1"}\n'
        b"\xff\xfe\n"
        b'{"cmd": "status"}\n',
    )
    errors = [r.get("error") for r in replies]
    assert errors == [
        "malformed JSON",
        "a request is a JSON object",
        "unknown command 'reboot'",
        "missing 'cmd'",
        "pause needs an instance name",
        "no instance named 'VI_9'",
        "priority must be 1..254 or +N/-N",
        "priority 300 out of range 1..254",
        "internal error: RuntimeError",
        "malformed JSON",
        None,
    ]
    assert replies[-1]["ok"] is True
    assert node.calls == []
    assert (await request(path, {"cmd": "status"}))["ok"] is True  # still serving


async def test_overlong_line_is_refused(served: tuple[str, ControlServer, FakeNode]) -> None:
    path, _server, _node = served
    replies = await raw_exchange(path, b"x" * (MAX_LINE + 10) + b"\n")
    assert replies == [{"ok": False, "error": f"request longer than {MAX_LINE} bytes"}]
    assert (await request(path, {"cmd": "status"}))["ok"] is True


def test_credential_rule() -> None:
    assert allowed(0, 1000) and allowed(1000, 1000)
    assert not allowed(1001, 1000)


async def test_other_users_are_refused() -> None:
    """A forked child drops to uid 65534 and connects: the server refuses it."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch users")
    base = tempfile.mkdtemp(prefix="hatui-ctl-")  # pytest's tmp_path is private to root
    os.chmod(base, 0o755)
    path = os.path.join(base, "run", "hatui.sock")
    node = FakeNode()
    server = ControlServer(path, node)
    await server.start()
    os.chmod(path, 0o666)  # past the file mode: the credential check must hold on its own
    try:
        data = await _connect_as_nobody(path)
    finally:
        await server.close()
        shutil.rmtree(base)
    assert json.loads(data) == {"ok": False, "error": "permission denied"}
    assert node.calls == []


async def _connect_as_nobody(path: str) -> bytes:
    loop = asyncio.get_running_loop()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: plain blocking sockets only
        try:
            os.close(read_end)
            os.setuid(65534)
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.sendall(b'{"cmd": "release", "instance": "VI_1"}\n')
            os.write(write_end, s.recv(4096))
        finally:
            os._exit(0)
    os.close(write_end)
    data = await loop.run_in_executor(None, os.read, read_end, 4096)
    os.close(read_end)
    await loop.run_in_executor(None, os.waitpid, pid, 0)
    return data


async def test_stale_socket_is_replaced_but_a_live_node_is_not(tmp_path: Path) -> None:
    path = str(tmp_path / "hatui.sock")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)  # bound, never listening: what a killed node leaves
    stale.close()
    first = ControlServer(path, FakeNode())
    await first.start()
    try:
        assert (await request(path, {"cmd": "status"}))["ok"] is True
        with pytest.raises(RuntimeFault, match="another hatui node is already listening on"):
            await ControlServer(path, FakeNode()).start()
        assert (await request(path, {"cmd": "status"}))["ok"] is True  # untouched
    finally:
        await first.close()
    assert not os.path.exists(path)
    Path(path).write_text("not a socket")
    with pytest.raises(RuntimeFault, match="exists and is not a socket"):
        await ControlServer(path, FakeNode()).start()


async def test_client_errors_when_no_node(tmp_path: Path) -> None:
    path = str(tmp_path / "none.sock")
    with pytest.raises(RuntimeFault, match=f"no hatui node is listening on {path}"):
        await request(path, {"cmd": "status"})


async def test_subscribe_streams_published_status(
    served: tuple[str, ControlServer, FakeNode],
) -> None:
    path, server, node = served
    stream = subscribe(path)
    first = await anext(stream)
    assert first["gen"] == 0
    assert server.subscribers == 1
    for gen in (1, 2):
        node.generation = gen
        server.publish(await node.status())
        assert (await asyncio.wait_for(anext(stream), 2))["gen"] == gen
    await stream.aclose()
    for _ in range(100):  # the server notices the client leaving without a publish
        if server.subscribers == 0:
            break
        await asyncio.sleep(0.01)
    assert server.subscribers == 0


async def test_slow_subscriber_keeps_only_recent(
    served: tuple[str, ControlServer, FakeNode],
) -> None:
    path, server, node = served
    stream = subscribe(path)
    await anext(stream)
    for gen in range(1, 101):  # published faster than read: the queue is bounded
        node.generation = gen
        server.publish(await node.status())
    got = [(await asyncio.wait_for(anext(stream), 2))["gen"] for _ in range(8)]
    assert got[-1] == 100 and len(got) == 8
    await stream.aclose()


def test_operator_command_parsing() -> None:
    assert operator_command("priority", "120") == SetPriority(value=120)
    assert operator_command("priority", "+10") == AdjustPriority(delta=10)
    assert operator_command("priority", "-5") == AdjustPriority(delta=-5)
    assert operator_command("pause") == Pause()
    for bad in ("0", "255", "+0", "ten", "", "1.5"):
        with pytest.raises(ValueError):
            operator_command("priority", bad)
    with pytest.raises(ValueError, match="unknown command"):
        operator_command("reboot")


async def test_node_only_subscribers_get_node_lines_not_lan_documents(
    served: tuple[str, ControlServer, FakeNode],
) -> None:
    path, server, _node = served
    stream = subscribe(path, observer=False)
    first = asyncio.ensure_future(anext(stream))
    await asyncio.wait_for(server.node_joined.wait(), 2)  # the node's cue to publish now
    assert server.node_subscribers == 1 and server.subscribers == 0
    server.publish({"gen": "lan"})  # a full-stream publication: not for this subscriber
    server.publish_node(json.dumps({"instances": [], "gen": 7}).encode())
    assert (await asyncio.wait_for(first, 2))["gen"] == 7
    await stream.aclose()


async def test_large_status_crosses_the_socket(
    served: tuple[str, ControlServer, FakeNode],
) -> None:
    """255 instances make a status of ~160 kB: far past the request line limit."""
    path, server, _node = served
    stream = subscribe(path, observer=False)
    first = asyncio.ensure_future(anext(stream))
    await asyncio.wait_for(server.node_joined.wait(), 2)
    rows = [{"name": f"VI_{v}", "detail": "x" * 600} for v in range(1, 256)]
    server.publish_node(json.dumps({"instances": rows}).encode())
    got = await asyncio.wait_for(first, 5)
    assert len(got["instances"]) == 255 and len(json.dumps(got)) > MAX_LINE
    await stream.aclose()


async def test_close_hangs_up_on_subscribers(
    served: tuple[str, ControlServer, FakeNode],
) -> None:
    path, server, _node = served
    stream = subscribe(path)
    await anext(stream)
    await server.close()
    with pytest.raises(RuntimeFault, match="closed the connection"):
        await asyncio.wait_for(anext(stream), 2)
    assert not server._clients


async def test_a_full_subscriber_gets_the_status_then_the_nodes_own_lines(
    served: tuple[str, ControlServer, FakeNode],
) -> None:
    """The node relays no LAN document: after the first line (`status`, which a node fills
    with its LAN view's document), a full subscriber reads the node's lines as consoles do."""
    path, server, _node = served
    stream = subscribe(path)
    first = await asyncio.wait_for(anext(stream), 2)
    assert first["gen"] == 0 and first["instances"][0]["name"] == "VI_1"
    await asyncio.wait_for(server.node_joined.wait(), 2)  # the node's cue to publish now
    server.publish_node(json.dumps({"instances": [], "gen": 7}).encode())
    assert (await asyncio.wait_for(anext(stream), 2))["gen"] == 7
    await stream.aclose()
