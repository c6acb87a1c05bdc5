"""The LAN view's socket, client side: what a node and a console ask the host's LAN view.

The LAN view (runtime/lanview.py) listens on a Unix socket (mode 0600) beside the node's
control socket: the control socket's path plus `.lan`. It speaks JSON lines, as the
control socket does (adapters/control.py): one request per connection,

  {"cmd": "document"}   {"ok": true, "document": {...}}: the LAN document (docs/json.md)
                        with its recent events
  {"cmd": "metrics"}    {"ok": true, "metrics": "..."}: the LAN families as Prometheus
                        text, which the node's /metrics serves as it is
  {"cmd": "subscribe"}  a stream: first {"ok": true, "document": {...}} with the recent
                        events (the history), then, as the LAN view decodes them,
                        {"ok": true, "events": [...], "news": {...}} (`news`: the routers
                        the events are about, as `routers_to_json` writes them; absent
                        when they name no VRRP router), documents without events
                        {"ok": true, "document": {...}} every DOC_EVERY_S, and, when it
                        follows the local haproxy, each poll {"ok": true, "haproxy":
                        {...}} (the last one right after the first document); right
                        after the first document, {"ok": true, "polls_haproxy": BOOL}:
                        whether it follows the local haproxy at all (a node started
                        with `--haproxy none` does not)

Errors are {"ok": false, "error": "one line"}. This module imports no capture: a console
is a client of the LAN view, never a capture of its own.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import orjson

SUFFIX = ".lan"  # the LAN view's socket: the control socket's path plus this
ANSWER_TIMEOUT_S = 2.0
MAX_ANSWER = 64 * 1024 * 1024  # a document of hundreds of routers and their ARP owners
COMMANDS = ("document", "metrics", "subscribe")

Json = dict[str, Any]


DOCUMENT_PREFIX = b'{"ok":true,"document":'  # how the LAN view writes a document line


@dataclass(frozen=True, slots=True)
class LanEvents:
    """Events as the LAN view decoded them, with `news`: the rows they are about."""

    events: list[Json]
    news: Json | None


@dataclass(frozen=True, slots=True)
class LanHaproxyPoll:
    """One of the LAN view's polls of the local haproxy (adapters/haproxy.py's
    `poll_to_json`): a console's haproxy panel follows them."""

    poll: Json


@dataclass(frozen=True, slots=True)
class LanHaproxyFollowed:
    """Whether the LAN view follows the local haproxy: without, no console shows a panel."""

    polls: bool


@dataclass(slots=True)
class LanDocument:
    """A document line, parsed only when asked: a console skips most of them (it draws a
    document of every router only as often as its redraws allow), and parsing one of
    hundreds of routers costs the console's loop as much as a redraw."""

    raw: bytes
    _doc: Json | None = field(default=None, repr=False)

    def parse(self) -> Json:
        if self._doc is None:
            doc = parse_answer(self.raw).get("document")
            self._doc = doc if isinstance(doc, dict) else {}
        return self._doc


class LanViewGone(Exception):
    """The LAN view is not there (not started yet, restarting) or broke the protocol."""


def lan_path(control_path: str) -> str:
    """The LAN view's socket beside a node's control socket."""
    return control_path + SUFFIX


def request_line(cmd: str) -> bytes:
    return json.dumps({"cmd": cmd}).encode() + b"\n"


def _loads(line: bytes) -> Any:
    """orjson parses a document of 255 routers in a third of json's time, and the console
    does it in its loop; json still reads what orjson refuses (NaN, which json writes)."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def parse_answer(line: bytes) -> Json:
    """One answer line as an object; LanViewGone if it is not an `ok` object."""
    if not line.endswith(b"\n"):
        raise LanViewGone("the LAN view closed the connection")
    try:
        obj = _loads(line)
    except ValueError:
        raise LanViewGone("a malformed line from the LAN view") from None
    if not isinstance(obj, dict):
        raise LanViewGone("a malformed line from the LAN view")
    if not obj.get("ok"):
        raise LanViewGone(str(obj.get("error", "refused")))
    return obj


async def _open(path: str, cmd: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_unix_connection(path, limit=MAX_ANSWER), ANSWER_TIMEOUT_S
        )
    except (OSError, TimeoutError) as exc:
        raise LanViewGone(
            f"{path}: {getattr(exc, 'strerror', None) or exc or 'no answer'}"
        ) from None
    writer.write(request_line(cmd))
    return reader, writer


async def document(path: str) -> Json:
    """The LAN document with its recent events; LanViewGone if it does not answer in time."""
    reader, writer = await _open(path, "document")
    try:
        line = await asyncio.wait_for(reader.readline(), ANSWER_TIMEOUT_S)
        doc = parse_answer(line).get("document")
    except (OSError, TimeoutError, ValueError) as exc:
        raise LanViewGone(f"{path}: {exc or 'no answer'}") from None
    finally:
        writer.close()
    if not isinstance(doc, dict):
        raise LanViewGone(f"{path}: an answer without a document")
    return doc


def metrics_text(path: str) -> bytes | None:
    """The LAN families as Prometheus text, or None. Blocking: for a scrape's HTTP thread,
    never for an event loop."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(ANSWER_TIMEOUT_S)
            sock.connect(path)
            sock.sendall(request_line("metrics"))
            chunks = []
            while chunk := sock.recv(1 << 16):
                chunks.append(chunk)
                if chunk.endswith(b"\n"):
                    break
        text = parse_answer(b"".join(chunks)).get("metrics")
    except (OSError, LanViewGone):
        return None
    return text.encode() if isinstance(text, str) else None


LanMessage = LanDocument | LanEvents | LanHaproxyPoll | LanHaproxyFollowed


async def subscribe(path: str) -> AsyncGenerator[LanMessage, None]:
    """The LAN view's stream: documents (the first with the history), events, haproxy
    polls. Ends with
    LanViewGone when the LAN view goes away (or cannot be reached)."""
    reader, writer = await _open(path, "subscribe")
    try:
        while True:
            try:
                line = await reader.readline()
            except (OSError, ValueError) as exc:
                raise LanViewGone(f"{path}: {exc}") from None
            if line.startswith(DOCUMENT_PREFIX) and line.endswith(b"\n"):
                yield LanDocument(line)
                continue
            obj = parse_answer(line)
            if isinstance(obj.get("haproxy"), dict):
                yield LanHaproxyPoll(obj["haproxy"])
                continue
            if isinstance(obj.get("polls_haproxy"), bool):
                yield LanHaproxyFollowed(obj["polls_haproxy"])
                continue
            if isinstance(obj.get("document"), dict):
                yield LanDocument(line, obj["document"])
                continue
            events = [e for e in obj.get("events") or () if isinstance(e, dict)]
            news = obj.get("news")
            yield LanEvents(events, news if isinstance(news, dict) else None)
    finally:
        writer.close()
