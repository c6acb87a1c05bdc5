"""The evidence a node gives for its own priority changes and transitions, one line each."""

from __future__ import annotations

from dataclasses import dataclass

from hatui.observe.events import Reason
from hatui.types import MonoUs
from hatui.vrrp.actions import Log, LogLevel
from hatui.vrrp.inputs import TrackChanged
from hatui.vrrp.priority import TrackerStatus
from hatui.vrrp.status import HeardAdvert


@dataclass(frozen=True, slots=True, kw_only=True)
class PriorityChange:
    """The last change of an instance's effective priority: what did it, and when."""

    what: str  # "chk_web failed (exit 1) -> weight -60", "operator set priority 90", "reload"
    before: int
    after: int
    at: MonoUs

    def text(self) -> str:
        return f"{self.what} -> priority {self.before} -> {self.after}"


def priority_log(name: str, change: PriorityChange, cause: str) -> Log:
    """The log line of a change of effective priority, with its evidence."""
    message = f"priority {change.before} -> {change.after} ({cause})"
    return Log(level=LogLevel.INFO, message=message, why=f"{name}: {change.text()}")


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Takeover:
    """Why a backup's Master_Down_Timer ran out: `cause` as a Transition or WantMaster
    says it (keepalived-like), RFC 8347's reason, and the evidence line."""

    cause: str
    reason: Reason
    why: str


def takeover(
    name: str,
    now: MonoUs,
    *,
    local: int,
    heard: HeardAdvert | None,
    preempting: HeardAdvert | None,
    change: PriorityChange | None,
    skew_us: int,
    master_down_us: int,
    after: str,
) -> Takeover:
    """A release (the master sent priority 0), a preemption (we discarded the adverts of
    `preempting`, a lower master), or a silent master (`heard` last, or none since we
    entered BACKUP `after` that cause)."""
    if heard is not None and heard.priority == 0:
        return Takeover(
            cause=f"master {heard.ip} released (priority 0)",
            reason=Reason.RELEASED,
            why=(
                f"{name}: {heard.ip} sent priority 0; took over {ms(now - heard.at)} ms later"
                f" (Skew_Time {ms(skew_us)} ms): released, priority {local}"
            ),
        )
    if preempting is not None:
        low = preempting
        rise = ""
        if change is not None and change.after > change.before and change.after > low.priority:
            rise = f"{change.text()}, "
        return Takeover(
            cause=f"master_down timer: preempting {low.ip} (priority {low.priority})",
            reason=Reason.PREEMPTED,
            why=(
                f"{name}: {rise}priority {local} above {low.ip}'s {low.priority}: preempted"
                f" after Master_Down_Interval {ms(master_down_us)} ms"
            ),
        )
    if heard is not None:
        return Takeover(
            cause=f"master_down timer: no advert from {heard.ip} for {ms(now - heard.at)} ms",
            reason=Reason.NO_RESPONSE,
            why=(
                f"{name}: no advert from {heard.ip} (priority {heard.priority}) for"
                f" {ms(now - heard.at)} ms, Master_Down_Interval {ms(master_down_us)} ms:"
                f" no-response, priority {local}"
            ),
        )
    return Takeover(
        cause="master_down timer",
        reason=Reason.NO_RESPONSE,
        why=(
            f"{name}: no master heard for Master_Down_Interval {ms(master_down_us)} ms after"
            f" {after}: no-response, priority {local}"
        ),
    )


def preempted(
    name: str,
    now: MonoUs,
    *,
    ip: str,
    priority: int,
    local: int,
    change: PriorityChange | None,
    since: MonoUs | None,
) -> str:
    """Why a master is displaced by `ip`'s higher advert: our own priority fall in this
    term (the state entered at `since`), if any, else the two priorities."""
    ch = change
    if ch is not None and ch.after < ch.before and since is not None and ch.at >= since:
        return f"{name}: {ch.text()}, below {ip}'s {priority}: preempted, {ms(now - ch.at)} ms"
    if priority == local:
        return f"{name}: {ip} has our priority {local}, higher address: preempted"
    return f"{name}: {ip} advertises priority {priority}, above ours {local}: preempted"
