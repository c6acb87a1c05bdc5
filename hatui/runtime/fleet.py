"""The fleet's refresh: the queries of one refresh, the view, and the last good view kept
(marked stale) while Prometheus is slow, refusing or unreachable."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from hatui.adapters.prometheus import Prometheus, PrometheusError
from hatui.fleet.model import FleetView
from hatui.fleet.parse import fleet_view
from hatui.fleet.queries import Query, fleet_queries


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetState:
    """What the console shows: the last good view, and whether the last refresh failed."""

    view: FleetView | None
    error: str = ""  # one line; the view (if any) is then stale
    queries: int = 0
    elapsed_s: float = 0.0

    @property
    def stale(self) -> bool:
        return bool(self.error)


class FleetPoller:
    """Blocking refreshes (the console runs them in a thread)."""

    def __init__(self, prometheus: Prometheus, match: str = "") -> None:
        self.prometheus = prometheus
        self.queries: tuple[Query, ...] = fleet_queries(match)
        self.state = FleetState(view=None)

    @property
    def url(self) -> str:
        return self.prometheus.url

    def interval(self) -> float:
        """Seconds between refreshes: the server's scrape interval."""
        return self.prometheus.scrape_interval()

    def refresh(self) -> FleetState:
        try:
            answers = self.prometheus.ask(self.queries)
        except PrometheusError as exc:
            self.state = replace(self.state, error=str(exc))
            return self.state
        view = fleet_view(answers.results, time.time())
        self.state = FleetState(view=view, queries=answers.queries, elapsed_s=answers.elapsed_s)
        return self.state
