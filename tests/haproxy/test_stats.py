"""Parsing `show info` / `show stat`: real haproxy 2.6 answers, newer column sets, garbage."""

from __future__ import annotations

from pathlib import Path

import pytest

from hatui.haproxy.stats import Info, Stats, StatsError, parse_info, parse_stat

DATA = Path(__file__).parent / "data"
STAT_26 = (DATA / "stat-2.6.csv").read_text()  # Debian's haproxy 2.6.12, captured
INFO_26 = (DATA / "info-2.6.txt").read_text()


def stats(text: str) -> Stats:
    parsed = parse_stat(text)
    assert isinstance(parsed, Stats), parsed
    return parsed


def test_haproxy_26_answer() -> None:
    s = stats(STAT_26)
    assert [f.name for f in s.frontends] == ["web"]
    web = s.frontends[0]
    assert (web.status, web.sessions, web.max_sessions, web.limit, web.req_rate) == (
        "OPEN",
        0,
        0,
        9985,
        0,
    )
    app = s.backend("app")
    assert app is not None and app.status == "UP" and app.queue == 0
    s1, s2 = app.servers
    assert (s1.name, s1.status, s1.changed_s, s1.address) == ("s1", "DOWN", 8, "127.0.0.1:9001")
    assert s1.check == "L4CON 0ms Connection refused"
    assert not s1.up
    assert (s2.status, s2.check, s2.up) == ("no check", "", True)
    assert app.up_servers == 1


def test_info_26() -> None:
    info = parse_info(INFO_26)
    assert isinstance(info, Info)
    assert info.version.startswith("2.6.") and info.pid is not None and info.uptime_s == 7


# Columns haproxy 2.8 to 3.x insert after agg_check_status, before the "-" separator (so
# every later column moves), and QUIC/HTTP3 counters after it.
NEWER_MIDDLE = [
    "srid",
    "sess_other",
    "h1sess",
    "h2sess",
    "h3sess",
    "req_other",
    "h1req",
    "h2req",
    "h3req",
    "proto",
    "priv_idle_cur",
    "reqbin",
    "reqbout",
    "resbin",
    "resbout",
]
NEWER_TAIL = ["quic_rxbuf_full", "h3_data", "h3_headers"]


def _reshape(text: str, *, reverse: bool) -> str:
    """The same rows under a newer column set (columns inserted in the middle and added at
    the end) and, to prove reading is by name, optionally in reverse order."""
    lines = text.strip().splitlines()
    header = lines[0][2:].rstrip(",").split(",")
    rows = [ln.rstrip(",").split(",") for ln in lines[1:]]
    rows = [r + [""] * (len(header) - len(r)) for r in rows]
    at = header.index("agg_check_status") + 1
    header = header[:at] + NEWER_MIDDLE + header[at:] + NEWER_TAIL
    rows = [r[:at] + ["7"] * len(NEWER_MIDDLE) + r[at:] + ["0"] * len(NEWER_TAIL) for r in rows]
    order = list(range(len(header)))[:: -1 if reverse else 1]
    out = ["# " + ",".join(header[i] for i in order) + ","]
    out += [",".join(r[i] for i in order) + "," for r in rows]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("reverse", [False, True])
def test_newer_column_sets_read_by_name(reverse: bool) -> None:
    newer = _reshape(STAT_26, reverse=reverse)
    assert newer.count("\n") == STAT_26.strip().count("\n") + 1
    old, new = stats(STAT_26), stats(newer)
    assert new.frontends == old.frontends
    assert new.backends == old.backends


def test_older_set_without_optional_columns() -> None:
    text = "# pxname,svname,status,type\nweb,FRONTEND,OPEN,0\napp,s1,UP,2\napp,BACKEND,UP,1\n"
    s = stats(text)
    assert s.frontends[0].sessions is None and s.frontends[0].req_rate is None
    app = s.backend("app")
    assert app is not None and app.up_servers == 1 and app.servers[0].check == ""


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("\n\n", "empty"),
        ("Unknown command. Please enter one of the following commands only :\n", "no_header"),
        ("# pxname,svname,type\nweb,FRONTEND,0\n", "missing_column"),
        ("# pxname,svname,status,type\nweb,FRONTEND,OPEN,zero\n", "garbage"),
        ("# pxname,svname,status,type\n\x00\x01\x02\n", "garbage"),
        ("# pxname,svname,status,type\n" + ",".join(["x"] * 40) + "\n", "garbage"),
    ],
)
def test_garbage_is_a_typed_error(text: str, reason: str) -> None:
    parsed = parse_stat(text)
    assert isinstance(parsed, StatsError)
    assert parsed.reason == reason and parsed.detail


@pytest.mark.parametrize("text", ["", "garbage\x00", "Name: HAProxy\n"])
def test_info_garbage(text: str) -> None:
    assert isinstance(parse_info(text), StatsError)
