"""A console's LAN: the host's LAN view's stream (adapters/lanclient.py) as console
messages, through the LAN view's restarts, and its haproxy polls for the haproxy panel.

Serve and attach consoles follow it (ui/feeds.py); they capture nothing themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from textual.message import Message

from hatui.adapters import lanclient
from hatui.ui.messages import EventsArrived, NoHaproxy, ObserverDoc

if TYPE_CHECKING:
    from hatui.adapters.haproxy import Poll

log = logging.getLogger(__name__)
Json = dict[str, Any]
Post = Callable[[Message], object]
_T = TypeVar("_T")


class LanStream:
    """The host's LAN view (its socket, adapters/lanclient.py) as console messages: its
    document, its events the moment it decodes them, with the rows they are about.

    The first document's events are the history. When the LAN view goes away (it died; its
    node starts it again), the console says so (`lan_view_lost`) and reconnects; once back
    (`lan_view_back`), the new history adds only what is newer than the log, and routers
    already shown are not announced as new again."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.connected = False
        self._last_event = float("-inf")  # the time of the newest LAN event posted
        self._known = False  # a document arrived before: a reconnect, not a start
        self._shown: set[tuple[object, ...]] = set()  # routers the console has shown
        self.last_poll: Poll | None = None  # the LAN view's last haproxy poll
        self.on_poll: Callable[[Poll], object] | None = None

    async def run(self, post: Post, stop: asyncio.Event) -> None:
        """Post the LAN until `stop` is set, through the LAN view's restarts."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        said_lost = False
        while not stop.is_set():
            stream = lanclient.subscribe(self.path)
            try:
                first = await _next_or_stop(stream, stop)
                if first is None:
                    return
                self.connected = True
                if said_lost:
                    post(EventsArrived([_lan_event("lan_view_back", "LAN view back")]))
                    said_lost = False
                self._deliver_first(first, post)
                while (msg := await _next_or_stop(stream, stop)) is not None:
                    self._deliver(msg, post)
                return
            except lanclient.LanViewGone as exc:
                was = self.connected
                self.connected = False
                # A console starting beside a node that is starting its LAN view waits
                # a moment before it calls the LAN view lost.
                if not said_lost and (was or loop.time() - started > LAN_QUIET_S):
                    detail = (
                        f"LAN view lost, reconnecting ({exc})"
                        if was
                        else f"no LAN view yet, waiting for it ({exc})"
                    )
                    post(EventsArrived([_lan_event("lan_view_lost", detail)]))
                    said_lost = True
            finally:
                await stream.aclose()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), LAN_RETRY_S)

    def _deliver_first(self, msg: lanclient.LanMessage, post: Post) -> None:
        """A subscription's first line: the document, whose events are the history."""
        if not isinstance(msg, lanclient.LanDocument):
            self._deliver(msg, post)
            return
        doc = msg.parse()
        history = [e for e in doc.get("events") or () if isinstance(e, dict)]
        if self._known:  # a reconnect: only what is newer than the log
            history = [e for e in history if _time(e) > self._last_event]
        self._post_events(history, None, post)
        self._known = True
        self._shown.update(_key(r) for r in doc.get("routers") or () if isinstance(r, dict))
        post(ObserverDoc(doc))

    def _deliver(self, msg: lanclient.LanMessage, post: Post) -> None:
        if isinstance(msg, lanclient.LanEvents):
            news = msg.news
            self._post_events(msg.events, (lambda: news) if news is not None else None, post)
        elif isinstance(msg, lanclient.LanDocument):
            post(ObserverDoc(msg.parse))  # parsed only if the console draws it
        elif isinstance(msg, lanclient.LanHaproxyFollowed):
            if not msg.polls:
                post(NoHaproxy())
        else:
            self._haproxy_poll(msg.poll)

    def _haproxy_poll(self, obj: Json) -> None:
        from hatui.adapters.haproxy import poll_from_json

        try:
            poll = poll_from_json(obj)
        except (KeyError, TypeError, ValueError) as exc:  # a LAN view of another version
            log.warning("a haproxy poll from the LAN view that does not read: %r", exc)
            return
        self.last_poll = poll
        if self.on_poll is not None:
            self.on_poll(poll)

    def haproxy_source(self) -> LanHaproxy:
        """The console's haproxy panel, fed by the LAN view's polls (the app's
        HaproxySource): the LAN view polls the local haproxy, the console never does."""
        return LanHaproxy(self)

    def _post_events(self, events: list[Json], news: Callable[[], Json] | None, post: Post) -> None:
        # A restarted LAN view meets every router anew: a router already shown is not
        # announced twice.
        events = [e for e in events if e.get("kind") != "new_router" or _key(e) not in self._shown]
        if not events:
            return
        self._shown.update(_key(e) for e in events if e.get("kind") == "new_router")
        self._last_event = max(self._last_event, max(_time(e) for e in events))
        post(EventsArrived(events, news))


class LanHaproxy:
    """The LAN view's haproxy polls as a HaproxySource (ui/app.py)."""

    def __init__(self, lan: LanStream) -> None:
        self.lan = lan

    async def run(self, on_poll: Callable[[Poll], object], stop: asyncio.Event) -> None:
        if self.lan.last_poll is not None:
            on_poll(self.lan.last_poll)
        self.lan.on_poll = on_poll
        try:
            await stop.wait()
        finally:
            self.lan.on_poll = None


def _key(obj: Json) -> tuple[object, ...]:
    """Which router a document row or an event is about."""
    return (obj.get("interface"), obj.get("family"), obj.get("vrid"), obj.get("protocol"))


LAN_RETRY_S = 0.5  # how soon a console tries the LAN view's socket again
LAN_QUIET_S = 3.0


def _time(event: Json) -> float:
    value = event.get("time")
    return float(value) if isinstance(value, int | float) else float("-inf")


def _lan_event(kind: str, detail: str) -> Json:
    return {"time": time.time(), "kind": kind, "detail": detail}


async def _next_or_stop(stream: AsyncIterator[_T], stop: asyncio.Event) -> _T | None:
    """The stream's next object, or None once `stop` is set (or the stream ended)."""
    nxt = asyncio.ensure_future(anext(stream))
    halt = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({nxt, halt}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        halt.cancel()
    if not nxt.done():
        nxt.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await nxt
        return None
    try:
        return nxt.result()
    except StopAsyncIteration:
        return None
