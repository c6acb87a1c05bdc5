"""Typed values of keepalived keywords: integers, timers, addresses, booleans, with ranges."""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal
from typing import NoReturn

from hatui.config.diagnostics import MissingValue, shorten
from hatui.config.lexer import Token
from hatui.config.tree import Stmt
from hatui.errors import ConfigError
from hatui.types import US_PER_S

_INT = re.compile(r"[+-]?[0-9]{1,18}")
_DIGITS = re.compile(r"[+-]?[0-9]+")
_TIMER = re.compile(r"[0-9]{1,12}(\.[0-9]{0,12})?|\.[0-9]{1,12}")
_TRUE = frozenset({"on", "true", "yes"})
_FALSE = frozenset({"off", "false", "no"})


def fail(tok: Token, message: str) -> NoReturn:
    raise ConfigError(message, tok.file, tok.line)


def arg(stmt: Stmt, index: int = 0) -> Token:
    """The `index`th word after the keyword, or an error at the keyword."""
    if index >= len(stmt.args):
        raise MissingValue(f"{stmt.name}: missing value", stmt.key.file, stmt.key.line)
    return stmt.args[index]


def int_value(tok: Token, keyword: str, lo: int, hi: int) -> int:
    if not _INT.fullmatch(tok.text):
        if _DIGITS.fullmatch(tok.text):
            fail(tok, f"{keyword} {shorten(tok.text)} out of range {lo}..{hi}")
        fail(tok, f"{keyword}: '{shorten(tok.text)}' is not a valid number")
    value = int(tok.text)
    if not lo <= value <= hi:
        fail(tok, f"{keyword} {value} out of range {lo}..{hi}")
    return value


def integer(stmt: Stmt, lo: int, hi: int, index: int = 0) -> int:
    return int_value(arg(stmt, index), stmt.name, lo, hi)


def _seconds(us: int) -> str:
    text = f"{Decimal(us) / US_PER_S:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def timer_value(tok: Token, keyword: str, lo_us: int, hi_us: int) -> int:
    """Seconds with an optional fraction (keepalived's TIMER) to integer microseconds."""
    if not _TIMER.fullmatch(tok.text):
        if re.fullmatch(r"[0-9.]+", tok.text) and tok.text.count(".") <= 1:
            fail(
                tok,
                f"{keyword} {shorten(tok.text)} out of range {_seconds(lo_us)}..{_seconds(hi_us)}",
            )
        fail(tok, f"{keyword}: '{shorten(tok.text)}' is not a valid time in seconds")
    # Decimal, not float: 0.1 s must be exactly 100000 us.
    us = int((Decimal(tok.text) * US_PER_S).to_integral_value())
    if not lo_us <= us <= hi_us:
        fail(tok, f"{keyword} {tok.text} out of range {_seconds(lo_us)}..{_seconds(hi_us)}")
    return us


def timer(stmt: Stmt, lo_us: int, hi_us: int, index: int = 0) -> int:
    return timer_value(arg(stmt, index), stmt.name, lo_us, hi_us)


def ip_value(tok: Token, keyword: str) -> str:
    """An IPv4 or IPv6 address in its canonical text form."""
    try:
        return str(ipaddress.ip_address(tok.text))
    except ValueError:
        fail(tok, f"{keyword}: '{shorten(tok.text)}' is not an IP address")


def boolean(stmt: Stmt) -> bool:
    """A flag keyword with keepalived's optional <BOOL> argument (absent means on)."""
    if not stmt.args:
        return True
    word = stmt.args[0].text.lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    fail(
        stmt.args[0],
        f"{stmt.name}: expected on|off|true|false|yes|no, got '{shorten(stmt.args[0].text)}'",
    )


def text(stmt: Stmt) -> str:
    """The rest of the line as one string (a command or a name with spaces)."""
    arg(stmt)
    return " ".join(t.text for t in stmt.args)
