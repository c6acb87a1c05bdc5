"""What keepalived 2.2.7 does with a line hatui refuses, for the end of hatui's message.

keepalived often reports a bad value and carries on with a default ("Priority not valid!
... Using default 100"). hatui refuses such a file (a node running at priority 100 where
the file says 300 is worse than one that does not start), and its error then ends with
"; keepalived 2.2.7 would ..." so that an operator comparing the two sees why one runs
and the other does not. Where hatui does what keepalived does, its warning ends with
", as keepalived 2.2.7 does". Each clause follows keepalived 2.2.7's vrrp_parser.c and
global_parser.c, and tests/config/test_differential.py checks it against keepalived's own
config dump.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from hatui.config.diagnostics import MissingValue
from hatui.errors import ConfigError

if TYPE_CHECKING:
    from hatui.config.tree import Stmt

KEEPALIVED = "keepalived 2.2.7"


def _strtol(text: str) -> int:
    """The number C's strtol reads from the start of `text` (0 when none)."""
    m = re.match(r"\s*[+-]?[0-9]+", text)
    return int(m.group()) if m else 0


Clause = Callable[[str], str]

# vrrp_instance keywords, by the value keepalived was given.
INSTANCE: dict[str, Clause] = {
    "priority": lambda v: "run this instance at priority 100",
    "advert_int": lambda v: "ignore this line and advertise every 1 s",
    "version": lambda v: "ignore this line and use global_defs' vrrp_version (default 2)",
    "state": lambda v: "start this instance as BACKUP",
    "preempt_delay": lambda v: "run this instance with no preempt delay",
    "garp_master_delay": lambda v: "ignore this line (global_defs' vrrp_garp_master_delay, 5 s)",
    "garp_master_repeat": lambda v: (
        f"use garp_master_repeat {max(1, int(v))}" if v.isdigit() else "ignore this line"
    ),
    "garp_master_refresh": lambda v: "send no periodic gratuitous ARP",
    "mcast_dst_ip": lambda v: "ignore this line and use the default group",
    "strict_mode": lambda v: "ignore this line",
    "down_timer_adverts": lambda v: f"declare the master down after {v} adverts",
    "use_vmac_addr": lambda v: "add a VMAC interface for each VIP on another interface",
    "use_ipvlan": lambda v: "run this instance on an IPVLAN interface",
    "track_bfd": lambda v: "track these BFD sessions",
}

# vrrp_script keywords.
SCRIPT: dict[str, Clause] = {
    "interval": lambda v: "run this script every 1 s",
    "timeout": lambda v: (
        "give the script 1 s" if v.isdigit() else "ignore this line (no timeout of its own)"
    ),
    "rise": lambda v: "use rise 1",
    "fall": lambda v: "use fall 1",
    # read_int_strvec reports the range but keeps what strtol read.
    "weight": lambda v: f"use weight {_strtol(v)} all the same",
}

# global_defs keywords.
GLOBAL: dict[str, Clause] = {
    "vrrp_version": lambda v: "ignore this line (VRRP version 2)",
    "vrrp_garp_master_delay": lambda v: "ignore this line (5 s)",
}


def would(error: ConfigError, clause: str | None) -> ConfigError:
    """`error` ending with what keepalived does instead; unchanged when there is no clause
    or the message already names keepalived."""
    if clause is None or KEEPALIVED in error.message or isinstance(error, MissingValue):
        return error
    return ConfigError(f"{error.message}; {KEEPALIVED} would {clause}", error.file, error.line)


def for_keyword(table: dict[str, Clause], keyword: str, value: str) -> str | None:
    clause = table.get(keyword)
    return clause(value) if clause is not None else None


def follows(message: str) -> str:
    """A warning where hatui does what keepalived does."""
    return f"{message}, as {KEEPALIVED} does"


def misplaced_block(line: Stmt, where: str, after: tuple[Stmt, ...]) -> str:
    """The error for an unknown keyword that opens a block inside `where`: keepalived
    2.2.7 skips the '{', reads the block's lines as `where`'s own, and its '}' closes
    `where`, so the lines after it are lost."""
    names = [a.name for a in after[:3]] + (["..."] if len(after) > 3 else [])
    lost = f", losing what follows it ({', '.join(names)})" if after else ""
    return (
        f"'{line.name}' is not a {where.split()[0]} keyword; {KEEPALIVED} would skip its "
        f"'{{', read its lines as {where}'s, and end {where} at its '}}'{lost}"
    )
