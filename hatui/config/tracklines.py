"""`NAME [weight N]` lines of track_interface / track_script / track_file / track_process
blocks, in a vrrp_instance or a vrrp_sync_group."""

from __future__ import annotations

from hatui.config.blocks import block_of
from hatui.config.fallback import would
from hatui.config.lexer import Token
from hatui.config.tree import Stmt
from hatui.config.values import fail, int_value
from hatui.errors import ConfigError

# What keepalived 2.2.7 tracks with when a track_* line's weight is out of its range.
_OWN_WEIGHT = {
    "track_interface": "weight 0 (FAULT while it is down)",
    "track_script": "the vrrp_script's own weight",
    "track_file": "the vrrp_track_file's own weight",
    "track_process": "the vrrp_track_process's own weight",
}


def track_lines(stmt: Stmt, lo: int, hi: int) -> list[tuple[Token, int | None]]:
    """`NAME [weight N]` lines of a track_* block; `reverse` is refused, not ignored."""
    out: list[tuple[Token, int | None]] = []
    for line in block_of(stmt):
        words = [line.key, *line.args]
        weight: int | None = None
        rest = words[1:]
        if rest and rest[0].text == "weight":
            if len(rest) < 2:
                fail(rest[0], f"{stmt.name}: weight needs a value")
            try:
                weight = int_value(rest[1], f"{stmt.name} weight", lo, hi)
            except ConfigError as e:
                raise would(e, f"track {words[0].text} with {_OWN_WEIGHT[stmt.name]}") from None
            rest = rest[2:]
        if rest and rest[0].text in ("reverse", "no_reverse", "noreverse"):
            if rest[0].text == "reverse":
                fail(rest[0], f"not supported by hatui: '{stmt.name}' weight reverse")
            rest = rest[1:]
        if rest or line.block is not None:
            fail(line.key, f"{stmt.name}: expected NAME [weight N], got '{line.key.text} ...'")
        out.append((line.key, weight))
    return out
