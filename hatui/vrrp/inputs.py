"""Inputs a Router consumes: protocol events, link and tracking results, operator commands.

Operator commands validate themselves: a bad argument is a local mistake and raises
ValueError at construction, before it reaches a router (h11's "we misused it" errors).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from hatui.codec.frames import VrrpAdvert
from hatui.vrrp.state import State

if TYPE_CHECKING:
    from hatui.vrrp.spec import InstanceSpec

TrackKind = Literal["interface", "script", "file", "process"]
TRACK_KINDS: tuple[TrackKind, ...] = ("interface", "script", "file", "process")


@dataclass(frozen=True, slots=True, kw_only=True)
class Startup:
    """Leave Initialize (RFC 5798 6.4.1)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Shutdown:
    """Go back to Initialize; a master first sends priority 0 (RFC 5798 6.4.3)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerFired:
    """The runtime saw `deadline()` pass; every timer due at `now` runs."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AdvertReceived:
    """An advert for this instance that passed the codec's receive checks."""

    advert: VrrpAdvert


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkChanged:
    """The instance's own interface went up or down (down puts it in FAULT)."""

    up: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackChanged:
    """A tracked interface, script or file reported a result.

    For files `value` is the integer read and the contribution is weight * value; `ok`
    False means the file could not be read (or a script failed, an interface went down).
    """

    kind: TrackKind
    name: str
    ok: bool
    value: int = 0
    detail: str = ""  # the evidence: "exit 1", "timed out after 2 s", "killed by signal 9"

    def __post_init__(self) -> None:
        if self.kind not in TRACK_KINDS:
            raise ValueError(f"unknown tracked object kind {self.kind!r}")
        if not self.name:
            raise ValueError("a tracked object needs a name")


@dataclass(frozen=True, slots=True, kw_only=True)
class SetPriority:
    """Operator override of the base priority (1..254; 255 is only ever configured)."""

    value: int

    def __post_init__(self) -> None:
        if not 1 <= self.value <= 254:
            raise ValueError(f"priority {self.value} out of range 1..254")


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjustPriority:
    """Operator override relative to the current override (or base): +N / -N."""

    delta: int

    def __post_init__(self) -> None:
        if not -253 <= self.delta <= 253 or self.delta == 0:
            raise ValueError(f"priority adjustment {self.delta} must be in -253..253, not 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    """Give up mastership (priority 0 advert, drop VIPs) and hold BACKUP until Resume."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Pause:
    """Stop advertising and drop VIPs without a priority 0 advert; never take over."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Resume:
    """Clear the operator override, hold and pause."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SendGarp:
    """Send the gratuitous ARP / unsolicited NA burst again (only when master)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncGroupChanged:
    """The instance's vrrp_sync_group moved (keepalived vrrp_sync.c); follow it.

    MASTER: enter MASTER (for `member` == this instance: the group agreed to its own
    request). BACKUP: a master leaves MASTER; a member held in FAULT by the group leaves
    it. FAULT: a member failed, hold this one in FAULT until the group recovers.
    `cause` is the text the forced transition records.
    """

    state: State
    member: str
    cause: str

    def __post_init__(self) -> None:
        if self.state not in (State.MASTER, State.BACKUP, State.FAULT):
            raise ValueError(f"a sync group cannot move its members to {self.state}")
        if not self.member:
            raise ValueError("a sync group change names the member that caused it")


@dataclass(frozen=True, slots=True, kw_only=True)
class Reconfigure:
    """A reload changed this instance's settings but not its identity on the wire
    (interface, VRID, family, version, interval, auth, addressing): see `live_change`."""

    spec: InstanceSpec


OperatorCommand = SetPriority | AdjustPriority | Release | Pause | Resume | SendGarp
Input = (
    Startup
    | Shutdown
    | TimerFired
    | AdvertReceived
    | LinkChanged
    | TrackChanged
    | SyncGroupChanged
    | Reconfigure
    | OperatorCommand
)
