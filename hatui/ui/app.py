"""The console: one Textual app over a Feed, and the CLI's entry points for each mode.

The app renders the view model built from the feed's JSON documents. Updates are
coalesced: the newest snapshot wins and the screen is redrawn at most ~10 times a second.
News from a live watch (a master or priority change) comes with a partial document of the
routers it is about: their rows are drawn at once, and the document of every router follows
once the screen shows them.
Keys that steer a node exist only in serve and attach modes (check_action hides and
refuses them elsewhere), and every one asks for confirmation first.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from rich.text import Text
from textual import events as tevents
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, RichLog
from textual.worker import Worker

from hatui.adapters.haproxy import Poll
from hatui.errors import EXIT_OK, EXIT_RUNTIME, HatuiError
from hatui.haproxy.join import VipHolder, holders
from hatui.haproxy.report import event_to_json as haproxy_event_to_json
from hatui.haproxy.track import Tracker
from hatui.ui import proxies
from hatui.ui.feeds import Feed
from hatui.ui.messages import (
    EventsArrived,
    FeedEnded,
    HaproxyPolled,
    NodeDoc,
    NoHaproxy,
    ObserverDoc,
)
from hatui.ui.model import (
    COMMAND_MODES,
    EMPTY_OBSERVER,
    EventRow,
    InstanceRow,
    Json,
    Mode,
    NodeView,
    ObserverView,
    event_row,
    node_view,
    observer_view,
)
from hatui.ui.predict import describe
from hatui.ui.render import NODE_TITLE, detail, event_line, header, log_line
from hatui.ui.screens.confirm import ConfirmScreen
from hatui.ui.screens.help import HelpScreen
from hatui.ui.screens.priority import PriorityScreen
from hatui.ui.screens.timeline import TimelineScreen
from hatui.ui.timeline import timeline
from hatui.ui.widgets.panes import DetailPane, EventLog, TextPane
from hatui.ui.widgets.proxies import HaproxyPanel
from hatui.ui.widgets.tables import KeyedTable, NodePanel, RoutersTable
from hatui.vrrp.inputs import (
    AdjustPriority,
    OperatorCommand,
    Pause,
    Release,
    Resume,
    SendGarp,
    SetPriority,
)

log = logging.getLogger(__name__)

RENDER_S = 0.1  # at most ~10 redraws a second, however fast documents arrive
GC_YOUNG = 10_000  # allocations between the console's young collections
# A snapshot that brings no event (only ages and rates moved) waits longer when a redraw is
# costly: the UI spends at most about this share of a core on such redraws.
ROUTINE_SHARE = 0.1
ROUTINE_MAX_S = 1.0
NEWS_MIN_S = 0.03  # news (a failover, a priority change) may draw this soon after a draw...
NEWS_SHARE = 0.5  # ...but redraws for news never take more than about half a core
SHORT_ROWS = 30  # below this many rows, with the haproxy panel, panels give up rows
STEP = 10  # `+` / `-` priority step
RECENT_EVENTS = 30  # events the detail pane shows in full while the log has focus
TIMELINE_EVENTS = 5000  # router events kept for the `t` timeline
QUIT_WAIT_S = 5.0  # how long quitting waits for a node to release its VIPs
COMMAND_ACTIONS = frozenset({"priority_step", "set_priority", "release", "pause_resume", "garp"})


class HaproxySource(Protocol):
    """Polls the local haproxy (hatui.adapters.haproxy.HaproxyPoller, or a script)."""

    async def run(self, on_poll: Callable[[Poll], object], stop: asyncio.Event) -> None: ...


class HatuiApp(App[int]):
    """The console over one feed."""

    CSS_PATH = "hatui.tcss"
    TITLE = "hatui"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("q", "quit_console", "quit", id="quit"),
        Binding("ctrl+c", "quit_console", "quit", show=False, priority=True),
        Binding("question_mark", "help", "help", id="help"),
        Binding("o", "sort", "sort", id="sort"),
        Binding("t", "timeline", "timeline", show=False, id="timeline"),
        Binding("v", "vips", "VIPs", show=False, id="vips"),  # the header says (v)
        Binding("m", "zoom", "zoom", show=False, id="zoom"),
        Binding("plus", f"priority_step({STEP})", f"+{STEP}", id="priority.up"),
        Binding("minus", f"priority_step({-STEP})", f"-{STEP}", id="priority.down"),
        Binding("p", "set_priority", "prio", id="priority.set"),
        Binding("r", "release", "release", id="release"),
        Binding("s", "pause_resume", "stop", id="pause"),
        Binding("g", "garp", "garp", id="garp"),
    ]

    # How live consoles follow the local haproxy; the CLI sets it (with --haproxy).
    haproxy_source: ClassVar[Callable[[], HaproxySource] | None] = None

    def __init__(
        self, feed: Feed, *, render_s: float = RENDER_S, haproxy: HaproxySource | None = None
    ) -> None:
        super().__init__()
        self.feed = feed
        # The panel runs beside the feed in every live mode, on its own worker, so it
        # works the same whether documents come from a watch, a node or a control socket.
        make = type(self).haproxy_source
        live = feed.mode is not Mode.READ
        self.haproxy = haproxy or (make() if make is not None and live else None)
        self.haproxy_tracker = Tracker()
        self._haproxy_stop = asyncio.Event()
        self._detail_proxy: str | None = None  # the haproxy row the detail pane shows
        self._detail_events = False  # the log has focus: the detail pane shows its events
        self._recent: deque[Text] = deque(maxlen=RECENT_EVENTS)
        self._gc_threshold = gc.get_threshold()
        # What the `t` timeline marks, per router (bounded: the newest are kept).
        self._marked: deque[EventRow] = deque(maxlen=TIMELINE_EVENTS)
        self.render_s = render_s
        self.observer: ObserverView = EMPTY_OBSERVER
        self.node: NodeView | None = None
        self.note = ""
        self.exit_code = EXIT_OK
        self._pending_obs: ObserverDoc | None = None
        self._fresh: ObserverView | None = None  # news rows drawn since the last document
        self._held = False  # news rows drawn, not yet on screen: the next document waits
        self._gc_held = False  # the collector is off until the news is on screen
        self._news = False  # events or node changes not yet in a drawn document: do not wait
        self._event_gen = 0  # events seen so far
        self._doc_gen = 0  # events seen when the pending document arrived
        self._render_due = 0.0
        self._draw_cost = 0.0  # seconds, smoothed
        self._pending_node: Json | None = None
        self._pending_events: list[Json] = []
        self._last_render = 0.0
        self._render_timer: Any = None
        self._worker: Worker[None] | None = None
        self._quitting = False

    @property
    def can_command(self) -> bool:
        return self.feed.mode in COMMAND_MODES

    def compose(self) -> ComposeResult:
        yield TextPane(id="header")
        node = NodePanel(id="node")
        node.display = self.can_command
        yield node
        proxy = HaproxyPanel(id="haproxy")
        proxy.display = self.haproxy is not None
        yield proxy
        yield RoutersTable(id="routers")
        with Horizontal(id="bottom"):
            with DetailPane(id="detail-scroll"):
                yield TextPane(id="detail")
            # One line per event whatever the width (at 80x24 it has 33 columns, where
            # wrapping took three lines an event); focused, the detail pane has them in full.
            yield EventLog(id="log", max_lines=5000, wrap=False, markup=False, min_width=20)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#node").border_title = NODE_TITLE
        self.query_one("#haproxy").border_title = proxies.title(None).markup
        self._title_routers()
        self.query_one("#detail-scroll").border_title = "Detail"
        self.query_one("#log").border_title = "Events (tab here: full text)"
        self._draw_header()
        self.query_one("#detail", TextPane).set_text(detail(self.observer, None))
        focus = "#node" if self.can_command else "#routers"
        self.query_one(focus).focus()
        # The widgets, styles and modules made so far live as long as the app: out of the
        # collector's sight, a full collection among 255 routers' documents stays short.
        gc.freeze()
        # Documents of hundreds of routers allocate containers fast: at Python's default
        # the collector runs many times a second, and a full collection every few seconds,
        # each a pause in front of the news (bench/README.md). Fewer, larger young ones.
        self._gc_threshold = gc.get_threshold()
        gc.set_threshold(GC_YOUNG, 10, 10)
        self.call_after_refresh(self._start_feed)

    def _start_feed(self) -> None:
        self._worker = self.run_worker(self._run_feed(), name="feed", exit_on_error=False)
        if self.haproxy is not None:
            self.run_worker(self._run_haproxy(self.haproxy), name="haproxy", exit_on_error=False)

    async def _run_haproxy(self, source: HaproxySource) -> None:
        try:
            await source.run(
                lambda poll: self.post_message(HaproxyPolled(poll)), self._haproxy_stop
            )
        except Exception:
            log.exception("haproxy poller failed")

    # -- haproxy beside the VIP -----------------------------------------------------------

    def _vip_holders(self) -> tuple[VipHolder, ...]:
        """Our own instances first (a node drops its own adverts), then the LAN's routers."""
        own = (
            (vip.split("/")[0], i.master_ip, i.vrid, "vrrp")
            for i in (self.node.instances if self.node is not None else ())
            for vip in i.vips
        )
        lan = ((v, r.master_ip, r.vrid, r.protocol) for r in self.observer.routers for v in r.vips)
        return holders(itertools.chain(own, lan))

    def on_no_haproxy(self, _msg: NoHaproxy) -> None:
        """The node polls no haproxy (`--haproxy none`): neither does its panel wait."""
        if self.haproxy is None:
            return
        self.haproxy = None
        self._haproxy_stop.set()
        self.query_one("#haproxy").display = False
        self.set_class(False, "-short")

    def on_haproxy_polled(self, msg: HaproxyPolled) -> None:
        poll = msg.poll
        events = self.haproxy_tracker.update(
            socket=poll.socket,
            time_us=poll.time_us,
            outcome=poll.outcome,
            local=poll.local,
            holders=self._vip_holders(),
        )
        view = self.haproxy_tracker.view
        assert view is not None
        if events:
            self._log_events([event_row(haproxy_event_to_json(ev)) for ev in events])
        self.query_one(HaproxyPanel).show(view)
        if self._detail_proxy is not None:
            self._draw_detail()

    async def _run_feed(self) -> None:
        try:
            await self.feed.run(self.post_message)
        except HatuiError as exc:
            self.post_message(FeedEnded(str(exc)))
        except Exception as exc:
            log.exception("feed failed")
            self.post_message(FeedEnded(f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(FeedEnded())

    # -- documents in, coalesced --------------------------------------------------------

    def on_observer_doc(self, msg: ObserverDoc) -> None:
        self._pending_obs = msg  # converted to JSON only if it is drawn
        self._doc_gen = self._event_gen
        self._schedule()

    def on_node_doc(self, msg: NodeDoc) -> None:
        self._pending_node = msg.doc
        self._news = True
        self._schedule()

    def on_events_arrived(self, msg: EventsArrived) -> None:
        self._pending_events.extend(msg.events)
        self._event_gen += 1
        self._news = True
        if msg.routers is None:
            self._schedule()
            return
        # The document of every router (tens of milliseconds with 255 routers) waits for
        # the screen to show the news rows, then follows at the news spacing. Nor does the
        # collector run before then: a full collection among 255 routers' documents takes
        # 20-60 ms, and was the whole tail of news latency. It catches up after.
        first = not self._held
        if first:
            self._held = True
            self._gc_held = gc.isenabled()
            gc.disable()
        try:
            self._draw_news(msg.routers)
        finally:
            if first:  # after what drawing the news asked to run after the refresh
                self.call_after_refresh(self._release)

    def _release(self) -> None:
        """The news is on screen: the document it held back may draw (at once if due)."""
        self._held = False
        self._resume_gc()
        self._schedule()

    def _resume_gc(self) -> None:
        if self._gc_held:
            self._gc_held = False
            gc.enable()

    def on_unmount(self) -> None:
        self._resume_gc()  # an app that ends with news in flight leaves the collector on
        gc.set_threshold(*self._gc_threshold)

    def _draw_news(self, build: Callable[[], Json]) -> None:
        """News at once, for the cost of the routers it is about: their rows and the events.

        The document of every router still follows at the news spacing (counters,
        failovers, ARP); until then these rows are newer than the rest of the view."""
        part = observer_view(build(), light=True)
        self._log_events([event_row(e) for e in self._pending_events])
        self._pending_events = []
        if not part.routers:
            return  # news of no VRRP router (HSRP, CARP, a rejected frame): the log alone
        self._fresh = part if self._fresh is None else self._fresh.merge(part)
        self.observer = self.observer.merge(part)
        self.query_one(RoutersTable).show(part.routers, prune=False)
        self._draw_header()
        self._draw_detail()

    @property
    def routine_s(self) -> float:
        """How long a snapshot without news may wait: adapted to what a redraw costs."""
        return min(ROUTINE_MAX_S, max(self.render_s, self._draw_cost / ROUTINE_SHARE))

    def on_feed_ended(self, msg: FeedEnded) -> None:
        self._draw_pending()
        if msg.error is not None:
            self.note = f"stopped: {msg.error}"
            self.exit_code = EXIT_RUNTIME
            self.notify(msg.error, title="feed stopped", severity="error", timeout=30)
            self._draw_header()
        elif self.feed.mode is Mode.READ:
            self.note = "end of capture"
            self._draw_header()
        elif not self._quitting:
            self.exit(self.exit_code)  # --duration elapsed

    @property
    def news_s(self) -> float:
        """How soon after the last draw news may draw: at once, within what a redraw costs."""
        return min(self.render_s, max(NEWS_MIN_S, self._draw_cost / NEWS_SHARE))

    def _schedule(self) -> None:
        if self._held:
            return  # _release schedules once the news is on screen
        spacing = self.news_s if self._news else self.routine_s
        due = self._last_render + spacing
        if self._render_timer is not None:
            if due >= self._render_due:
                return
            self._render_timer.stop()  # news: draw sooner than the routine redraw
            self._render_timer = None
        wait = due - time.monotonic()
        if wait <= 0:
            self._draw_pending()
        else:
            self._render_due = due
            self._render_timer = self.set_timer(wait, self._on_render_timer)

    def _on_render_timer(self) -> None:
        self._render_timer = None
        if not self._held:  # else _release draws, right after the news reached the screen
            self._draw_pending()

    def _draw_pending(self) -> None:
        self._render_timer = None
        start = self._last_render = time.monotonic()
        # A document that predates the latest events does not show them yet: the next one
        # must not wait either.
        self._news = self._pending_obs is None or self._doc_gen != self._event_gen
        if self._pending_obs is None and self._pending_node is not None:
            self._news = False
        if self._pending_events:
            self._log_events([event_row(e) for e in self._pending_events])
            self._pending_events = []
        if self._pending_node is not None:
            self.node = node_view(self._pending_node)
            self._pending_node = None
            self.query_one(NodePanel).show(self.node.instances)
        if self._pending_obs is not None:
            view = observer_view(self._pending_obs.doc, light=True)
            if self._fresh is not None and self._fresh.time > view.time:
                view = view.merge(self._fresh)  # a document built before news drawn since
            self._fresh = None
            self.observer = view
            self._pending_obs = None
            self.query_one(RoutersTable).show(self.observer.routers)
            self._draw_header()
            self._draw_vips()
            self._draw_detail()
            # The screen update that follows costs about as much again (measured).
            cost = 2 * (time.monotonic() - start)
            self._draw_cost = 0.7 * self._draw_cost + 0.3 * cost

    def _draw_header(self) -> None:
        self.query_one("#header", TextPane).set_text(
            header(self.feed.mode, self.feed.source, self.observer, self.note)
        )

    def _draw_vips(self) -> None:
        from hatui.ui.screens.vips import VipsScreen

        if isinstance(self.screen, VipsScreen):
            self.screen.show(self.observer)

    def _log_events(self, rows: list[EventRow]) -> None:
        logw = self.query_one("#log", RichLog)
        for row in rows:
            logw.write(log_line(row))
        self._recent.extend(event_line(row) for row in rows)
        self._marked.extend(row for row in rows if row.key)
        if self._detail_events:
            self._draw_detail()

    def on_resize(self, event: tevents.Resize) -> None:
        short = event.size.height < SHORT_ROWS and self.haproxy is not None
        self.set_class(short, "-short")

    def on_descendant_focus(self, event: tevents.DescendantFocus) -> None:
        """The detail pane follows focus: a router, a haproxy proxy, or the events."""
        wid = event.widget.id
        if wid not in ("log", "routers", "node", "haproxy"):
            return  # the detail pane itself: keep what it shows
        self._detail_events = wid == "log"
        if wid == "haproxy":
            self._detail_proxy = self.query_one(HaproxyPanel).selected_key or ""
        elif wid != "log":
            self._detail_proxy = None
        self._draw_detail()

    def _draw_detail(self) -> None:
        if self._detail_events:
            text = Text("Events, newest first\n", style="bold underline")
            for line in reversed(self._recent):
                text.append_text(line)
                text.append("\n")
            self.query_one("#detail", TextPane).set_text(text)
            return
        view = self.haproxy_tracker.view
        if self._detail_proxy is not None and view is not None:
            text = proxies.detail(view, self._detail_proxy or None)
            self.query_one("#detail", TextPane).set_text(text)
            return
        key = self.query_one(RoutersTable).selected_key
        router = self.observer.router(key) if key is not None else None
        self.query_one("#detail", TextPane).set_text(detail(self.observer, router))

    def on_keyed_table_row_highlighted(self, event: KeyedTable.RowHighlighted) -> None:
        if event.table.id == "routers":
            # New documents move its cursor too: a proxy on show keeps the pane.
            if not self.query_one(HaproxyPanel).has_focus:
                self._detail_proxy = None
            self._draw_detail()
        elif event.table.id == "haproxy" and event.table.has_focus:
            # Rows arriving move its cursor too: only the operator's choice takes the pane.
            self._detail_proxy = event.key or ""
            self._draw_detail()
        elif event.table.id == "node":
            # Follow the selected instance in the routers table.
            inst = self._selected_instance()
            if inst is not None:
                self.query_one(RoutersTable).select_key(inst.router_key)

    # -- keys ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in COMMAND_ACTIONS:
            return self.can_command  # False: hidden from the footer and never run
        return True

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.can_command))

    def action_timeline(self) -> None:
        """The selected router's timeline: masters, priority, failovers, near failovers."""
        key = self.query_one(RoutersTable).selected_key
        router = self.observer.router(key) if key is not None else None
        if router is None:
            self.notify("no virtual router selected", severity="warning")
            return
        width = max(20, min(120, self.size.width - 30))
        text = timeline(router, self.observer.failovers, self._marked, self.observer.time, width)
        self.push_screen(TimelineScreen(f"VRID {router.vrid} timeline (t, Esc: close)", text))

    def action_vips(self) -> None:
        from hatui.ui.screens.vips import VipsScreen

        self.push_screen(VipsScreen(self.observer))

    def action_sort(self) -> None:
        table = self.query_one(RoutersTable)
        by = "status" if table.sort_by == "vrid" else "vrid"
        table.set_sort(by, self.observer.routers)
        self._title_routers()

    def _title_routers(self) -> None:
        by = self.query_one(RoutersTable).sort_by
        self.query_one(RoutersTable).border_title = f"Virtual routers, by {by} (o)"

    def action_zoom(self) -> None:
        if self.screen.maximized is not None:
            self.screen.minimize()
        elif self.focused is not None:
            self.screen.maximize(self.focused)

    async def action_quit_console(self) -> None:
        """Stop the feed first: a serving node sends priority 0 and drops its VIPs."""
        if self._quitting:
            return
        self._quitting = True
        self.feed.stop.set()
        self._haproxy_stop.set()
        if self._worker is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._worker.wait(), QUIT_WAIT_S)
        self.exit(self.exit_code)

    def _selected_instance(self) -> InstanceRow | None:
        if self.node is None or not self.node.instances:
            return None
        key = self.query_one(NodePanel).selected_key
        return self.node.instance(key) if key is not None else self.node.instances[0]

    def _confirm(self, title: str, command: OperatorCommand) -> None:
        inst = self._selected_instance()
        if inst is None:
            self.notify("no instance to steer yet", severity="warning")
            return
        text = describe(command, inst, self.observer.router(inst.router_key))

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._submit(inst.name, command), name="command")

        self.push_screen(ConfirmScreen(f"{title}: {inst.name}", text), answered)

    async def _submit(self, instance: str, command: OperatorCommand) -> None:
        try:
            done = await self.feed.command(instance, command)
        except HatuiError as exc:
            self.notify(str(exc), title="command failed", severity="error")
        else:
            self.notify(done, timeout=3)

    def action_priority_step(self, delta: int) -> None:
        self._confirm(f"Priority {delta:+d}", AdjustPriority(delta=delta))

    def action_set_priority(self) -> None:
        inst = self._selected_instance()
        if inst is None:
            self.notify("no instance to steer yet", severity="warning")
            return

        def chosen(value: int | None) -> None:
            if value is not None:
                self._confirm(f"Priority {value}", SetPriority(value=value))

        self.push_screen(PriorityScreen(inst.name, inst.effective_priority), chosen)

    def action_release(self) -> None:
        self._confirm("Release mastership", Release())

    def action_pause_resume(self) -> None:
        inst = self._selected_instance()
        if inst is not None and (inst.paused or inst.hold):
            self._confirm("Resume", Resume())
        else:
            self._confirm("Stop advertising", Pause())

    def action_garp(self) -> None:
        self._confirm("Gratuitous ARP", SendGarp())
