"""Successive polls folded into the current view and the events between them."""

from __future__ import annotations

from hatui.haproxy.events import HaproxyEvent, changes
from hatui.haproxy.join import HaproxyView, Outcome, VipHolder, assess


class Tracker:
    """Keeps the last view; each update returns what changed since it."""

    def __init__(self) -> None:
        self.view: HaproxyView | None = None

    def update(
        self,
        *,
        socket: str,
        time_us: int,
        outcome: Outcome,
        local: frozenset[str],
        holders: tuple[VipHolder, ...],
    ) -> list[HaproxyEvent]:
        view = assess(socket=socket, time_us=time_us, outcome=outcome, local=local, holders=holders)
        events = changes(self.view, view)
        self.view = view
        return events
