"""Effective priority: base or operator override plus tracked objects (keepalived's rules)."""

from __future__ import annotations

from dataclasses import dataclass

from hatui.vrrp.inputs import TrackChanged, TrackKind
from hatui.vrrp.spec import InstanceSpec, TrackRef

OWNER_PRIORITY = 255  # RFC 5798 6.1: the address owner; never adjusted
# keepalived: a tracked file driving the priority this low puts the instance in FAULT.
FILE_FAULT_LIMIT = -254


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackerStatus:
    """One tracked object as the router last heard it."""

    kind: TrackKind
    name: str
    weight: int
    ok: bool
    value: int
    contribution: int
    faulting: bool


def tracker_status(kind: TrackKind, name: str, weight: int, ok: bool, value: int) -> TrackerStatus:
    """Apply keepalived's tracking rules to one object's last result.

    Interfaces and scripts: weight 0 means failure is a FAULT; a positive weight is added
    while the object is ok, a negative one while it fails. Files: the contribution is
    weight * value; with weight 0 an unreadable file or a non-zero value is a FAULT.
    """
    if kind == "file":
        if weight == 0:
            return TrackerStatus(
                kind=kind, name=name, weight=weight, ok=ok, value=value,
                contribution=0, faulting=not ok or value != 0,
            )  # fmt: skip
        part = weight * value if ok else 0
        return TrackerStatus(
            kind=kind, name=name, weight=weight, ok=ok, value=value,
            contribution=part, faulting=part <= FILE_FAULT_LIMIT,
        )  # fmt: skip
    if weight > 0:
        part = weight if ok else 0
    elif weight < 0:
        part = 0 if ok else weight
    else:
        part = 0
    return TrackerStatus(
        kind=kind, name=name, weight=weight, ok=ok, value=value,
        contribution=part, faulting=weight == 0 and not ok,
    )  # fmt: skip


def _fresh(spec: InstanceSpec) -> dict[tuple[TrackKind, str], TrackerStatus]:
    """Every object `spec` tracks, as ok (value 0)."""
    out: dict[tuple[TrackKind, str], TrackerStatus] = {}
    groups: tuple[tuple[TrackKind, tuple[TrackRef, ...]], ...] = (
        ("interface", spec.track_interfaces),
        ("script", spec.track_scripts),
        ("file", spec.track_files),
        ("process", spec.track_processes),
    )
    for kind, refs in groups:
        for ref in refs:
            out[(kind, ref.name)] = tracker_status(kind, ref.name, ref.weight, True, 0)
    return out


class Tracking:
    """The last result of every tracked object of one instance; all start ok (value 0).

    keepalived assumes scripts succeed until they first fail (no `init_fail`), and
    interfaces are reported by the runtime as soon as it starts watching them.
    """

    def __init__(self, spec: InstanceSpec) -> None:
        self._objects = _fresh(spec)
        # Kept up to date on every change: read for every advert sent.
        self._total = sum(t.contribution for t in self._objects.values())

    def respec(self, spec: InstanceSpec) -> None:
        """A reload: keep each still-tracked object's last result under its new weight;
        objects new to the config start ok, as at start-up."""
        old, self._objects = self._objects, _fresh(spec)
        for key, status in self._objects.items():
            last = old.get(key)
            if last is not None:
                self._objects[key] = tracker_status(
                    status.kind, status.name, status.weight, last.ok, last.value
                )
        self._total = sum(t.contribution for t in self._objects.values())

    def update(self, event: TrackChanged) -> TrackerStatus | None:
        """Record a result; None when the object is not tracked by this instance."""
        old = self._objects.get((event.kind, event.name))
        if old is None:
            return None
        new = tracker_status(event.kind, event.name, old.weight, event.ok, event.value)
        self._objects[(event.kind, event.name)] = new
        self._total += new.contribution - old.contribution
        return new

    def get(self, kind: TrackKind, name: str) -> TrackerStatus | None:
        return self._objects.get((kind, name))

    def total(self) -> int:
        """The sum of every object's contribution."""
        return self._total

    def faults(self) -> tuple[str, ...]:
        """Names of the objects holding the instance in FAULT, as "script chk"."""
        return tuple(f"{t.kind} {t.name}" for t in self._objects.values() if t.faulting)

    def statuses(self) -> tuple[TrackerStatus, ...]:
        return tuple(self._objects.values())


def effective_priority(base: int, override: int | None, tracked: int) -> int:
    """(override or base) + tracked contributions, clamped to 1..254; the owner stays 255."""
    if override is None and base == OWNER_PRIORITY:
        return OWNER_PRIORITY
    start = base if override is None else override
    return max(1, min(254, start + tracked))
