"""Headless lines under journald: `<N>` severities, no time stamps, keepalived's wording."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import pytest

from hatui.cli import JournalFormatter
from hatui.headless import NodeEventPrinter, TextSink, under_journald
from hatui.observe.events import Event
from hatui.runtime.node import NodeEvent
from hatui.types import WallUs


def node_event(kind: str, detail: str, state: str) -> NodeEvent:
    return NodeEvent(
        time=WallUs(1_700_000_000_000_000), instance="VI_1", kind=kind, detail=detail,
        state=state, priority=150,
    )  # fmt: skip


def test_state_changes_carry_keepalived_wording_and_severity() -> None:
    out = io.StringIO()
    printer = NodeEventPrinter(out, journal=True)
    printer(node_event("transition", "BACKUP -> MASTER (master_down timer)", "MASTER"))
    printer(node_event("transition", "MASTER -> FAULT (link down)", "FAULT"))
    printer(node_event("transition", "MASTER -> INIT (shutdown)", "INIT"))
    printer(node_event("error", "AddVips failed: EPERM", "MASTER"))
    assert out.getvalue().splitlines() == [
        "<5>VI_1: BACKUP -> MASTER (master_down timer) [MASTER, priority 150]",
        "<5>(VI_1) Entering MASTER STATE",
        "<5>VI_1: MASTER -> FAULT (link down) [FAULT, priority 150]",
        "<4>(VI_1) Entering FAULT STATE",
        "<5>VI_1: MASTER -> INIT (shutdown) [INIT, priority 150]",
        "<3>VI_1: AddVips failed: EPERM [MASTER, priority 150]",
    ]


def test_without_journald_lines_are_stamped() -> None:
    out = io.StringIO()
    NodeEventPrinter(out, journal=False)(node_event("transition", "INIT -> BACKUP", "BACKUP"))
    lines = out.getvalue().splitlines()
    assert lines[1].endswith(" (VI_1) Entering BACKUP STATE") and lines[1][:4].isdigit()


def test_observer_events_get_a_severity_under_journald() -> None:
    out = io.StringIO()
    sink = TextSink(out, journal=True)
    ev = Event(time=WallUs(0), kind="split_brain", interface="eth0", vrid=51, detail="two masters")
    sink.events(
        [ev, Event(time=WallUs(0), kind="new_router", interface="eth0", vrid=52, detail="x")]
    )
    assert out.getvalue().splitlines() == ["<3>split_brain: two masters", "<6>new_router: x"]


def test_journal_stream_detection_matches_device_and_inode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open(tmp_path / "log", "w") as f:
        st = os.fstat(f.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
        assert under_journald(f)
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino + 1}")
        assert not under_journald(f)  # stdout redirected elsewhere: not the journal
        monkeypatch.setenv("JOURNAL_STREAM", "garbage")
        assert not under_journald(f)


def test_journal_formatter() -> None:
    rec = logging.LogRecord("hatui.x", logging.WARNING, __file__, 1, "link %s", ("down",), None)
    assert JournalFormatter().format(rec) == "<4>hatui.x: link down"
