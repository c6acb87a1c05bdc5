"""The tokenizer and statement tree: quoting, comments, braces, lines, and hostile input."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hatui.config.diagnostics import Diagnostics
from hatui.config.keepalived import check_config, load_config
from hatui.config.lexer import lex_line, read_tokens
from hatui.config.tree import build_tree
from hatui.errors import ConfigError

FIXTURES = Path(__file__).parent / "fixtures"


def words(line: str) -> list[str]:
    diag = Diagnostics()
    out = [t.text for t in lex_line(line, "f", 1, diag)]
    assert diag.errors == []
    return out


def test_words_braces_and_comments() -> None:
    assert words("virtual_ipaddress{ 192.0.2.1/24 dev eth0 }") == [
        "virtual_ipaddress",
        "{",
        "192.0.2.1/24",
        "dev",
        "eth0",
        "}",
    ]
    assert words("priority 100 # the master") == ["priority", "100"]
    assert words("priority 100! bang comment") == ["priority", "100"]
    assert words("   ! whole line") == []


def test_quoted_strings_keep_spaces_and_glue_to_words() -> None:
    assert words('script "/bin/check arg" x') == ["script", "/bin/check arg", "x"]
    assert words("notify 'a # not a comment { }'") == ["notify", "a # not a comment { }"]
    # keepalived.conf(5): abcd" efg h jkl "mnop is one string.
    assert words('abcd" efg h jkl "mnop') == ["abcd efg h jkl mnop"]
    assert words(r'"tab\there \"q\" \x41\101 \\"') == ['tab\there "q" AA \\']
    assert words('"it\'s"') == ["it's"]


def test_unterminated_quote_is_an_error_with_the_line() -> None:
    diag = Diagnostics()
    assert [t.text for t in lex_line('script "/bin/x', "f.conf", 7, diag)] == ["script", "/bin/x"]
    assert [str(e) for e in diag.errors] == ["f.conf:7: unterminated quoted string"]


def test_every_token_has_its_line(tmp_path: Path) -> None:
    p = tmp_path / "k.conf"
    p.write_text("a {\n  b 1\n\n  c\n}\n")
    tokens = read_tokens(str(p), Diagnostics())
    assert [(t.text, t.line) for t in tokens] == [
        ("a", 1),
        ("{", 1),
        ("b", 2),
        ("1", 2),
        ("c", 4),
        ("}", 5),
    ]


def test_tree_statements_and_brace_on_next_line() -> None:
    diag = Diagnostics()
    lines = ["vrrp_instance X", "{", "  state MASTER", "  unicast_peer { 192.0.2.2 }", "}"]
    tokens = [t for n, line in enumerate(lines, 1) for t in lex_line(line, "f", n, diag)]
    (stmt,) = build_tree(tokens, diag)
    assert diag.errors == []
    assert (stmt.name, [a.text for a in stmt.args]) == ("vrrp_instance", ["X"])
    assert stmt.block is not None
    state, peers = stmt.block
    assert (state.name, [a.text for a in state.args], state.block) == ("state", ["MASTER"], None)
    assert peers.block is not None and [s.name for s in peers.block] == ["192.0.2.2"]


def test_deep_nesting_does_not_exhaust_the_stack(tmp_path: Path) -> None:
    p = tmp_path / "k.conf"
    p.write_text("a {\n" * 100_000)
    result = check_config(str(p))
    assert len(result.errors) == 100_000  # one per unclosed brace, innermost first
    assert str(result.errors[0]).startswith(
        f"{p}:100000: unterminated block: '{{' has no matching '}}';"
    )


VALID = (FIXTURES / "track_script.conf").read_text() + (FIXTURES / "sync_group.conf").read_text()
SOUP = [
    "{",
    "}",
    "\n",
    " ",
    '"',
    "'",
    "#",
    "!",
    "\\",
    "include",
    "include *",
    "vrrp_instance",
    "vrrp_script",
    "vrrp_sync_group",
    "global_defs",
    "group",
    "virtual_ipaddress",
    "unicast_peer",
    "track_script",
    "authentication",
    "auth_type",
    "auth_pass",
    "advert_int",
    "version",
    "priority",
    "virtual_router_id",
    "interface",
    "eth0",
    "chk_haproxy",
    "VI_1",
    "3",
    "-1",
    "0.5",
    "1e9",
    "99999999999999999999",
    "192.0.2.1/24",
    "2001:db8::1",
    "192.0.2.1-300",
    "dev",
    "weight",
    "\x00",
    "é",
]


def _check_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "k.conf"
        p.write_bytes(data)
        result = check_config(str(p))  # never raises
        assert (result.spec is None) == bool(result.errors)
        with contextlib.suppress(ConfigError):
            load_config(str(p))


@settings(max_examples=150)
@given(st.lists(st.sampled_from(SOUP), max_size=80).map(" ".join))
def test_token_soup_only_ever_gives_config_errors(text: str) -> None:
    _check_bytes(text.encode())


@settings(max_examples=150)
@given(
    st.lists(
        st.tuples(st.integers(0, len(VALID)), st.integers(0, 12), st.sampled_from(SOUP)),
        min_size=1,
        max_size=6,
    )
)
def test_mutated_valid_configs_only_ever_give_config_errors(
    edits: list[tuple[int, int, str]],
) -> None:
    text = VALID
    for at, cut, insert in edits:
        text = text[:at] + insert + text[at + cut :]
    _check_bytes(text.encode())


@settings(max_examples=80)
@given(st.binary(max_size=300))
def test_random_bytes_only_ever_give_config_errors(data: bytes) -> None:
    _check_bytes(data)
