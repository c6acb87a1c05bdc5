"""The fleet console under Pilot, over answers a real Prometheus gave (tests/fleet/data):
tables fill and update in place, a failed refresh keeps the view marked stale."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from hatui.fleet.parse import fleet_view
from hatui.runtime.fleet import FleetState
from hatui.ui.fleet import AlertsTable, FleetApp, InstancesTable, NodesTable
from hatui.ui.widgets.tables import KeyedTable
from tests.fleet.recorded import A, B, answers

SIZE = (110, 32)


class Recorded:
    """Refreshes from recorded answers, then a failure line once they run out."""

    url = "http://127.0.0.1:9090"

    def __init__(self, *names: str) -> None:
        self.names = list(names)
        self.last = FleetState(view=None)

    def interval(self) -> float:
        return 0.01

    def refresh(self) -> FleetState:
        if self.names:
            view = fleet_view(answers(self.names.pop(0)), 1.0)
            self.last = FleetState(view=view, queries=7, elapsed_s=0.004)
        else:
            self.last = FleetState(view=self.last.view, error=f"Prometheus at {self.url}: "
                                   "connection refused")  # fmt: skip
        return self.last


def rows(table: KeyedTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def text(app: FleetApp, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


async def test_the_console_follows_a_failover_then_keeps_the_view_when_prometheus_goes() -> None:
    app = FleetApp(Recorded("before"))
    app.source.interval = lambda: 3600.0  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        while app.refreshes < 1:
            await pilot.pause(0.01)
        instances = app.query_one(InstancesTable)
        first: Any = rows(instances)
        assert [(r[2], r[3], r[4]) for r in first] == [(A, "MASTER", "150"), (B, "BACKUP", "100")]
        assert app.query_one(AlertsTable).row_count == 0
        assert "3 nodes" in text(app, "#fleet-header") and "0 alerts" in text(app, "#fleet-header")
        # The next refreshes, by hand: a was killed; then Prometheus went away.
        app.source.names.append("after")  # type: ignore[attr-defined]
        app.show(app.source.refresh())
        await pilot.pause()
        after = {r[2]: r for r in rows(instances)}
        assert after[A][3] == "MASTER (down)" and after[B][3] == "MASTER"
        alerts = rows(app.query_one(AlertsTable))
        assert [r[1] for r in alerts] == ["down_holding_vip", "no_backup", "failover"]
        assert rows(app.query_one(NodesTable))[0][:2] == [A, "DOWN"]  # down nodes first
        assert "1 down" in text(app, "#fleet-header")
        app.show(app.source.refresh())
        await pilot.pause()
        status = text(app, "#fleet-status")
        assert status == (
            "stale: Prometheus at http://127.0.0.1:9090: connection refused, "
            "showing the last good view"
        )
        assert app.query_one("#fleet-status").has_class("-stale")
        assert {r[2]: r[3] for r in rows(instances)} == {A: "MASTER (down)", B: "MASTER"}
        await pilot.press("q")
    assert app.return_code == 0


async def test_no_answer_yet_says_so_and_shows_nothing() -> None:
    app = FleetApp(Recorded())
    async with app.run_test(size=SIZE) as pilot:
        while app.refreshes < 1:
            await pilot.pause(0.01)
        assert text(app, "#fleet-status").startswith("stale: Prometheus at")
        assert app.query_one(InstancesTable).row_count == 0
        assert "connecting" in text(app, "#fleet-header")


async def test_rows_are_updated_in_place() -> None:
    app = FleetApp(Recorded("before", "before", "after"))
    app.source.interval = lambda: 3600.0  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        while app.refreshes < 1:
            await pilot.pause(0.01)
        table = app.query_one(InstancesTable)
        built = {key: id(cells) for key, cells in table._cells.items()}
        app.show(app.source.refresh())  # the same answers again: no row is rebuilt
        await pilot.pause()
        assert {key: id(cells) for key, cells in table._cells.items()} == built
        app.show(app.source.refresh())  # a was killed: both rows change, in place
        await pilot.pause()
        rebuilt = [key for key, cells in table._cells.items() if id(cells) != built[key]]
        assert sorted(k.split("/")[1] for k in rebuilt) == [A, B]  # both rows changed
