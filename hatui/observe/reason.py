"""The one-line evidence ("why") the wire gives for a failover; the reasons themselves
are `events.Reason` (docs/json.md names each)."""

from __future__ import annotations

from datetime import UTC, datetime

from hatui.observe.events import REASON_OF_CAUSE, Cause


def ms(us: int) -> str:
    """Microseconds as milliseconds text, to a tenth."""
    return f"{us / 1000:.1f}"


def clock(at_us: int) -> str:
    """A wall time as HH:MM:SS.mmm UTC: when something happened on the wire."""
    dt = datetime.fromtimestamp(at_us / 1e6, tz=UTC)
    return dt.strftime("%H:%M:%S.") + f"{dt.microsecond // 1000:03d}"


def rfc_figure(gap_us: int, rfc_us: int | None, what: str) -> str:
    """The gap against the RFC's figure: ", RFC Master_Down_Interval 360.9 ms (+0.2)"."""
    if rfc_us is None:
        return ""
    return f", {what} {ms(rfc_us)} ms ({(gap_us - rfc_us) / 1000:+.1f})"


def wire_why(
    *,
    label: str,
    cause: Cause,
    old_ip: str,
    old_priority: int,
    old_last: int,
    new_ip: str,
    new_priority: int,
    at: int,
    interval_us: int,
    rfc_us: int | None,
    wait: str | None = None,
    fall: tuple[int, int, int] | None = None,
    release: str = "sent priority 0",
) -> str:
    """The evidence the wire holds for one failover, as one line.

    `fall` is the old master's last priority change in its term (old, new, when); `wait`
    names the RFC's figure (else Skew_Time for a release, Master_Down_Interval for a
    timeout); `release` says how it left (HSRP: resigned); `interval_us` is the old
    master's interval, to count the adverts it missed."""
    gap = at - old_last
    reason = REASON_OF_CAUSE[cause]
    if cause is Cause.PREEMPT:
        if fall is not None and fall[1] < fall[0]:
            before, after, when = fall
            return (
                f"{label}: {old_ip} priority {before} -> {after} at {clock(when)},"
                f" below {new_ip}'s {new_priority}: {reason}, {ms(at - when)} ms later"
            )
        return (
            f"{label}: {new_ip} priority {new_priority} above master {old_ip}'s"
            f" {old_priority}: {reason}"
        )
    if cause is Cause.RELEASE:
        figure = rfc_figure(gap, rfc_us, wait or "RFC Skew_Time")
        return (
            f"{label}: {old_ip} {release} at {clock(old_last)}; {new_ip}"
            f" ({new_priority}) took over {ms(gap)} ms later: {reason}{figure}"
        )
    missed = gap // interval_us if interval_us > 0 else 0
    figure = rfc_figure(gap, rfc_us, wait or "RFC Master_Down_Interval")
    return (
        f"{label}: {old_ip} (priority {old_priority}) silent after its last advert at"
        f" {clock(old_last)}, {missed} intervals missed; {new_ip} ({new_priority}) took"
        f" over after {ms(gap)} ms: {reason}{figure}"
    )
