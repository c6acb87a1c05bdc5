"""hatui's own child processes (a console's node, a node's LAN view) stop with their parent."""

from __future__ import annotations

import ctypes
import os
import signal

from hatui.errors import RuntimeFault

PARENT_ENV = "HATUI_PARENT_PID"  # set by a hatui process for the hatui child it starts
_PR_SET_PDEATHSIG = 1


def bind_to_parent(env: dict[str, str] | None = None) -> None:
    """A child that hatui started gets SIGTERM (a clean stop: for a node, priority 0 and
    VIPs removed) when its parent dies, even by SIGKILL. Raises RuntimeFault if the parent
    is already gone."""
    env = dict(os.environ) if env is None else env
    text = env.get(PARENT_ENV)
    if not text:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
        raise RuntimeFault(f"prctl(PR_SET_PDEATHSIG): {os.strerror(ctypes.get_errno())}")
    # The parent may have died between our fork and the prctl: then nobody is watching.
    if not text.isdigit() or os.getppid() != int(text):
        raise RuntimeFault("the hatui process that started this one is gone")
