"""A serving node's LAN view, in a process of its own.

The node process captures only its own VRIDs' adverts (a kernel filter, as keepalived's
socket does) and runs nothing but its state machines, control socket and trackers. What
every other router on the LAN is doing (the headless log's LAN events, `hatui_router_*`
metrics, the observer document of `hatui ctl status` and of an attached console) is
decoded here instead, by a read-only watcher the node starts under SCHED_IDLE:

- a flood of other routers' adverts costs this process, never the node's timers: the
  kernel schedules the node first, and drops what this process cannot read (counted as
  kernel drops, shown, never silent);
- this process dying, or being slow, never touches the node; the node starts it again.

The two talk over a Unix socket (mode 0600) beside the control socket: one request per
connection, a JSON line; the answer is one line (a document, metrics text) or, for a
subscription, two lines per publication (the new events, then the document).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from hatui.adapters.control import offer, pump
from hatui.errors import RuntimeFault
from hatui.haproxy.join import HaproxyView
from hatui.observe.events import Event
from hatui.observe.report import event_to_json
from hatui.runtime.document import live_document
from hatui.runtime.parent import PARENT_ENV
from hatui.runtime.watch import CaptureStats, SnapshotGetter, Watch

log = logging.getLogger(__name__)

SUFFIX = ".lan"  # the LAN view's socket: the control socket's path plus this
NICE = 19  # where SCHED_IDLE is refused (and ignored under it)
ANSWER_TIMEOUT_S = 2.0
RESTART_S = 5.0  # a LAN view that died starts again after this
STOP_TIMEOUT_S = 2.0
EVENT_BACKLOG = 500
_QUEUE = 4  # publications a slow subscriber may lag before it loses the oldest
MAX_ANSWER = 64 * 1024 * 1024
# systemd speaks to the node alone: READY, WATCHDOG and STATUS are the node's word.
_SUPERVISOR_ENV = frozenset({"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"})


# -- the LAN view's side ---------------------------------------------------------------


class LanViewServer:
    """Answers the node that started this process: documents, metrics, a stream. It is
    also a watch Sink (the stream's events and documents come from the watch's ticks)."""

    def __init__(self, watch: Watch, path: str) -> None:
        from hatui.runtime.metrics import LanCounters

        self.watch = watch
        self.path = path
        self.counters = LanCounters()  # master changes by cause: metrics
        self._server: asyncio.Server | None = None
        self._queues: set[asyncio.Queue[bytes]] = set()
        self._events: list[dict[str, object]] = []
        self.haproxy: Callable[[], HaproxyView | None] = lambda: None  # --lan-haproxy

    async def start(self) -> None:
        # The control socket's folder (/run/hatui), which the node may not have made yet.
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), mode=0o755, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # ours, from a LAN view the node started before
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=self.path)
            os.chmod(self.path, 0o600)
        except OSError as exc:
            raise RuntimeFault(f"LAN view: cannot listen on {self.path}: {exc.strerror}") from None
        self.watch.sinks += [self, self.counters]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    def document(self) -> dict[str, object]:
        watch = self.watch
        snap = watch.observer.snapshot(watch.clock.wall_us())
        return live_document(snap, watch.stats, self.haproxy())

    def metrics(self) -> bytes:
        from hatui.runtime.metrics import lan_exposition

        watch = self.watch
        snap = watch.observer.snapshot(watch.clock.wall_us())
        return lan_exposition(snap, self.counters, watch.stats.kernel_drops)

    # -- Sink ---------------------------------------------------------------------------

    def events(self, events: Sequence[Event]) -> None:
        if self._queues:
            self._events += [event_to_json(e) for e in events]
            del self._events[:-EVENT_BACKLOG]

    def snapshot(self, get: SnapshotGetter, stats: CaptureStats) -> None:
        if not self._queues:
            return
        # The document's own history goes in a subscriber's first answer (`document`);
        # the stream carries only what is new.
        doc = live_document(get(), stats, events=False)
        events, self._events = self._events, []
        offer(self._queues, json.dumps(events).encode() + b"\n" + json.dumps(doc).encode() + b"\n")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await reader.readline()
            cmd = request.strip().decode(errors="replace")
            if cmd == "document":
                writer.write(json.dumps(self.document()).encode() + b"\n")
            elif cmd == "metrics":
                writer.write(self.metrics())
            elif cmd == "subscribe":
                await self._stream(reader, writer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[bytes] = asyncio.Queue(_QUEUE)
        self._queues.add(queue)
        gone = asyncio.ensure_future(reader.read())  # EOF: the node went away
        try:
            await pump(queue, gone, writer)
        finally:
            gone.cancel()
            self._queues.discard(queue)


def lower_priority() -> None:
    """Run behind the node, whatever its policy: SCHED_IDLE, which the kernel preempts as
    soon as the node (or any normal task) wakes, where nice 19 may run on for a while.
    Only the machine's spare time goes here; under a saturated CPU this process loses
    frames (counted as kernel drops), the node nothing. Where SCHED_IDLE is refused:
    normal scheduling (never the node's SCHED_RR) at nice 19."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except OSError:
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, NICE)


def ignore_terminal_signals() -> None:
    """Ctrl-C and a hang-up reach the node's whole process group: the node decides (it
    reloads on SIGHUP, stops on SIGINT) and stops this process itself, with SIGTERM,
    once it has asked for the last document."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


# -- the node's side -------------------------------------------------------------------


class LanView:
    """The node's handle on its LAN-view process: starts it (and again if it dies),
    asks it for documents and metrics, stops it. Every question has a deadline and an
    answer of None when the LAN view is not there: the node never waits on it."""

    def __init__(self, path: str, argv: Sequence[str]) -> None:
        self.path = path
        self.argv = list(argv)  # hatui's arguments for the child, after `-m hatui`
        self.proc: asyncio.subprocess.Process | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        self._keeper = asyncio.ensure_future(self._keep())

    async def _spawn(self) -> asyncio.subprocess.Process:
        env = {k: v for k, v in os.environ.items() if k not in _SUPERVISOR_ENV}
        env[PARENT_ENV] = str(os.getpid())  # it stops when we die
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hatui", *self.argv, env=env, stdin=asyncio.subprocess.DEVNULL
        )

    async def _keep(self) -> None:
        while not self._stopping:
            try:
                self.proc = await self._spawn()
            except OSError as exc:
                log.error("cannot start the LAN view: %s; the node goes on", exc)
                await asyncio.sleep(RESTART_S)
                continue
            code = await self.proc.wait()
            if self._stopping:
                return
            log.error(
                "the LAN view (pid %d) exited with %s; the node goes on, restarting it in %g s",
                self.proc.pid, code, RESTART_S,
            )  # fmt: skip
            await asyncio.sleep(RESTART_S)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.returncode is None else None

    async def _ask(self, request: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_unix_connection(self.path, limit=MAX_ANSWER)
        writer.write(request + b"\n")
        await writer.drain()
        return reader, writer

    async def document(self) -> bytes | None:
        """The LAN document as JSON bytes, or None (not running yet, or not answering)."""
        try:
            async with asyncio.timeout(ANSWER_TIMEOUT_S):
                reader, writer = await self._ask(b"document")
                try:
                    line = await reader.readline()
                finally:
                    writer.close()
        except (OSError, TimeoutError, ValueError) as exc:
            log.debug("LAN view: no document: %s", exc)
            return None
        return line.rstrip(b"\n") or None

    def metrics(self) -> bytes | None:
        """The LAN families as Prometheus text, for a scrape: blocking, from the HTTP
        thread, never from the event loop."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(ANSWER_TIMEOUT_S)
                sock.connect(self.path)
                sock.sendall(b"metrics\n")
                sock.shutdown(socket.SHUT_WR)
                chunks = []
                while chunk := sock.recv(1 << 16):
                    chunks.append(chunk)
        except OSError as exc:
            log.debug("LAN view: no metrics: %s", exc)
            return None
        return b"".join(chunks)

    async def stream(self) -> AsyncIterator[tuple[bytes, bytes]]:
        """(new events, document), as JSON bytes, at each of the LAN view's ticks, until
        the caller stops iterating or the LAN view goes away."""
        try:
            reader, writer = await asyncio.wait_for(self._ask(b"subscribe"), ANSWER_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            log.debug("LAN view: no stream: %s", exc)
            return
        try:
            while True:
                events = await reader.readline()
                doc = await reader.readline()
                if not doc.endswith(b"\n"):
                    return
                yield events.rstrip(b"\n"), doc.rstrip(b"\n")
        except (OSError, ValueError):
            return
        finally:
            writer.close()

    async def stop(self) -> None:
        self._stopping = True
        proc = self.proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.wait({self._keeper}, timeout=1.0)


def splice_events(lan: bytes, node: list[dict[str, Any]]) -> bytes:
    """One JSON array of the LAN view's events (bytes as sent) and the node's own."""
    if not node:
        return lan
    mine = json.dumps(node).encode()
    if lan in (b"", b"[]"):
        return mine
    return lan[:-1] + b"," + mine[1:]
