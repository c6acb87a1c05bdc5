"""Where each hatui process stands in the kernel's scheduler: the node first, and what only
shows the node (a serving console, the LAN view) behind it.

The node runs at normal priority (or keepalived's vrrp_priority / vrrp_rt_priority,
runtime/serve.py). A console and the LAN view run SCHED_IDLE, on every thread, and in the
node's session. Both halves matter:
- SCHED_IDLE is the policy the kernel preempts the moment a normal task wakes; under any
  nice a running task may keep the CPU to the end of its slice (EEVDF), up to a tick.
- That preemption holds between tasks of one scheduling group. With autogroup (the
  default) each session is a group, and groups compete as equals: a console in a session
  of its own would run to the end of its slice however low its policy. So the serving
  console starts its node in the console's own session (runtime/child.py), and the
  node's LAN view stays in the node's.
An attached console runs in its operator's session, the node in its service's: there
SCHED_IDLE only keeps the console from taking the node's share within its own session.
"""

from __future__ import annotations

import contextlib
import os
import signal


def threads(pid: int | None = None) -> list[int]:
    """The thread ids of `pid`, or of this process (sched_setscheduler and setpriority act
    on one thread)."""
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid or 'self'}/task")]
    except OSError:
        return [pid or 0]


def behind_the_node(nice: int = 0, pid: int | None = None) -> bool:
    """Every thread of `pid`, or of this process (and the threads it starts later), to
    SCHED_IDLE at `nice` (which orders it among other SCHED_IDLE tasks only). False where
    the kernel refuses SCHED_IDLE: the process then keeps normal scheduling at `nice`."""
    idle = True
    for tid in threads(pid):
        try:
            os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            idle = False
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, tid, nice)
    return idle


def ignore_terminal_signals() -> None:
    """For a helper that stays in its parent's session (so its scheduling group): Ctrl-C
    and a hang-up reach the parent's whole process group, and the parent decides."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
