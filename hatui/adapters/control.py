"""The node's control socket: a Unix socket speaking JSON lines, server and client.

Requests are one JSON object per line:
  {"cmd": "status"}
  {"cmd": "priority", "instance": "VI_1", "value": "120" | "+10" | "-10"}
  {"cmd": "release" | "pause" | "resume" | "garp", "instance": "VI_1"}
  {"cmd": "reload"}      re-read the config: {"ok": true, "changes": [...]} or the error
  {"cmd": "subscribe"}   then one {"ok": true, "status": {...}} line per publish: the
                         first is `status` (with the LAN view's document as "observer"),
                         the next ones the node's status alone
  {"cmd": "subscribe", "observer": false}   the node's status only: what a console reads
                         (it follows the LAN on the LAN view's socket,
                         adapters/lanclient.py); the first line comes with the node's
                         next publication
Responses are {"ok": true, ...} or {"ok": false, "error": "one line"}. `status` answers
{"ok": true, "status": handler.status()}. Only root and the node's own user may connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import socket
import stat
import struct
from collections.abc import AsyncIterator
from typing import Any, Protocol

from hatui.errors import RuntimeFault
from hatui.vrrp.inputs import AdjustPriority, OperatorCommand, Pause, Release, Resume, SetPriority
from hatui.vrrp.inputs import SendGarp as SendGarpCommand

log = logging.getLogger(__name__)

MAX_LINE = 64 * 1024  # a request
MAX_REPLY = 64 * 1024 * 1024  # a status with hundreds of instances and their LAN
INSTANCE_COMMANDS = ("priority", "release", "pause", "resume", "garp")
COMMANDS = ("status", "subscribe", "reload", *INSTANCE_COMMANDS)
_SUBSCRIBER_QUEUE = 8  # a slow subscriber loses old snapshots, never holds memory
_PRIORITY = re.compile(r"[+-]?[0-9]{1,4}")


class ControlHandler(Protocol):
    """What the node runtime implements for the control socket."""

    async def status(self) -> dict[str, Any]:
        """A JSON-able snapshot: {"instances": [...], ...}."""
        ...

    def command(self, cmd: str, instance: str, value: str | None) -> dict[str, Any]:
        """Run an operator command; extra response fields, or ValueError for bad arguments."""
        ...

    async def reload(self) -> dict[str, Any]:
        """Re-read the config; extra response fields, or ValueError with the error line."""
        ...


def operator_command(cmd: str, value: str | None = None) -> OperatorCommand:
    """A control command as the router input it stands for; ValueError on bad arguments."""
    if cmd == "priority":
        text = (value or "").strip()
        if not _PRIORITY.fullmatch(text):
            raise ValueError("priority must be 1..254 or +N/-N")
        if text[0] in "+-":
            return AdjustPriority(delta=int(text))
        return SetPriority(value=int(text))
    simple: dict[str, OperatorCommand] = {
        "release": Release(),
        "pause": Pause(),
        "resume": Resume(),
        "garp": SendGarpCommand(),
    }
    if cmd not in simple:
        raise ValueError(f"unknown command {cmd!r}")
    return simple[cmd]


def peer_uid(sock: socket.socket) -> int:
    """The connecting process's uid, from the kernel (SO_PEERCRED), not from the request."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def allowed(uid: int, own_uid: int) -> bool:
    """Root and the node's own user may steer it; nobody else."""
    return uid in (0, own_uid)


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def _error(text: str) -> dict[str, Any]:
    return {"ok": False, "error": text}


def offer(queues: set[asyncio.Queue[bytes]], line: bytes) -> None:
    """Queue `line` for each subscriber, dropping its oldest when full: a slow client
    loses old snapshots, never holds memory or the node."""
    for queue in queues:
        if queue.full():
            queue.get_nowait()
        queue.put_nowait(line)


async def pump(
    queue: asyncio.Queue[bytes], gone: asyncio.Future[bytes], writer: asyncio.StreamWriter
) -> None:
    """Write what `queue` gets to a subscriber until it goes away (`gone`: its reader's
    EOF). Waiting on a slow subscriber's drain holds this subscriber alone."""
    while True:
        nxt = asyncio.ensure_future(queue.get())
        await asyncio.wait({nxt, gone}, return_when=asyncio.FIRST_COMPLETED)
        if not nxt.done():
            nxt.cancel()
            return
        writer.write(nxt.result())
        await writer.drain()


class ControlServer:
    """Serves `handler` on a Unix socket at `path`; `publish` feeds subscribers."""

    def __init__(self, path: str, handler: ControlHandler) -> None:
        self.path = path
        self.handler = handler
        self.own_uid = os.geteuid()
        self._server: asyncio.Server | None = None
        # Queued lines are encoded once per publication, not once per subscriber.
        self._subscribers: set[asyncio.Queue[bytes]] = set()
        self._node_subscribers: set[asyncio.Queue[bytes]] = set()
        self._clients: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}
        self.node_joined = asyncio.Event()  # a node-only subscriber waits for its first line

    async def start(self) -> None:
        """Create the directory and socket (mode 0600), replacing a stale socket file."""
        directory = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(directory, mode=0o755, exist_ok=True)
        except OSError as exc:
            raise RuntimeFault(f"cannot create {directory}: {exc.strerror}") from None
        await self._clear_stale()
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=self.path, limit=MAX_LINE
            )
            # Peer credentials are checked on every connection anyway; the mode keeps
            # other users from even connecting.
            os.chmod(self.path, 0o600)
        except OSError as exc:
            raise RuntimeFault(f"cannot listen on {self.path}: {exc.strerror or exc}") from None

    async def _clear_stale(self) -> None:
        try:
            mode = os.lstat(self.path).st_mode
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(mode):
            raise RuntimeFault(f"{self.path} exists and is not a socket")
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(self.path), 1.0)
        except (ConnectionRefusedError, FileNotFoundError, TimeoutError):
            os.unlink(self.path)  # left by a node that died: nobody answers
            log.info("removed stale control socket %s", self.path)
            return
        writer.close()
        raise RuntimeFault(f"another hatui node is already listening on {self.path}")

    @property
    def subscribers(self) -> int:
        """Subscribers of the full stream (node status and the LAN document)."""
        return len(self._subscribers)

    @property
    def node_subscribers(self) -> int:
        """Subscribers of the node's status alone."""
        return len(self._node_subscribers)

    def publish(self, status: dict[str, Any]) -> None:
        """Queue a status snapshot for every full-stream subscriber."""
        if self._subscribers:
            offer(self._subscribers, _line({"ok": True, "status": status}))

    def publish_node(self, status_json: bytes) -> None:
        """Queue the node's status, already encoded as JSON, for every subscriber (a
        full-stream subscriber had the LAN document in its first line only)."""
        line = b'{"ok":true,"status":' + status_json + b"}\n"
        for group in (self._node_subscribers, self._subscribers):
            if group:
                offer(group, line)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._clients[task] = writer
        try:
            sock = writer.get_extra_info("socket")
            if not allowed(peer_uid(sock), self.own_uid):
                writer.write(_line(_error("permission denied")))
                await writer.drain()
                return
            while True:
                try:
                    raw = await reader.readline()
                except ValueError:  # longer than MAX_LINE: answer, then hang up
                    writer.write(_line(_error(f"request longer than {MAX_LINE} bytes")))
                    await writer.drain()
                    return
                if not raw:
                    return
                if not raw.strip():
                    continue
                request = _parse(raw)
                if isinstance(request, str):
                    writer.write(_line(_error(request)))
                elif request["cmd"] == "reload":
                    writer.write(_line(await self._reload()))
                elif request["cmd"] == "status":
                    writer.write(_line(await self._status()))
                elif request["cmd"] == "subscribe":
                    await self._stream(reader, writer, observer=request.get("observer", True))
                    return
                else:
                    writer.write(_line(self._answer(request)))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if task is not None:
                self._clients.pop(task, None)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _reload(self) -> dict[str, Any]:
        try:
            return {"ok": True, **(await self.handler.reload())}
        except ValueError as exc:
            return _error(str(exc).splitlines()[0] if str(exc) else "reload failed")
        except Exception as exc:  # a handler bug must not take the control socket down
            log.exception("reload failed")
            return _error(f"internal error: {type(exc).__name__}")

    async def _status(self) -> dict[str, Any]:
        try:
            return {"ok": True, "status": await self.handler.status()}
        except Exception as exc:  # a handler bug must not take the control socket down
            log.exception("status failed")
            return _error(f"internal error: {type(exc).__name__}")

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        cmd = request["cmd"]
        try:
            instance = request.get("instance")
            if not isinstance(instance, str) or not instance:
                return _error(f"{cmd} needs an instance name")
            value = request.get("value")
            if cmd == "priority":
                if isinstance(value, int) and not isinstance(value, bool):
                    value = str(value)
                if not isinstance(value, str):
                    return _error("priority needs a value: N (1..254), +N or -N")
                operator_command(cmd, value)  # validate before the node sees it
            result = self.handler.command(cmd, instance, value if cmd == "priority" else None)
            return {"ok": True, **result}
        except ValueError as exc:
            return _error(str(exc).splitlines()[0] if str(exc) else "bad arguments")
        except Exception as exc:  # a handler bug must not take the control socket down
            log.exception("control command %s failed", cmd)
            return _error(f"internal error: {type(exc).__name__}")

    async def _stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, observer: object
    ) -> None:
        """Publications until the client leaves. A client that stops reading only loses
        old snapshots (its queue drops the oldest; drain waits for this client alone)."""
        queue: asyncio.Queue[bytes] = asyncio.Queue(_SUBSCRIBER_QUEUE)
        full = observer is not False
        group = self._subscribers if full else self._node_subscribers
        group.add(queue)
        # The client says nothing more; reading tells us at once when it goes away.
        gone = asyncio.ensure_future(reader.read())
        try:
            if full:
                writer.write(_line({"ok": True, "status": await self.handler.status()}))
                await writer.drain()
            self.node_joined.set()
            await pump(queue, gone, writer)
        finally:
            gone.cancel()
            group.discard(queue)

    async def close(self) -> None:
        """Stop listening and hang up on every client. Their handlers end on their own (EOF):
        cancelled ones would make Python 3.11's stream callback log a spurious error."""
        if self._server is not None:
            self._server.close()
            self._server = None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        for writer in list(self._clients.values()):
            writer.close()
        if self._clients:
            await asyncio.wait(set(self._clients), timeout=1.0)


def _parse(raw: bytes) -> dict[str, Any] | str:
    """A request object, or the error text to answer with."""
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return "malformed JSON"
    if not isinstance(obj, dict):
        return "a request is a JSON object"
    cmd = obj.get("cmd")
    if not isinstance(cmd, str) or cmd not in COMMANDS:
        return f"unknown command {cmd!r}" if cmd is not None else "missing 'cmd'"
    return obj


async def _connect(path: str, timeout: float) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    try:
        return await asyncio.wait_for(asyncio.open_unix_connection(path, limit=MAX_REPLY), timeout)
    except (FileNotFoundError, ConnectionRefusedError):
        raise RuntimeFault(f"no hatui node is listening on {path}") from None
    except PermissionError:
        raise RuntimeFault(
            f"permission denied on {path} (run as root or the node's user)"
        ) from None
    except TimeoutError:
        raise RuntimeFault(f"no answer from {path}") from None
    except OSError as exc:
        raise RuntimeFault(f"cannot connect to {path}: {exc.strerror or exc}") from None


async def _read_reply(reader: asyncio.StreamReader, path: str) -> dict[str, Any]:
    try:
        raw = await reader.readline()
    except (ValueError, ConnectionError):
        raise RuntimeFault(f"bad answer from {path}") from None
    if not raw:
        raise RuntimeFault(f"{path} closed the connection")
    try:
        obj = json.loads(raw)
    except ValueError:
        raise RuntimeFault(f"bad answer from {path}") from None
    if not isinstance(obj, dict):
        raise RuntimeFault(f"bad answer from {path}")
    return obj


async def request(path: str, obj: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
    """Send one request and return the response object; RuntimeFault if nobody answers."""
    reader, writer = await _connect(path, timeout)
    try:
        writer.write(_line(obj))
        await writer.drain()
        return await asyncio.wait_for(_read_reply(reader, path), timeout)
    except TimeoutError:
        raise RuntimeFault(f"no answer from {path}") from None
    finally:
        writer.close()


async def subscribe(
    path: str, timeout: float = 5.0, *, observer: bool = True
) -> AsyncIterator[dict[str, Any]]:
    """Status snapshots as the node publishes them, the current one first; without
    `observer`, the node's status alone (no LAN document)."""
    reader, writer = await _connect(path, timeout)
    try:
        req: dict[str, Any] = (
            {"cmd": "subscribe"} if observer else {"cmd": "subscribe", "observer": False}
        )
        writer.write(_line(req))
        await writer.drain()
        while True:
            reply = await _read_reply(reader, path)
            if not reply.get("ok"):
                raise RuntimeFault(str(reply.get("error", "subscription refused")))
            yield reply["status"]
    finally:
        writer.close()
