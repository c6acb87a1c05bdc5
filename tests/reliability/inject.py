"""Test-only fault injection: runs `hatui` with one piece of the runtime made to raise.

Usage: python -m tests.reliability.inject MODE -- HATUI-ARGS...

Production code carries no hook: this wrapper patches the class in its own process,
then calls `hatui.cli.main`. Each mode raises once the node has been MASTER for a
moment, where an unhandled exception would hurt most (the VIP is held):
  timer   - the node's timer callback raises (a bug in a state machine rule)
  frame   - handling a received frame raises (a bug on the receive path)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from hatui.runtime.node import Node
from hatui.vrrp.state import State

AFTER_MASTER_CALLS = 5


class InjectedFault(RuntimeError):
    """The exception this wrapper raises; its name shows up in the node's log."""


def _arm(name: str) -> None:
    original: Callable[..., Any] = getattr(Node, name)
    seen = {"calls": 0}

    def patched(self: Node, *args: Any) -> Any:
        if any(self.router(n).state is State.MASTER for n in self.instance_names()):
            seen["calls"] += 1
            if seen["calls"] == AFTER_MASTER_CALLS:
                raise InjectedFault(f"injected fault in Node.{name}")
        return original(self, *args)

    setattr(Node, name, patched)


def main(argv: list[str]) -> int:
    mode, sep, *rest = argv
    assert sep == "--", "usage: inject MODE -- HATUI-ARGS"
    _arm({"timer": "_on_timer", "frame": "on_frame"}[mode])
    from hatui.cli import main as hatui_main

    return hatui_main(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
