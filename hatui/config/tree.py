"""Tokens to statements: `keyword args... [{ statements }]`, with brace errors at their lines."""

from __future__ import annotations

from dataclasses import dataclass, field

from hatui.config.diagnostics import Diagnostics
from hatui.config.fallback import KEEPALIVED
from hatui.config.lexer import Token


@dataclass(frozen=True, slots=True, kw_only=True)
class Stmt:
    """One statement: its keyword, the words after it on its line, and its block if any."""

    key: Token
    args: tuple[Token, ...] = ()
    block: tuple[Stmt, ...] | None = None

    @property
    def name(self) -> str:
        return self.key.text


@dataclass(slots=True, kw_only=True)
class _Open:
    key: Token | None  # None: a block with no keyword, kept only to stay in step
    args: tuple[Token, ...]
    brace: Token
    children: list[Stmt] = field(default_factory=list)


def build_tree(tokens: list[Token], diag: Diagnostics) -> tuple[Stmt, ...]:
    """Group tokens into statements; iterative, so deep nesting cannot exhaust the stack."""
    top: list[Stmt] = []
    stack: list[_Open] = []
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        here = stack[-1].children if stack else top
        if tok.is_close:
            if not stack:
                diag.error(
                    f"unexpected '}}' with no open block; {KEEPALIVED} would ignore it",
                    tok.file,
                    tok.line,
                )
            else:
                done = stack.pop()
                if done.key is not None:
                    parent = stack[-1].children if stack else top
                    parent.append(Stmt(key=done.key, args=done.args, block=tuple(done.children)))
            i += 1
            continue
        if tok.is_open:
            diag.error("unexpected '{' with no keyword before it", tok.file, tok.line)
            stack.append(_Open(key=None, args=(), brace=tok))
            i += 1
            continue
        j = i + 1
        while (
            j < n
            and tokens[j].line == tok.line
            and tokens[j].row == tok.row
            and tokens[j].file == tok.file
            and not (tokens[j].is_open or tokens[j].is_close)
        ):
            j += 1
        args = tuple(tokens[i + 1 : j])
        if j < n and tokens[j].is_open:
            stack.append(_Open(key=tok, args=args, brace=tokens[j]))
            j += 1
        else:
            here.append(Stmt(key=tok, args=args))
        i = j
    while stack:
        # Keep the unclosed block's content so --config-test still checks it.
        done = stack.pop()
        diag.error(
            f"unterminated block: '{{' has no matching '}}'; {KEEPALIVED} would close it at "
            "the end of the file",
            done.brace.file,
            done.brace.line,
        )
        if done.key is not None:
            parent = stack[-1].children if stack else top
            parent.append(Stmt(key=done.key, args=done.args, block=tuple(done.children)))
    return tuple(top)
