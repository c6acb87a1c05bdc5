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
from hatui.runtime.pacing import Pacer
from hatui.vrrp.state import State

AFTER_MASTER_CALLS = 5


class InjectedFault(RuntimeError):
    """The exception this wrapper raises; its name shows up in the node's log."""


def _arm(cls: type[Any], name: str, node_of: Callable[[Any], Node]) -> None:
    original: Callable[..., Any] = getattr(cls, name)
    seen = {"calls": 0}

    def patched(self: Any, *args: Any) -> Any:
        node = node_of(self)
        if any(node.router(n).state is State.MASTER for n in node.instance_names()):
            seen["calls"] += 1
            if seen["calls"] == AFTER_MASTER_CALLS:
                raise InjectedFault(f"injected fault in {cls.__name__}.{name}")
        return original(self, *args)

    setattr(cls, name, patched)


def main(argv: list[str]) -> int:
    mode, sep, *rest = argv
    assert sep == "--", "usage: inject MODE -- HATUI-ARGS"
    if mode == "timer":  # the node's one timer, which the pacer owns
        _arm(Pacer, "_on_timer", lambda pacer: pacer._fire_cb.__self__)
    else:
        _arm(Node, "on_frame", lambda node: node)
    from hatui.cli import main as hatui_main

    return hatui_main(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
