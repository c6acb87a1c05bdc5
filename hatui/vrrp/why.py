"""The evidence a node gives for its own priority changes and transitions, one line each."""

from __future__ import annotations

from dataclasses import dataclass

from hatui.types import MonoUs
from hatui.vrrp.inputs import TrackChanged
from hatui.vrrp.priority import TrackerStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class PriorityChange:
    """The last change of an instance's effective priority: what did it, and when."""

    what: str  # "chk_web failed (exit 1) -> weight -60", "operator set priority 90", "reload"
    before: int
    after: int
    at: MonoUs

    def text(self) -> str:
        return f"{self.what} -> priority {self.before} -> {self.after}"


def ms(us: int) -> str:
    """Microseconds as whole milliseconds text (node timers run on a loop's wake-ups)."""
    return f"{us / 1000:.0f}"


def _verb(event: TrackChanged) -> str:
    match event.kind:
        case "interface":
            return "up" if event.ok else "down"
        case "file":
            return f"reads {event.value}" if event.ok else "unreadable"
        case "process":
            return "running" if event.ok else "not running"
        case _:
            return "recovered" if event.ok else "failed"


def track_text(event: TrackChanged, old: TrackerStatus, new: TrackerStatus) -> str:
    """ "chk_web failed (exit 1) -> weight -60": the tracker, its result with the
    evidence (exit status, timeout, signal) and what it did to the priority or FAULT."""
    name = event.name if event.kind == "script" else f"{event.kind} {event.name}"
    detail = f" ({event.detail})" if event.detail else ""
    delta = new.contribution - old.contribution
    if new.faulting and not old.faulting:
        tail = f" -> FAULT (weight {new.weight})"
    elif old.faulting and not new.faulting:
        tail = " -> fault cleared"
    elif delta:
        tail = f" -> weight {delta:+d}"
    else:
        tail = f" (weight {new.weight:+d}: no change)"
    return f"{name} {_verb(event)}{detail}{tail}"
