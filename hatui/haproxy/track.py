"""Successive polls folded into the current view and the events between them."""

from __future__ import annotations

from dataclasses import replace

from hatui.haproxy.events import UNREACHABLE, HaproxyEvent, changes
from hatui.haproxy.join import HaproxyView, Outcome, Unreached, VipHolder, assess


class Tracker:
    """Keeps the last view; each update returns what changed since it."""

    def __init__(self) -> None:
        self.view: HaproxyView | None = None
        self._inputs: tuple[str, Outcome, frozenset[str], tuple[VipHolder, ...]] | None = None
        self._hinted = False

    def update(
        self,
        *,
        socket: str,
        time_us: int,
        outcome: Outcome,
        local: frozenset[str],
        holders: tuple[VipHolder, ...],
    ) -> list[HaproxyEvent]:
        # A serving node polls once a second beside 255 VIPs, mostly with nothing changed:
        # the same inputs make the same view (at the new time) and no events, without
        # the 255 alerts built again on the node's loop.
        inputs = (socket, outcome, local, holders)
        if self.view is not None and inputs == self._inputs:
            self.view = replace(self.view, time_us=time_us)
            return []
        view = assess(socket=socket, time_us=time_us, outcome=outcome, local=local, holders=holders)
        events = changes(self.view, view)
        self.view = view
        self._inputs = inputs
        return self._hint(events, outcome)

    def _hint(self, events: list[HaproxyEvent], outcome: Outcome) -> list[HaproxyEvent]:
        """The first haproxy_unreachable says how to silence it (`--haproxy none` on a host
        with the package installed and no haproxy meant to run); later ones need not."""
        if self._hinted or not isinstance(outcome, Unreached) or not outcome.hint:
            return events
        out = []
        for ev in events:
            if ev.kind == UNREACHABLE and not self._hinted:
                self._hinted = True
                ev = replace(ev, detail=f"{ev.detail} ({outcome.hint})")
            out.append(ev)
        return out
