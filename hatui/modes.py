"""Every mode, wired in one place: what `--watch`, `--serve`, `--read`, `--attach`,
`--fleet`, `--config-test` and the node's `--lan-view` start, headless or with the console.

hatui/cli.py parses the flags (docs/cli.md) and calls one `run_*` here; each builds the
pieces of its mode from the layers below (runtime, adapters, ui) and runs them until a
signal, `--duration` or the end of a file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from hatui.errors import EXIT_OK, EXIT_USAGE, HatuiError, UsageError
from hatui.ui.app import HatuiApp
from hatui.ui.exitguard import ExitGuard
from hatui.ui.feeds import Feed

if TYPE_CHECKING:
    from hatui.adapters.haproxy import Poll
    from hatui.haproxy.join import VipHolder
    from hatui.headless import HaproxyLog
    from hatui.runtime.metrics import Exporter
    from hatui.runtime.serve import Serve
    from hatui.runtime.watch import Watch

log = logging.getLogger(__name__)

NO_HAPROXY = "none"  # --haproxy none: this node runs no haproxy, so nothing polls one


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)


def run_read(args: argparse.Namespace) -> int:
    from hatui.headless import print_document, print_summary
    from hatui.observe.observer import Observer
    from hatui.observe.report import snapshot_to_json
    from hatui.runtime.replay import replay

    if args.report:
        return run_report(args)
    if not args.json and not args.headless and sys.stdout.isatty():
        return run_read_ui(args.read, speed=args.speed, vips=_listed(args))
    result = replay(args.read, observer=Observer(vips=_listed(args)))
    doc = snapshot_to_json(result.snapshot)
    if args.json:
        print_document(doc)
    else:
        print_summary(doc)
    if result.truncated:
        print(f"hatui: {args.read}: capture ends in a truncated record", file=sys.stderr)
    return EXIT_OK


def run_report(args: argparse.Namespace) -> int:
    """`--read FILE --report OUT.html [--node-log FILE ...]`: one HTML page, then a line
    saying where it is."""
    from pathlib import Path

    from hatui.incident import read_node_log, render
    from hatui.observe.report import snapshot_to_json
    from hatui.runtime.replay import replay

    logs = [(Path(p).name.split(".")[0], read_node_log(p)) for p in args.node_log]
    result = replay(args.read)
    page = render(snapshot_to_json(result.snapshot), logs, source=Path(args.read).name)
    try:
        Path(args.report).write_text(page, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--report {args.report}: {exc.strerror or exc}") from None
    if result.truncated:
        print(f"hatui: {args.read}: capture ends in a truncated record", file=sys.stderr)
    print(f"hatui: report written to {args.report}")
    return EXIT_OK


@contextlib.asynccontextmanager
async def _following_haproxy(
    args: argparse.Namespace,
    holders: Callable[[], tuple[VipHolder, ...]],
    also: Callable[[Poll], object] | None = None,
) -> AsyncIterator[HaproxyLog]:
    """Polls the local haproxy beside a headless mode, off its timers' path; each poll
    goes to the log, and to `also` (a LAN view's consoles)."""
    from hatui.adapters.haproxy import HaproxyPoller
    from hatui.headless import HaproxyLog

    follow = HaproxyLog(holders, json_lines=args.json)
    if args.haproxy == NO_HAPROXY:
        yield follow  # never polled: no events, and no `haproxy` in the document
        return
    stop = asyncio.Event()
    on_poll: Callable[[Poll], object] = follow
    if also is not None:

        def on_poll(poll: Poll) -> None:
            follow(poll)
            also(poll)

    task = asyncio.create_task(HaproxyPoller(args.haproxy).run(on_poll, stop))
    try:
        yield follow
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 5)


async def _watch_headless(args: argparse.Namespace) -> int:
    from hatui.clock import SystemClock
    from hatui.headless import JsonLinesSink, TextSink, print_document, print_summary
    from hatui.observe.observer import Observer
    from hatui.runtime.document import live_document
    from hatui.runtime.watch import Sink, Watch

    sink: Sink = JsonLinesSink() if args.json else TextSink()
    obs = Observer(vips=_listed(args))
    watch = Watch(interfaces=args.watch, observer=obs, clock=SystemClock(), sinks=[sink])
    exporter = _exporter(args)
    watch.open()
    stop = asyncio.Event()
    _stop_on_signals(stop)
    async with _following_haproxy(args, _lan_holders(watch)) as haproxy:
        try:
            if exporter is not None:
                exporter.attach(asyncio.get_running_loop(), watch=watch, node=None)
            await watch.run(stop, args.duration)
        finally:
            watch.close()
            if exporter is not None:
                exporter.stop()
    doc = live_document(watch.observer.snapshot(watch.clock.wall_us()), watch.stats, haproxy.view)
    if args.json:
        print_document(doc, lines=True)
    else:
        print_summary(doc)
    return EXIT_OK


def _lan_holders(watch: Watch) -> Callable[[], tuple[VipHolder, ...]]:
    """Who holds each VIP as the LAN's adverts tell it: the haproxy join's other side."""
    from hatui.haproxy.join import holders

    return lambda: holders(watch.observer.vip_claims(watch.clock.wall_us()))


def _exporter(args: argparse.Namespace) -> Exporter | None:
    from hatui.runtime.metrics import bind

    return bind(args.metrics)


def run_watch(args: argparse.Namespace) -> int:
    if args.headless or args.json:
        return asyncio.run(_watch_headless(args))
    return run_watch_ui(
        args.watch, duration=args.duration, metrics=args.metrics, vips=_listed(args)
    )


def run_lan_view(args: argparse.Namespace) -> int:
    """A serving node's LAN view: its own process, read-only, behind the node
    (runtime/lanview.py)."""
    from hatui.adapters.sched import behind_the_node, ignore_terminal_signals
    from hatui.runtime.lanproc import NICE
    from hatui.runtime.parent import bind_to_parent

    if not args.watch:
        raise UsageError("--lan-view goes with --watch IFACE")
    bind_to_parent()  # stops with its node, even a killed one
    ignore_terminal_signals()
    behind_the_node(NICE)
    return asyncio.run(_lan_view(args))


async def _lan_view(args: argparse.Namespace) -> int:
    from hatui.clock import SystemClock
    from hatui.headless import JsonLinesSink, TextSink
    from hatui.observe.observer import Observer
    from hatui.runtime.lanview import LanViewServer
    from hatui.runtime.watch import LAN_VIEW_READ_S, Sink, Watch

    sink: Sink = JsonLinesSink() if args.json else TextSink()
    watch = Watch(
        interfaces=args.watch,
        observer=Observer(),
        clock=SystemClock(),
        sinks=[sink],
        read_every_s=LAN_VIEW_READ_S,
    )
    watch.open()
    server = LanViewServer(watch, args.lan_view)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        if args.lan_haproxy:  # its polls and joins cost this process, never the node
            haproxy = await stack.enter_async_context(
                _following_haproxy(args, _lan_holders(watch), server.on_haproxy_poll)
            )
            server.haproxy = lambda: haproxy.view
            server.polls_haproxy = args.haproxy != NO_HAPROXY
        try:
            await server.start()
            # Start-up's objects (modules, sockets, the codec's tables) live as long as the
            # process: out of the collector's sight, a full collection is a few ms, not tens.
            gc.freeze()
            await watch.run(stop)
        finally:
            await server.close()
            watch.close()
    return EXIT_OK


async def _serve_headless(args: argparse.Namespace) -> int:
    from hatui.headless import NodeEventPrinter, print_document
    from hatui.runtime.daemon import Supervision
    from hatui.runtime.nodespec import load_spec
    from hatui.runtime.parent import bind_to_parent
    from hatui.runtime.serve import Serve
    from hatui.runtime.status import node_status_to_json

    bind_to_parent()  # a console's node child stops with the console, even a killed one
    spec = load_spec(args)
    supervision = Supervision(i.name for i in spec.instances)
    # The host's LAN view, always: the log's LAN events, the LAN's metrics and documents,
    # and the LAN of every console (they subscribe to it). It also follows the local
    # haproxy (its log lines, the document's `haproxy`, the consoles' haproxy panels), so
    # the node's own process never polls or joins.
    lan = (
        ["--json"] * args.json
        + ["-v"] * args.verbose
        + ([] if args.haproxy == NO_HAPROXY else ["--lan-haproxy"])
        + (["--haproxy", args.haproxy] if args.haproxy else [])
    )
    serve = Serve(
        spec=spec,
        control_path=args.control,
        lan_flags=lan,
        document_at_stop=args.json,
        node_listeners=[NodeEventPrinter(json_lines=args.json)],
        supervision=supervision,
        loader=(lambda: load_spec(args)) if args.config else None,
        metrics_listen=args.metrics,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # keepalived's convention: SIGHUP re-reads the config (systemctl reload).
    loop.add_signal_handler(signal.SIGHUP, lambda: _reload_in_background(serve))
    try:
        serve.open(asyncio.get_running_loop())
    except BaseException:
        serve.close()
        supervision.close()
        raise
    specs = {i.name: i for i in spec.instances}
    try:
        await serve.run(stop, args.duration)
    finally:
        supervision.close()
    if args.json and serve.node is not None:
        # As --watch --json: the stream ends with the document (the LAN view's last, with
        # its `haproxy`), here with the node's status; without an answer from the LAN
        # view, the node's alone.
        doc = json.loads(serve.document) if serve.document else {}
        doc["node"] = node_status_to_json(serve.node.status(), specs)
        print_document(doc, lines=True)
    return EXIT_OK


def _reload_in_background(serve: Serve) -> None:
    async def reload() -> None:
        with contextlib.suppress(HatuiError):  # logged by Serve.reload; the node goes on
            await serve.reload()

    task = asyncio.ensure_future(reload())
    _background.add(task)
    task.add_done_callback(_background.discard)


_background: set[asyncio.Task[None]] = set()


def run_serve(args: argparse.Namespace) -> int:
    if args.headless or args.json:
        from hatui.runtime.serve import precise_event_loop

        with asyncio.Runner(loop_factory=precise_event_loop) as runner:
            return runner.run(_serve_headless(args))
    from hatui.cli import node_argv  # the parser's module: it reads the flags back

    return run_serve_ui(args, node_argv(args))


def run_config_test(args: argparse.Namespace) -> int:
    from hatui.config.keepalived import check_config

    if not args.config:
        raise UsageError("--config-test needs -c FILE")
    check = check_config(args.config, args.config_id)
    for warning in check.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for err in check.errors:
        print(str(err), file=sys.stderr)
    if check.errors:
        return EXIT_USAGE
    assert check.spec is not None
    names = ", ".join(i.name for i in check.spec.instances)
    print(f"{args.config}: OK, {len(check.spec.instances)} instance(s): {names}")
    return EXIT_OK


def _console_follows_haproxy(args: argparse.Namespace) -> None:
    """A watch console polls the local haproxy on a worker of its own."""
    from hatui.adapters.haproxy import HaproxyPoller

    HatuiApp.haproxy_source = lambda: HaproxyPoller(args.haproxy)


def run_fleet(args: argparse.Namespace) -> int:
    """The fleet console, or (headless) one document or summary from one refresh."""
    from hatui.adapters.prometheus import Prometheus
    from hatui.runtime.fleet import FleetPoller

    poller = FleetPoller(Prometheus(args.fleet), args.fleet_match)
    if not (args.headless or args.json):
        from hatui.ui.fleet import run_fleet_ui

        return run_fleet_ui(poller, duration=args.duration)
    from hatui.errors import RuntimeFault
    from hatui.fleet.report import view_lines, view_to_json
    from hatui.headless import print_document

    state = poller.refresh()
    if state.view is None:
        raise RuntimeFault(state.error)
    if args.json:
        print_document(
            view_to_json(state.view, source=poller.prometheus.url, queries=state.queries)
        )
    else:
        print("\n".join(view_lines(state.view)))
    return EXIT_OK


def _listed(args: argparse.Namespace) -> tuple[str, ...]:
    """--vip and --vips with --watch or --read: addresses to watch as VIPs."""
    from hatui.config.vipfile import listed_vips

    return listed_vips(args.vip, args.vips)


# -- consoles -------------------------------------------------------------------------


async def _run(feed: Feed) -> int:
    """Open the feed (errors propagate before the screen changes), then run the console.

    SIGHUP, SIGTERM, SIGINT and a terminal that goes away stop it as `q` does, and the
    process leaves within ExitGuard's bound even if the terminal is gone or stalled: the
    exit code is the app's (0, or 1 after a feed error), 1 if the mode's cleanup (a serving
    node's clean stop) had not finished by then."""
    feed.open()
    try:
        app = HatuiApp(feed)
        loop = asyncio.get_running_loop()

        def quit_console() -> None:
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(app.action_quit_console()))

        guard = ExitGuard(feed.before_exit, quit_console, lambda: app.exit_code)
        guard.install()
        try:
            code = await app.run_async()
        finally:
            guard.uninstall()
            feed.stop.set()
    finally:
        feed.close()
    return app.exit_code if code is None else code


def run_watch_ui(
    interfaces: list[str],
    duration: float | None,
    metrics: str | None = None,
    vips: tuple[str, ...] = (),
) -> int:
    from hatui.clock import SystemClock
    from hatui.observe.observer import Observer
    from hatui.runtime.watch import Watch
    from hatui.ui.watchfeed import LiveWatchFeed

    watch = Watch(interfaces=interfaces, observer=Observer(vips=vips), clock=SystemClock())
    return asyncio.run(_run(LiveWatchFeed(watch, duration, metrics=metrics)))


def run_read_ui(path: str, speed: float | None, vips: tuple[str, ...] = ()) -> int:
    from hatui.ui.feeds import ReplayFeed

    return asyncio.run(_run(ReplayFeed(path, speed, vips=vips)))


def run_serve_ui(args: argparse.Namespace, node_argv: list[str]) -> int:
    """The console over a node child (`hatui ` + `node_argv`) that it starts and stops,
    then follows as an attached console does: it captures nothing itself."""
    from hatui.runtime.child import NodeChild
    from hatui.runtime.nodespec import load_spec, preflight
    from hatui.ui.feeds import ServeFeed

    spec = load_spec(args)  # config errors as one line, before anything starts
    preflight(spec)
    source = ", ".join(sorted({i.interface for i in spec.instances}))
    feed = ServeFeed(NodeChild(node_argv), args.control, source, args.duration)
    if args.haproxy != "none":  # the node's LAN view polls haproxy for the panel
        HatuiApp.haproxy_source = feed.lan.haproxy_source
    return asyncio.run(_run(feed))


def run_attach_ui(control_path: str, *, haproxy: bool = True) -> int:
    """The console of a running node; with `haproxy`, its panel follows the LAN view's
    polls of the local haproxy."""
    from hatui.ui.feeds import AttachFeed

    async def main() -> int:
        feed = AttachFeed(control_path)
        if haproxy:
            HatuiApp.haproxy_source = feed.lan.haproxy_source
        await feed.connect()
        return await _run(feed)

    return asyncio.run(main())
