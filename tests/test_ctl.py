"""`hatui ctl` against a control server running in a background thread."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hatui.adapters.control import ControlServer
from hatui.cli import main as cli_main
from hatui.ctl import main

STATUS = {
    "instances": [
        {
            "name": "VI_1",
            "interface": "eth0",
            "vrid": 51,
            "state": "MASTER",
            "base_priority": 150,
            "effective_priority": 160,
            "override": 160,
            "hold": False,
            "paused": False,
            "vips": ["192.0.2.100/24"],
            "vips_held": True,
            "master_ip": "192.0.2.11",
        },
        {
            "name": "VI_2",
            "interface": "eth0",
            "vrid": 52,
            "state": "BACKUP",
            "base_priority": 100,
            "effective_priority": 100,
            "override": None,
            "hold": True,
            "paused": False,
            "vips": ["192.0.2.101/24"],
            "vips_held": False,
            "master_ip": "192.0.2.12",
        },
    ]
}


class Node:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []

    async def status(self) -> dict[str, Any]:
        return STATUS

    def command(self, cmd: str, instance: str, value: str | None) -> dict[str, Any]:
        if instance not in ("VI_1", "VI_2"):
            raise ValueError(f"no instance named {instance!r}")
        self.calls.append((cmd, instance, value))
        return {}


@pytest.fixture
def node(tmp_path: Path) -> Iterator[tuple[str, Node]]:
    path = str(tmp_path / "hatui.sock")
    handler = Node()
    loop = asyncio.new_event_loop()
    server = ControlServer(path, handler)
    loop.run_until_complete(server.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield path, handler
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_status_table(node: tuple[str, Node], capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = node
    assert main(["status", "--control", path]) == 0
    out = capsys.readouterr().out
    for text in ("VI_1", "MASTER", "160 (base 150)", "192.0.2.100/24 (held)", "hold", "192.0.2.12"):
        assert text in out


def test_status_json(node: tuple[str, Node], capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = node
    assert main(["--control", path, "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == STATUS


def test_commands_reach_the_node(
    node: tuple[str, Node], capsys: pytest.CaptureFixture[str]
) -> None:
    path, handler = node
    for argv in (["priority", "VI_1", "+10"], ["priority", "VI_1", "120"], ["release", "VI_2"]):
        assert main([*argv, "--control", path]) == 0
    assert main(["--control", path, "pause", "VI_1"]) == 0
    assert cli_main(["ctl", "--control", path, "garp", "VI_1"]) == 0  # routed by hatui's CLI
    assert handler.calls == [
        ("priority", "VI_1", "+10"),
        ("priority", "VI_1", "120"),
        ("release", "VI_2", None),
        ("pause", "VI_1", None),
        ("garp", "VI_1", None),
    ]
    assert "release VI_2: ok" in capsys.readouterr().out


def test_runtime_errors_exit_1(node: tuple[str, Node], capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = node
    assert main(["--control", path, "resume", "VI_9"]) == 1
    assert capsys.readouterr().err == "hatui ctl: no instance named 'VI_9'\n"
    missing = str(Path(path).with_name("other.sock"))
    assert main(["--control", missing, "status"]) == 1
    assert capsys.readouterr().err == f"hatui ctl: no hatui node is listening on {missing}\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["priority", "VI_1", "0"],
        ["priority", "VI_1", "255"],
        ["priority", "VI_1", "x"],
        ["frob"],
        [],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        code = main([*argv, "--control", "/nonexistent/x.sock"])
        raise SystemExit(code)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("hatui ctl: ") and err.count("\n") == 1
