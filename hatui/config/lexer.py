"""keepalived.conf tokens: words, braces, quoted strings, comments, and `include` expansion.

The syntax follows keepalived.conf(5): `#` and `!` start a comment anywhere outside quotes,
`"` and `'` quote (pieces glued to a word join it, backslash escapes work inside quotes),
and `include PATTERN` at the start of a line reads the files a glob matches, relative to
the including file's directory. Every token keeps its file and line for messages.
Lines pass through keepalived's preprocessor first (`@ID`, `$NAME`, `~SEQ`: params.py).
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

from hatui.config.diagnostics import Diagnostics, shorten
from hatui.config.params import Preprocessor

MAX_FILE_BYTES = 10 * 1024 * 1024  # keepalived configs are kilobytes; more is a mistake
MAX_INCLUDE_DEPTH = 32
MAX_FILES = 1000
INCLUDE_WORDS = frozenset({"include", "includer", "includem", "includew", "includeb", "includea"})
_GLOB_CHARS = frozenset("*?[{")
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Token:
    """One word of the config and where it was written."""

    text: str
    file: str
    line: int
    quoted: bool = False
    # Which lexed line the word came from: one source line may become several (a
    # multi-line $NAME, a ~SEQ), each its own statement.
    row: int = 0

    @property
    def is_open(self) -> bool:
        return self.text == "{" and not self.quoted

    @property
    def is_close(self) -> bool:
        return self.text == "}" and not self.quoted

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def _escape(line: str, i: int) -> tuple[str, int]:
    """Decode the escape starting at the backslash `line[i]`; return text and next index."""
    if i + 1 >= len(line):
        return "\\", i + 1
    c = line[i + 1]
    if c in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[c], i + 2
    if c == "x":
        j = i + 2
        while j < len(line) and j < i + 4 and line[j] in "0123456789abcdefABCDEF":
            j += 1
        return (chr(int(line[i + 2 : j], 16)), j) if j > i + 2 else ("x", i + 2)
    if c in "01234567":
        j = i + 1
        while j < len(line) and j < i + 4 and line[j] in "01234567":
            j += 1
        return chr(int(line[i + 1 : j], 8)), j
    if c == "c" and i + 2 < len(line):
        return chr(ord(line[i + 2].upper()) ^ 0x40), i + 3
    return c, i + 2


def lex_line(
    line: str, file: str, lineno: int, diag: Diagnostics, *, braces: bool = True, row: int = 0
) -> list[Token]:
    """Split one line into tokens; comments end it, braces are their own token.

    With `braces=False` (include lines) a brace is an ordinary character, for globs.
    """
    special = "{}#!" if braces else "#!"
    tokens: list[Token] = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c.isspace():
            i += 1
            continue
        if c in "#!":
            break
        if c in "{}" and braces:
            tokens.append(Token(text=c, file=file, line=lineno, row=row))
            i += 1
            continue
        parts: list[str] = []
        quoted = False
        while i < n and not line[i].isspace() and line[i] not in special:
            c = line[i]
            if c not in "\"'":
                parts.append(c)
                i += 1
                continue
            quoted = True
            i += 1
            while i < n and line[i] != c:
                if line[i] == "\\":
                    text, i = _escape(line, i)
                    parts.append(text)
                else:
                    parts.append(line[i])
                    i += 1
            if i >= n:
                diag.error("unterminated quoted string", file, lineno)
            i += 1
        tokens.append(Token(text="".join(parts), file=file, line=lineno, quoted=quoted, row=row))
    return tokens


def _expand_braces(pattern: str) -> list[str]:
    """csh-style `{a,b}` alternatives, as keepalived's glob(GLOB_BRACE) does."""
    start = pattern.find("{")
    if start < 0:
        return [pattern]
    depth = 0
    for end in range(start, len(pattern)):
        if pattern[end] == "{":
            depth += 1
        elif pattern[end] == "}":
            depth -= 1
            if depth == 0:
                break
    else:
        return [pattern]
    body, alternatives, depth, last = pattern[start + 1 : end], [], 0, 0
    for k, ch in enumerate(body):
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            alternatives.append(body[last:k])
            last = k + 1
    alternatives.append(body[last:])
    head, tail = pattern[:start], pattern[end + 1 :]
    return [x for alt in alternatives for x in _expand_braces(head + alt + tail)]


class _Reader:
    """Reads a file and its includes depth-first into one token list."""

    def __init__(self, diag: Diagnostics, config_id: str | None) -> None:
        self.diag = diag
        self.pre = Preprocessor(diag, config_id)
        self.tokens: list[Token] = []
        self.stack: list[str] = []  # real paths being read, for loop detection
        self.files = 0
        self.rows = 0

    def read(self, path: str, at: Token | None) -> None:
        file, line = (at.file, at.line) if at else (path, None)
        self.files += 1
        if self.files > MAX_FILES:
            self.diag.error(f"more than {MAX_FILES} config files included", file, line)
            return
        try:
            size = os.path.getsize(path)
            if size > MAX_FILE_BYTES:
                self.diag.error(f"file too large ({size} bytes, limit 10 MB)", path)
                return
            with open(path, "rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
        except OSError as e:
            what = f"cannot read {shorten(path, 200)}" if at else "cannot read"
            self.diag.error(f"{what}: {e.strerror}", file, line)
            return
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            self.diag.error("not valid UTF-8", path, data.count(b"\n", 0, e.start) + 1)
            return
        self.stack.append(os.path.realpath(path))
        try:
            for lineno, raw in enumerate(text.splitlines(), start=1):
                for piece in self.pre.lines(raw, path, lineno):
                    first = piece.split(None, 1)
                    if first and first[0] in INCLUDE_WORDS:
                        self.include(lex_line(piece, path, lineno, self.diag, braces=False), path)
                        continue
                    self.rows += 1
                    self.tokens.extend(lex_line(piece, path, lineno, self.diag, row=self.rows))
        finally:
            self.stack.pop()

    def include(self, words: list[Token], path: str) -> None:
        at = words[0]
        if len(words) != 2:
            self.diag.error(f"{at.text}: expected one file name or pattern", at.file, at.line)
            return
        if len(self.stack) >= MAX_INCLUDE_DEPTH:
            self.diag.error(f"includes nested deeper than {MAX_INCLUDE_DEPTH}", at.file, at.line)
            return
        pattern = words[1].text
        # keepalived changes into the including file's directory (keepalived.conf(5)).
        full = os.path.join(os.path.dirname(path), pattern)
        if _GLOB_CHARS & set(pattern):
            names = sorted({m for p in _expand_braces(full) for m in glob.glob(p)})
            if not names:
                self.diag.warn(f"include '{shorten(pattern)}' matched no file", at.file, at.line)
        elif os.path.exists(full):
            names = [full]
        else:
            self.diag.error(f"include file not found: {shorten(pattern, 200)}", at.file, at.line)
            return
        for name in names:
            if os.path.isdir(name):
                self.diag.warn(f"include: {shorten(name, 200)} is a directory", at.file, at.line)
            elif os.path.realpath(name) in self.stack:
                self.diag.error(
                    f"include loop: {shorten(name, 200)} is already being read", at.file, at.line
                )
            else:
                self.read(name, at)


def read_tokens(path: str, diag: Diagnostics, config_id: str | None = None) -> list[Token]:
    """All tokens of `path` with its includes expanded in place; problems go to `diag`.
    `config_id` selects the `@ID` lines (keepalived's -i)."""
    reader = _Reader(diag, config_id)
    reader.read(path, None)
    return reader.tokens
