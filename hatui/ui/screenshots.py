"""Regenerate screenshots/*.svg from deterministic scenarios: `python -m hatui.ui.screenshots`.

Every scenario is real observer output at fixed capture times (hatui.ui.scenario), so the
SVGs change only when the console does. `--show NAME` opens a scenario interactively.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from textual.pilot import Pilot

from hatui.ui import scenario
from hatui.ui.app import HatuiApp
from hatui.ui.feeds import FakeFeed
from hatui.ui.model import Mode

SIZE = (100, 30)
Steps = Callable[[Pilot[int]], Awaitable[None]]


async def _nothing(pilot: Pilot[int]) -> None:
    await pilot.pause()


async def _release(pilot: Pilot[int]) -> None:
    await pilot.pause()
    await pilot.press("r")
    await pilot.pause()


async def _detail(pilot: Pilot[int]) -> None:
    await pilot.pause()
    await pilot.press("tab", "m")  # focus the detail pane and maximize it
    await pilot.pause()


async def _hsrp_row(pilot: Pilot[int]) -> None:
    await pilot.pause()
    await pilot.press("down")  # the HSRP group, second by number: its detail pane


async def _haproxy(pilot: Pilot[int]) -> None:
    await pilot.pause()
    pilot.app.query_one("#haproxy").focus()
    await pilot.press("down", "down")  # backend web: its servers in the detail pane
    await pilot.pause()


async def _timeline(pilot: Pilot[int]) -> None:
    await pilot.pause()
    await pilot.press("t")  # the selected router's timeline
    await pilot.pause()


async def _vips(pilot: Pilot[int]) -> None:
    await pilot.pause()
    await pilot.press("v")  # every VIP on the LAN, its owner, moves and conflicts
    await pilot.pause()


@dataclass(frozen=True, slots=True)
class Shot:
    name: str
    feed: Callable[[], FakeFeed]
    steps: Steps = _nothing
    haproxy: Callable[[], scenario.ScriptedHaproxy] | None = None
    size: tuple[int, int] = SIZE


def watch_feed() -> FakeFeed:
    doc, events = scenario.pair()
    return FakeFeed(Mode.WATCH, "eth0", observer=doc, events=events)


def serve_feed() -> FakeFeed:
    doc, events = scenario.pair()
    return FakeFeed(Mode.SERVE, "eth0", observer=doc, events=events, node=scenario.node())


def vendors_feed() -> FakeFeed:
    doc, events = scenario.vendors()
    return FakeFeed(Mode.WATCH, "eth0", observer=doc, events=events)


def many_feed() -> FakeFeed:
    """A node of 255 instances (on a LAN of the pair scenario's routers)."""
    doc, events = scenario.pair()
    return FakeFeed(Mode.SERVE, "eth0", observer=doc, events=events, node=scenario.many_node())


def split_feed() -> FakeFeed:
    doc, events = scenario.split_brain()
    return FakeFeed(Mode.WATCH, "eth0", observer=doc, events=events)


SHOTS = (
    Shot("watch", watch_feed),
    Shot("serve", serve_feed),
    Shot("confirm", serve_feed, _release),
    Shot("split-brain", split_feed),
    Shot("detail", watch_feed, _detail),
    Shot("timeline", watch_feed, _timeline),
    Shot("vips", watch_feed, _vips),
    Shot("vendors", vendors_feed, _hsrp_row),
    Shot("haproxy", serve_feed, _haproxy, scenario.haproxy_story),
    # A default SSH terminal on a node of 255 instances beside a stopped haproxy.
    Shot(
        "many-80x24",
        many_feed,
        haproxy=lambda: scenario.haproxy_stopped(scenario.many_node()),
        size=(80, 24),
    ),
)


def app_for(feed: FakeFeed, haproxy: scenario.ScriptedHaproxy | None = None) -> HatuiApp:
    # No redraw throttling: every scripted document is on screen before the picture.
    return HatuiApp(feed, render_s=0.0, haproxy=haproxy)


async def take(shot: Shot, out: Path) -> Path:
    app = app_for(shot.feed(), shot.haproxy() if shot.haproxy else None)
    async with app.run_test(size=shot.size) as pilot:
        await pilot.pause()
        await shot.steps(pilot)
        await pilot.pause()
        path = app.save_screenshot(f"{shot.name}.svg", str(out))
    return Path(path)


async def take_all(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    return [await take(shot, out) for shot in SHOTS]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hatui.ui.screenshots", description=__doc__)
    p.add_argument("out", nargs="?", default="screenshots", help="folder (default screenshots)")
    p.add_argument("--show", choices=[s.name for s in SHOTS], help="open a scenario live")
    args = p.parse_args(argv)
    if args.show:
        shot = next(s for s in SHOTS if s.name == args.show)
        return app_for(shot.feed(), shot.haproxy() if shot.haproxy else None).run() or 0
    for path in asyncio.run(take_all(Path(args.out))):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
