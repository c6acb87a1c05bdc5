"""keepalived's line preprocessor: `@ID` conditions, `$NAME=value` parameters, `~SEQ` loops.

As keepalived 2.2.7's lib/parser.c read_line does, before a line is split into words:
`@ID rest` keeps `rest` only when the config id (`--config-id`, keepalived's `-i`) is ID,
`@^ID rest` only when it is not; `$NAME=value` defines a parameter (a value ending in
`\\` continues on the next lines: a multi-line definition, used on a line of its own);
`${NAME}` is replaced wherever it appears, `$NAME` where a blank, `,`, `)` or the end
of the line follows it (unknown names are left as written);
`~SEQ(VAR, [start, [step,]] end) text` repeats `text` with `$VAR` set to each number
(`~SEQx` writes them in hex). `${_INSTANCE}` is the config id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hatui.config.diagnostics import Diagnostics, shorten

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_DEFINITION = re.compile(rf"\$(?P<name>{_NAME})[ \t]*=[ \t]*(?P<value>.*)")
# keepalived find_definition: a bare $NAME ends at a blank, ',', ')' or the line's end.
_USE = re.compile(rf"\$(?:\{{(?P<braced>{_NAME})\}}|(?P<plain>{_NAME})(?=[ \t,)]|$))")
_CONDITION = re.compile(r"@(?P<negate>\^?)(?P<id>\S+)[ \t]+(?P<rest>.*)")
_SEQ = re.compile(r"~SEQ(?P<hex>x?)[ \t]*\((?P<args>[^)]*)\)[ \t]*(?P<text>.*)")
MAX_EXPANSION = 10_000  # lines one source line may become (a runaway ~SEQ or recursion)
MAX_DEPTH = 32  # nested substitutions
MAX_LINE = 65_536  # characters of one line after substitution


@dataclass(slots=True)
class Preprocessor:
    """Feed it raw lines in order (includes in place); it returns the lines to lex."""

    diag: Diagnostics
    config_id: str | None = None
    defs: dict[str, list[str]] = field(default_factory=dict)
    _open: str | None = None  # a multi-line definition still collecting lines

    def __post_init__(self) -> None:
        self.defs["_INSTANCE"] = [self.config_id or ""]

    def lines(self, raw: str, file: str, lineno: int) -> list[str]:
        if self._open is not None:
            self._continue(raw)
            return []
        out: list[str] = []
        self._line(raw, file, lineno, out, 0)
        return out

    def _continue(self, raw: str) -> None:
        assert self._open is not None
        text = _decomment(raw).strip()
        more = text.endswith("\\")
        if more:
            text = text[:-1].rstrip()
        if text:
            self.defs[self._open].append(text)
        if not more:
            self._open = None

    def _line(self, raw: str, file: str, lineno: int, out: list[str], depth: int) -> None:
        if depth > MAX_DEPTH or len(out) > MAX_EXPANSION:
            self.diag.error("parameter substitution nested or repeated too far", file, lineno)
            return
        line = _decomment(raw).strip()
        if line.startswith("@"):
            cond = _CONDITION.fullmatch(line)
            if cond is None or (self.config_id == cond["id"]) == bool(cond["negate"]):
                return  # keepalived: not this node's line
            line = cond["rest"].strip()
        if m := _DEFINITION.fullmatch(line):
            self._define(m["name"], m["value"])
            return
        if line.startswith("~SEQ"):
            self._seq(line, file, lineno, out, depth)
            return
        if line.startswith("~"):
            self.diag.error(f"not supported by hatui: {shorten(line.split()[0])}", file, lineno)
            return
        if "$" not in line:
            out.append(line)
            return
        whole = _USE.fullmatch(line)
        if whole is not None:
            name = whole["braced"] or whole["plain"]
            if name in self.defs and len(self.defs[name]) > 1:
                for part in self.defs[name]:  # a multi-line definition
                    self._line(part, file, lineno, out, depth + 1)
                return
        replaced = _USE.sub(self._value, line)
        if len(replaced) > MAX_LINE:
            self.diag.error("parameter substitution makes the line too long", file, lineno)
            return
        if replaced == line:
            out.append(line)
        else:
            self._line(replaced, file, lineno, out, depth + 1)

    def _value(self, m: re.Match[str]) -> str:
        name = m["braced"] or m["plain"]
        value = self.defs.get(name)
        if value is None or len(value) > 1:
            return m[0]  # unknown, or multi-line used inside a line: left as written
        return value[0] if value else ""

    def _define(self, name: str, value: str) -> None:
        value = value.strip()
        if value.endswith("\\"):
            first = value[:-1].rstrip()
            self.defs[name] = [first] if first else []
            self._open = name
            return
        self.defs[name] = [value]

    def _seq(self, line: str, file: str, lineno: int, out: list[str], depth: int) -> None:
        m = _SEQ.fullmatch(line)
        numbers = _seq_numbers(_USE.sub(self._value, m["args"])) if m else None
        if m is None or numbers is None:
            self.diag.error(f"invalid ~SEQ specification '{shorten(line)}'", file, lineno)
            return
        var, values = numbers
        if m["hex"] and any(v < 0 for v in values):
            self.diag.error("~SEQx is only valid for positive numbers", file, lineno)
            return
        if len(values) > MAX_EXPANSION:
            self.diag.error(f"~SEQ of {len(values)} lines is too long", file, lineno)
            return
        for v in values:
            self.defs[var] = [f"{v:x}" if m["hex"] else str(v)]
            self._line(m["text"], file, lineno, out, depth + 1)


def _seq_numbers(args: str) -> tuple[str, range] | None:
    """`VAR, end` | `VAR, start, end` | `VAR, start, step, end`, as keepalived's add_seq."""
    parts = [p.strip() for p in args.split(",")]
    if len(parts) < 2 or not re.fullmatch(_NAME, parts[0]):
        return None
    try:
        nums = [int(p, 0) for p in parts[1:]]
    except ValueError:
        return None
    match nums:
        case [end]:
            start, step = (-1 if end < 0 else 1), (-1 if end < 1 else 1)
        case [start, end]:
            step = 1 if start <= end else -1
        case [start, step, end]:
            if not step or (start < end and step < 0) or (start > end and step > 0):
                return None
        case _:
            return None
    return parts[0], range(start, end + (1 if step > 0 else -1), step)


def _decomment(line: str) -> str:
    """The line up to a `#` or `!` outside quotes (keepalived's decomment)."""
    if "#" not in line and "!" not in line:
        return line
    quote = ""
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "#!":
            return line[:i]
    return line
