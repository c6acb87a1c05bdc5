"""The incident report (`--read FILE --report OUT.html`): rendered by a real browser
(headless chromium) for every committed capture, the timeline's SVG holding the failovers;
one file with no fetch of any kind; node logs merged; bad input is one line."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html import escape
from pathlib import Path

import pytest

from hatui.incident import render
from tests.conftest import require
from tests.test_cli import hatui, one_line_error

CORPUS = Path(__file__).parent / "corpus"
CAPTURES = sorted(CORPUS.glob("*.pcap"))


def chromium_dom(page: Path) -> str:
    """The DOM after the browser loaded, laid out and scripted the page."""
    exe = shutil.which("chromium")
    require(exe is not None, "needs chromium (apt-get install chromium)")
    assert exe is not None
    done = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def document(capture: Path) -> dict:  # type: ignore[type-arg]
    out = subprocess.run(
        [sys.executable, "-m", "hatui", "--read", str(capture), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def no_fetch(html: str) -> None:
    """Nothing a browser would fetch: no src/href, CSS url() or @import, no script API."""
    for needle in ("src=", "href=", "url(", "@import", "fetch(", "XMLHttpRequest", "<link"):
        assert needle not in html, needle
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}


@pytest.mark.parametrize("capture", CAPTURES, ids=[c.stem for c in CAPTURES])
def test_report_of_each_committed_capture_renders_with_its_failovers(
    capture: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    done = hatui("--read", str(capture), "--report", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"hatui: report written to {out}"
    html = out.read_text()
    no_fetch(html)
    failovers = document(capture)["failovers"]
    dom = chromium_dom(out)
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None
    # Set by the page's script after layout: every failover marker has a box.
    n = len(failovers)
    assert f'data-failovers="{n}"' in body[0] and f'data-laid-out="{n}"' in body[0], body[0]
    svg = re.search(r'<svg class="timeline".*?</svg>', dom, re.S)
    assert svg is not None
    gaps = re.findall(r'class="failover" data-reason="([^"]*)" data-gap-ms="([^"]*)"', svg[0])
    assert gaps == [(f["reason"], f"{f['gap_ms']:.3f}") for f in failovers]
    for f in failovers:
        assert f["why"] and escape(f["why"]) in html  # the table's why


def test_node_logs_join_the_timeline_with_their_reasons(tmp_path: Path) -> None:
    capture = CORPUS / "frr_v3_ipv4_kill_preempt.pcap"
    t = document(capture)["failovers"][0]["new_first_advert"]
    why = "VI_51: no advert from 192.0.2.11 (priority 150) for 3605 ms: no-response"
    lines = [
        {"time": t - 10, "kind": "node_transition", "instance": "VI_51", "state": "BACKUP",
         "priority": 100, "detail": "INIT -> BACKUP (startup)", "reason": "not-master",
         "why": "VI_51: startup"},
        {"time": t, "kind": "node_transition", "instance": "VI_51", "state": "MASTER",
         "priority": 100, "detail": "BACKUP -> MASTER (master_down timer)",
         "reason": "no-response", "why": why},
        {"time": t + 1, "kind": "node_near_failover", "instance": "VI_51", "state": "MASTER",
         "priority": 100, "detail": "near failover: ..."},
        {"kind": "new_router", "time": t},  # LAN events and the document are skipped
    ]  # fmt: skip
    log = tmp_path / "b.json"
    log.write_text("\n".join(json.dumps(x) for x in lines) + "\n{not json\n")
    out = tmp_path / "r.html"
    done = hatui("--read", str(capture), "--report", str(out), "--node-log", str(log))
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert 'data-node="b: VI_51"' in html
    assert html.count('class="node-transition"') == 2
    assert "<h2>Node events</h2>" in html and "no-response" in html
    assert why in html
    dom = chromium_dom(out)
    assert 'data-failovers="2"' in dom and 'data-laid-out="2"' in dom


def test_report_bad_input_is_one_line(tmp_path: Path) -> None:
    capture = str(CORPUS / "frr_v3_ipv4_sigterm.pcap")
    one_line_error(hatui("--watch", "lo", "--report", "x.html"), 2, "--report goes with --read")
    one_line_error(hatui("--read", capture, "--node-log", "x"), 2, "--node-log goes with")
    missing = str(tmp_path / "none.json")
    one_line_error(
        hatui("--read", capture, "--report", str(tmp_path / "r.html"), "--node-log", missing),
        2,
        "No such file",
    )
    empty = tmp_path / "empty.json"
    empty.write_text("hello\n")
    one_line_error(
        hatui("--read", capture, "--report", str(tmp_path / "r.html"), "--node-log", str(empty)),
        2,
        "no node events",
    )
    one_line_error(
        hatui("--read", capture, "--report", str(tmp_path / "no/dir/r.html")), 2, "--report"
    )


def test_an_empty_document_still_makes_a_page() -> None:
    html = render({"routers": [], "events": [], "failovers": []}, [], source="empty.pcap")
    assert "No failover." in html and "<svg" in html


def test_lab_capture_and_its_nodes_log_on_one_page(tmp_path: Path) -> None:
    """keepalived_chk_web: recorded in a namespace lab (hatui 150 with chk_web weight -60
    beside keepalived 120; the check fails, keepalived preempts; keepalived's next two
    adverts dropped by nft; the check recovers, hatui preempts back). The capture and the
    hatui node's own `--serve --headless --json` log make one timeline."""
    capture = CORPUS / "keepalived_chk_web.pcap"
    log = CORPUS / "keepalived_chk_web.node.json"
    out = tmp_path / "report.html"
    done = hatui("--read", str(capture), "--report", str(out), "--node-log", str(log))
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    no_fetch(html)
    assert 'data-node="keepalived_chk_web: VI_51"' in html
    # The node's why beside the wire's, and both near failovers (wire and node).
    assert "VI_51: chk_web failed (exit 1) -&gt; weight -60 -&gt; priority 150 -&gt; 90" in html
    assert "below 192.0.2.12&#x27;s 120: preempted" in html
    assert html.count('class="near-failover"') == 2
    assert html.count('class="arp-change"') == 2
    dom = chromium_dom(out)
    assert 'data-failovers="2"' in dom and 'data-laid-out="2"' in dom
