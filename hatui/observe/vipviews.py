"""What the VIP ledger (observe/vips.py) shows: each VIP, its owner, last move and conflict."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hatui.types import WallUs


class VipSource(StrEnum):
    """Why an address counts as a VIP; when several apply the first listed wins."""

    ADVERT = "advert"
    LISTED = "listed"
    ANNOUNCED = "announced"


@dataclass(frozen=True, slots=True, kw_only=True)
class VipMove:
    """One change of the MAC that holds a VIP: `gap_us` is how long nobody answered."""

    time: WallUs
    from_mac: str
    to_mac: str
    gap_us: int
    announced: bool  # the new owner announced itself (else it answered a request)


@dataclass(frozen=True, slots=True, kw_only=True)
class VipConflictView:
    """Two MACs answering for one VIP: each one's last word, since when."""

    macs: tuple[str, str]
    ips: tuple[str | None, str | None]  # each MAC's own address, as heard
    last: tuple[WallUs, WallUs]
    since: WallUs


@dataclass(frozen=True, slots=True, kw_only=True)
class VipView:
    """One VIP: its owner (MAC and that MAC's own address), activity, last move, conflict."""

    interface: str
    ip: str
    source: VipSource
    why: str
    found: WallUs | None  # when the wire made it a VIP (None: named before any frame)
    mac: str | None
    owner_ip: str | None
    since: WallUs | None
    announcements: int
    last_announcement: WallUs | None
    requests: int
    last_request: WallUs | None
    answers: int
    last_answer: WallUs | None
    last_answer_mac: str | None
    moves: int
    last_move: VipMove | None
    conflict: VipConflictView | None


def listed_view(ip: str) -> VipView:
    """A listed VIP no frame has spoken for yet."""
    return VipView(
        interface="",
        ip=ip,
        source=VipSource.LISTED,
        why="listed with --vip/--vips",
        found=None,
        mac=None,
        owner_ip=None,
        since=None,
        announcements=0,
        last_announcement=None,
        requests=0,
        last_request=None,
        answers=0,
        last_answer=None,
        last_answer_mac=None,
        moves=0,
        last_move=None,
        conflict=None,
    )
