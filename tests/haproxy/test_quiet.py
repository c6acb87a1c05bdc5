"""haproxy noise on a node of many VIPs: per-VIP alerts of one cause are one event that
lists them, the first haproxy_unreachable names `--haproxy none`, and with `--haproxy none`
nothing polls a haproxy at all."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hatui import cli, modes
from hatui.adapters import haproxy as adapter
from hatui.adapters.haproxy import HINT, HaproxyPoller, Poll, Target
from hatui.haproxy.config import parse_config
from hatui.haproxy.events import CLEARED, UNREACHABLE
from hatui.haproxy.join import AlertKind, Reached, Unreached, VipHolder
from hatui.haproxy.report import event_to_json
from hatui.haproxy.stats import Info, Stats, parse_stat
from hatui.haproxy.track import Tracker
from hatui.headless import HaproxyLog

VIPS = [f"198.51.100.{v}" for v in range(1, 256)]
HOLDERS = tuple(VipHolder(vip=v, master="192.0.2.11", vrid=k) for k, v in enumerate(VIPS, 1))
SOCK = "/run/haproxy/admin.sock"
REFUSED = f"{SOCK}: connection refused (haproxy not running, stale socket)"


def down(hint: str = "") -> Unreached:
    return Unreached(status=REFUSED, configured=True, hint=hint)


def update(tracker: Tracker, t: int, outcome: Any, local: list[str]) -> list[Any]:
    return tracker.update(
        socket=SOCK, time_us=t, outcome=outcome, local=frozenset(local), holders=HOLDERS
    )


def test_255_vips_held_beside_a_stopped_haproxy_are_one_down_event() -> None:
    tracker = Tracker()
    unreachable, alert = update(tracker, 1_000_000, down(), VIPS)
    assert unreachable.kind == UNREACHABLE
    assert alert.kind == AlertKind.DOWN
    assert alert.vips == tuple(VIPS)
    assert alert.vrid is None  # 255 routers: no one VRID
    head = "255 VIPs held here but haproxy does not answer"
    assert alert.detail == (
        f"{head} ({REFUSED}): 198.51.100.1, 198.51.100.2, 198.51.100.3, 198.51.100.4, "
        "198.51.100.5, ... (+250 more)"
    )
    doc = event_to_json(alert)
    assert (doc["kind"], doc["vips"], doc["vrid"]) == ("haproxy_down", VIPS, None)
    # The view keeps one alert per VIP: the panel and the document list each.
    assert tracker.view is not None and len(tracker.view.alerts) == 255


def test_one_vip_keeps_its_own_line_and_vrid() -> None:
    (_unreachable, alert) = update(Tracker(), 1, down(), VIPS[6:7])
    assert alert.detail == f"198.51.100.7 held here but haproxy does not answer ({REFUSED})"
    assert (alert.vrid, alert.protocol, alert.vips) == (7, "vrrp", ("198.51.100.7",))


def test_vips_that_become_master_later_are_one_more_event_and_clear_as_one() -> None:
    tracker = Tracker()
    update(tracker, 1, down(), VIPS[:3])
    (more,) = update(tracker, 2, down(), VIPS[:10])
    assert more.kind == AlertKind.DOWN and more.vips == tuple(VIPS[3:10])
    assert more.detail.startswith("7 VIPs held here") and "(+2 more)" in more.detail
    (cleared,) = update(tracker, 3, down(), [])  # the node went backup on every instance
    assert cleared.kind == CLEARED and cleared.vips == tuple(VIPS[:10])
    assert cleared.detail.startswith("cleared down for 10 VIPs: 198.51.100.1, ")


def stats(*rows: str) -> Stats:
    header = "# pxname,svname,qcur,scur,smax,slim,status,type,lastchg,check_status,req_rate\n"
    s = parse_stat(header + "\n".join(rows) + "\n")
    assert isinstance(s, Stats)
    return s


def test_alerts_of_different_causes_stay_apart() -> None:
    # Two frontends whose backends are both down, one VIP no frontend binds: three causes.
    conf = parse_config(
        "frontend web\n bind 198.51.100.1:80\n bind 198.51.100.2:80\n default_backend app\n"
        "frontend api\n bind 198.51.100.3:80\n default_backend app\n"
    )
    st = stats(
        "web,FRONTEND,,3,9,100,OPEN,0,,,5",
        "api,FRONTEND,,3,9,100,OPEN,0,,,5",
        "app,s1,0,0,0,,DOWN,2,4,L4CON,,",
        "app,BACKEND,0,0,0,,DOWN,1,,,,",
    )
    up = Reached(
        info=Info(version="2.6.12", pid=7, uptime_s=5), stats=st, config=conf, config_path="x"
    )
    evs = update(Tracker(), 1, up, VIPS[:5])
    got = [(e.kind, e.vips) for e in evs if e.kind != "haproxy_up"]
    assert (
        sorted(got)
        == sorted(
            [
                (AlertKind.UNSERVED, tuple(VIPS[:2])),  # web
                (AlertKind.UNSERVED, (VIPS[2],)),  # api
                (AlertKind.UNBOUND, tuple(VIPS[3:5])),
            ]
        )
    )


def test_the_first_unreachable_line_names_haproxy_none_and_only_the_first() -> None:
    tracker = Tracker()
    (first, _down) = update(tracker, 1, down(HINT), VIPS[:2])
    assert first.detail.endswith("(no haproxy here? --haproxy none)")
    gone = Unreached(status=f"{SOCK}: no such socket (haproxy not running?)", configured=True)
    second, cleared = update(tracker, 2, replace(gone, hint=HINT), [])
    assert (second.kind, cleared.kind) == (UNREACHABLE, CLEARED)
    assert "--haproxy none" not in second.detail
    # A socket named on the command line is meant to answer: no hint there.
    (named,) = update(Tracker(), 1, down(), [])
    assert "--haproxy none" not in named.detail


async def test_the_poller_hints_only_for_a_socket_it_found_in_haproxy_cfg(
    tmp_path: Path,
) -> None:
    sock = tmp_path / "admin.sock"  # never created: haproxy is installed, not running
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(f"global\n stats socket {sock} mode 660 level admin\n")
    found = await HaproxyPoller(cfg=str(cfg)).poll()
    assert isinstance(found.outcome, Unreached) and found.outcome.hint == HINT
    named = await HaproxyPoller(str(sock), cfg=str(cfg)).poll()
    assert isinstance(named.outcome, Unreached) and named.outcome.hint == ""


def test_headless_log_prints_one_line_for_255_vips() -> None:
    out = io.StringIO()
    follow = HaproxyLog(lambda: HOLDERS, out)
    follow(Poll(time_us=1_000_000, socket=SOCK, outcome=down(HINT), local=frozenset(VIPS)))
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert "haproxy_unreachable: " in lines[0] and lines[0].endswith("--haproxy none)")
    assert "haproxy_down: 255 VIPs held here but haproxy does not answer" in lines[1]
    assert lines[1].endswith("(+250 more)")
    out = io.StringIO()
    follow = HaproxyLog(lambda: HOLDERS, out, json_lines=True)
    follow(Poll(time_us=1_000_000, socket=SOCK, outcome=down(), local=frozenset(VIPS)))
    docs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [d["kind"] for d in docs] == ["haproxy_unreachable", "haproxy_down"]
    assert docs[0]["vips"] == [] and docs[1]["vips"] == VIPS


def args(haproxy: str | None) -> argparse.Namespace:
    return argparse.Namespace(haproxy=haproxy, json=True)


@pytest.mark.parametrize(("flag", "polled"), [("none", False), (None, True), (SOCK, True)])
async def test_haproxy_none_never_polls(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], flag: Any, polled: bool
) -> None:
    """Both sides: the same following, with and without `--haproxy none`."""
    looked: list[str | None] = []
    tried: list[str] = []

    def locate(flag: str | None, cfg: str = adapter.DEFAULT_CFG) -> Target:
        looked.append(flag)
        return Target(socket=SOCK, origin="--haproxy" if flag else cfg)

    async def connect(socket: str) -> Any:
        tried.append(socket)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(adapter, "locate", locate)
    monkeypatch.setattr(adapter, "_connect", connect)
    async with modes._following_haproxy(args(flag), lambda: HOLDERS) as follow:
        await asyncio.sleep(0.3)  # the first poll is at once
    kinds = [json.loads(line)["kind"] for line in capsys.readouterr().out.splitlines()]
    if polled:
        assert tried == [SOCK] and kinds == ["haproxy_unreachable"]
        assert follow.view is not None
    else:
        assert (looked, tried, kinds) == ([], [], [])
        assert follow.view is None  # and so no `haproxy` key in the document


def test_haproxy_none_is_in_the_help() -> None:
    text = cli.build_parser().format_help()
    assert "none`: this node runs no haproxy" in " ".join(text.split())


@pytest.mark.parametrize(("flag", "panel"), [(["--haproxy", "none"], False), ([], True)])
def test_a_console_with_haproxy_none_has_no_haproxy_source(
    monkeypatch: pytest.MonkeyPatch, flag: list[str], panel: bool
) -> None:
    from hatui.ui.app import HatuiApp

    monkeypatch.setattr(HatuiApp, "haproxy_source", None)
    monkeypatch.setattr(cli, "run_watch", lambda args: 0)
    assert cli.dispatch(cli.build_parser().parse_args(["--watch", "eth0", *flag])) == 0
    assert (HatuiApp.haproxy_source is not None) is panel
