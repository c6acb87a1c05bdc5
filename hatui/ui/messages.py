"""Messages a feed posts to the console: contract documents, events, the end of the feed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from hatui.adapters.haproxy import Poll

Json = dict[str, Any]


class ObserverDoc(Message):
    """A JSON document (docs/json.md, `snapshot_to_json`); only the newest one matters.

    A live feed passes a function that builds it: a snapshot the console skips (coalesced,
    or waiting out a slow redraw) is then never converted to JSON."""

    def __init__(self, doc: Json | Callable[[], Json]) -> None:
        super().__init__()
        self._doc = doc

    @property
    def doc(self) -> Json:
        if callable(self._doc):
            self._doc = self._doc()
        return self._doc

    def can_replace(self, message: Message) -> bool:
        # A flood of snapshots collapses into the newest (toolong's habit).
        return isinstance(message, ObserverDoc)


class NodeDoc(Message):
    """A node status document (`node_status_to_json`); only the newest one matters."""

    def __init__(self, doc: Json) -> None:
        super().__init__()
        self.doc = doc

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, NodeDoc)


class EventsArrived(Message):
    """New observer or node events (`event_to_json` / `node_event_to_json`), in order.

    A live watch also passes `routers`: it builds a partial document (`routers_to_json`)
    of the routers the events are about, as they are now, so that the console can show
    the news before it draws a document of every router."""

    def __init__(self, events: Sequence[Json], routers: Callable[[], Json] | None = None) -> None:
        super().__init__()
        self.events = list(events)
        self.routers = routers


class FeedEnded(Message):
    """The feed stopped: the capture ended, the node went away, or it failed (`error`)."""

    def __init__(self, error: str | None = None) -> None:
        super().__init__()
        self.error = error


class HaproxyPolled(Message):
    """One poll of the local haproxy (`hatui.adapters.haproxy.Poll`); the newest matters,
    but events come from successive polls, so the app folds each one it receives."""

    def __init__(self, poll: Poll) -> None:
        super().__init__()
        self.poll = poll


class NoHaproxy(Message):
    """The LAN view follows no haproxy (its node runs with `--haproxy none`): no panel."""
