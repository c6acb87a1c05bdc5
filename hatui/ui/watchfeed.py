"""The plain watch console's feed (`hatui --watch IFACE` with the console): a capture of
its own, in the console's process.

Serving and attached consoles capture nothing: they follow the host's LAN view
(ui/feeds.py). A plain watch has no node and so no LAN view; this module is the one
console module that the capture reaches (pyproject.toml's import contracts say so).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from hatui.observe.events import Event
from hatui.observe.model import RouterView
from hatui.observe.report import event_to_json, routers_to_json
from hatui.runtime.document import live_document
from hatui.types import WallUs
from hatui.ui.feeds import Feed, Post
from hatui.ui.messages import EventsArrived, ObserverDoc
from hatui.ui.model import Mode

if TYPE_CHECKING:
    from hatui.runtime.metrics import Exporter
    from hatui.runtime.watch import CaptureStats, SnapshotGetter, Watch


class UiSink:
    """A watch-runtime Sink that turns snapshots and events into console messages.

    With `news` (`Watch.news_views`), events carry a builder of the partial document of
    the routers they are about: the console shows them without waiting for a snapshot."""

    def __init__(
        self,
        post: Post,
        on_snapshot: Callable[[], None] | None = None,
        *,
        news: Callable[[Sequence[Event]], tuple[WallUs, tuple[RouterView, ...]]] | None = None,
    ) -> None:
        self.post = post
        self.on_snapshot = on_snapshot
        self.news = news

    def events(self, events: Sequence[Event]) -> None:
        docs = [event_to_json(e) for e in events]
        news = self.news
        if news is None:
            self.post(EventsArrived(docs))
            return
        held = tuple(events)  # built when the console draws the news, from the model then
        self.post(EventsArrived(docs, lambda: routers_to_json(*news(held))))

    def snapshot(self, get: SnapshotGetter, stats: CaptureStats) -> None:
        frozen = replace(stats)  # the counters as they are now, for a document built later
        # Neither the snapshot nor its document is built unless the console draws it.
        self.post(ObserverDoc(lambda: live_document(get(), frozen, events=False)))
        if self.on_snapshot is not None:
            self.on_snapshot()


class LiveWatchFeed(Feed):
    """`--watch IFACE`: live capture, read-only."""

    mode = Mode.WATCH

    def __init__(
        self, watch: Watch, duration: float | None = None, *, metrics: str | None = None
    ) -> None:
        super().__init__()
        self.watch = watch
        self.duration = duration
        self.source = ", ".join(watch.interfaces)
        self.metrics_listen = metrics
        self.exporter: Exporter | None = None

    def open(self) -> None:
        from hatui.runtime.metrics import bind

        self.exporter = bind(self.metrics_listen)
        try:
            self.watch.open()
        except BaseException:
            self.close()
            raise

    async def run(self, post: Post) -> None:
        self.watch.sinks.append(UiSink(post, news=self.watch.news_views))
        if self.exporter is not None:
            self.exporter.attach(asyncio.get_running_loop(), watch=self.watch, node=None)
        try:
            await self.watch.run(self.stop, self.duration)
        finally:
            self.watch.close()

    def close(self) -> None:
        if self.exporter is not None:
            self.exporter.stop()
