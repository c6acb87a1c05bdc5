"""The differential corpus: each config in differential/ goes to keepalived 2.2.7 and to
`hatui --config-test`, and each side must do what the config's header records.

Header lines (`!` comments, which both programs skip):
    ! keepalived: accepts|warns|rejects[: TEXT]   `keepalived -t` exits 0 and prints
        nothing (accepts), or prints TEXT, and then keepalived runs the config (warns) or
        stops (rejects), as a real start in a namespace shows
    ! keepalived runs: TEXT          a line of keepalived's own config dump (-d) holds TEXT
    ! keepalived runs without: TEXT  no line of that dump holds TEXT
    ! hatui: accepts|warns|rejects: TEXT   hatui's exit code, and the line holding TEXT
Whenever hatui refuses what keepalived runs, hatui's error names what keepalived does, and
a hatui warning about something keepalived also warns of says whether it does the same.
The dump is the oracle for those claims: "would run this instance at priority 100" is
checked against keepalived's "Priority = 100". keepalived runs in a fresh network namespace
(unshare -n) holding only veth pairs named eth0..eth3, with its own pid files; its adverts
stay in that namespace, which goes when it stops.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from hatui.cli import main
from tests.conftest import require, require_keepalived

CORPUS = Path(__file__).parent / "differential"
CONFIGS = sorted(CORPUS.glob("*.conf"))
ROOT = Path(__file__).parents[2]
KEEPALIVED = "keepalived 2.2.7"
LINKS = (
    "ip link add eth0 type veth peer name eth1 && ip link add eth2 type veth peer name eth3 "
    "&& ip link set eth0 up && ip link set eth1 up"
)
_HEADER = re.compile(r"! (keepalived|keepalived runs|keepalived runs without|hatui): (.*)")
_STAMP = re.compile(r"^\w{3} \w{3} +\d+ [\d:]+ \d{4}: ")


@dataclass(frozen=True)
class Expect:
    keepalived: str  # accepts | warns | rejects
    keepalived_text: str
    runs: tuple[str, ...]
    runs_without: tuple[str, ...]
    hatui: str
    hatui_text: str


def expectation(path: Path) -> Expect:
    fields: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if m := _HEADER.fullmatch(line):
            fields.setdefault(m[1], []).append(m[2])
    (k,) = fields["keepalived"]
    (h,) = fields["hatui"]
    k_verdict, _, k_text = k.partition(": ")
    h_verdict, _, h_text = h.partition(": ")
    assert k_verdict in ("accepts", "warns", "rejects") and h_verdict in (
        "accepts",
        "warns",
        "rejects",
    ), path
    return Expect(
        keepalived=k_verdict,
        keepalived_text=k_text,
        runs=tuple(fields.get("keepalived runs", ())),
        runs_without=tuple(fields.get("keepalived runs without", ())),
        hatui=h_verdict,
        hatui_text=h_text,
    )


@dataclass(frozen=True)
class KeepalivedSays:
    test_rc: int
    test_output: str
    ran: bool  # its VRRP process read the config and dumped it
    dump: str


def _keepalived(path: Path, tmp: Path) -> KeepalivedSays:
    pids = '-p "$2/k.pid" -r "$2/v.pid"'
    check = f'{LINKS} && exec keepalived -t -l -n -D -f "$1" {pids}'
    test = subprocess.run(
        ["unshare", "-n", "sh", "-c", check, "sh", str(path), str(tmp)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    log = tmp / "keepalived.log"
    argv = ["unshare", "-n", "sh", "-c"]
    argv += [f'{LINKS} && exec keepalived -n -l -d -P -f "$1" {pids}']
    argv += ["sh", str(path), str(tmp)]
    with log.open("w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        # The VRRP process dumps its config once, ending with the interfaces; the dump is
        # complete when the log stops growing after that.
        deadline = time.monotonic() + 10
        size = -1
        while time.monotonic() < deadline and proc.poll() is None:
            text = log.read_text(errors="replace")
            if "permanent error" in text:
                break
            if "------< Interfaces >------" in text:
                if len(text) == size:
                    break
                size = len(text)
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    lines = [_STAMP.sub("", x) for x in log.read_text(errors="replace").splitlines()]
    dump = "\n".join(lines)
    ran = "------< VRRP Topology >------" in dump and "permanent error" not in dump
    return KeepalivedSays(test.returncode, test.stdout + test.stderr, ran, dump)


@cache
def keepalived_runs(tmp: Path) -> dict[Path, KeepalivedSays]:
    """Every config through keepalived once, a few at a time (each waits on keepalived)."""

    def one(item: tuple[int, Path]) -> tuple[Path, KeepalivedSays]:
        n, path = item
        where = tmp / str(n)
        where.mkdir()
        return path, _keepalived(path, where)

    with ThreadPoolExecutor(4) as pool:
        return dict(pool.map(one, enumerate(CONFIGS)))


@pytest.fixture(scope="module")
def keepalived_says(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, KeepalivedSays]:
    require_keepalived()
    require(shutil.which("unshare") is not None, "needs unshare(1)")
    return keepalived_runs(tmp_path_factory.mktemp("keepalived"))


def hatui_config_test(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`hatui --config-test -c PATH` in this process (the CLI's own entry point): its exit
    code and what it printed."""
    code = main(["--config-test", "-c", str(path)])
    printed = capsys.readouterr()
    return code, printed.out + printed.err


def test_the_command_line_prints_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    path = CORPUS / "priority-300.conf"
    done = subprocess.run(
        [sys.executable, "-m", "hatui", "--config-test", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    assert (done.returncode, done.stdout + done.stderr) == hatui_config_test(path, capsys)
    assert done.stderr == (
        f"{path}:9: priority 300 out of range 1..255; {KEEPALIVED} would run this instance "
        "at priority 100\n"
    )


def test_the_corpus_is_there() -> None:
    assert len(CONFIGS) >= 30
    verdicts = {(expectation(p).keepalived, expectation(p).hatui) for p in CONFIGS}
    # Each pairing that matters: hatui stricter, both warn, both refuse, both accept, and
    # hatui accepting what keepalived warns of or refuses.
    assert {("warns", "rejects"), ("accepts", "rejects"), ("warns", "warns")} <= verdicts
    assert {("rejects", "rejects"), ("accepts", "accepts"), ("warns", "accepts")} <= verdicts
    assert ("rejects", "accepts") in verdicts


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_hatui_does_what_the_corpus_records(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    want = expectation(path)
    code, out = hatui_config_test(path, capsys)
    assert "Traceback" not in out
    lines = out.splitlines()
    if want.hatui == "rejects":
        assert code == 2, out
        hits = [x for x in lines if want.hatui_text in x and not x.startswith("warning:")]
    else:
        assert code == 0, out
        warned = want.hatui == "warns"
        hits = [x for x in lines if want.hatui_text in x and x.startswith("warning:") == warned]
    assert hits, f"{want.hatui_text!r} not in:\n{out}"
    if want.keepalived != "rejects" and want.hatui == "rejects":
        # Refusing what keepalived runs: the refusal says what keepalived does instead.
        assert all(KEEPALIVED in x for x in hits), hits
    if want.keepalived == "rejects":
        # ...and it claims no such thing where keepalived does not run the file either.
        assert f"{KEEPALIVED} would" not in out, out


@pytest.mark.keepalived
@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_keepalived_does_what_the_corpus_records(
    path: Path, keepalived_says: dict[Path, KeepalivedSays]
) -> None:
    want = expectation(path)
    says = keepalived_says[path]
    if want.keepalived == "accepts":
        assert (says.test_rc, says.test_output) == (0, ""), says.test_output
    else:
        assert says.test_rc != 0 and want.keepalived_text in says.test_output, says.test_output
    assert says.ran == (want.keepalived != "rejects"), says.dump[-2000:]
    # The dump proper, not the config errors before it that quote the file.
    dump = says.dump.partition("------< Global definitions >------")[2]
    for text in want.runs:
        assert text in dump, f"{text!r} not in keepalived's dump"
    for text in want.runs_without:
        assert text not in dump, f"{text!r} in keepalived's dump"
