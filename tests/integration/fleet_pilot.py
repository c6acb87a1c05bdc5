"""Runs the fleet console under Pilot against a real Prometheus and prints what it shows
as JSON (the fleet test runs it inside Prometheus's namespace).

    python3 -m tests.integration.fleet_pilot URL [REFRESHES]
"""

from __future__ import annotations

import asyncio
import json
import sys

from textual.widgets import Static

from hatui.adapters.prometheus import Prometheus
from hatui.runtime.fleet import FleetPoller
from hatui.ui.fleet import AlertsTable, FleetApp, FleetRoutersTable, InstancesTable, NodesTable
from hatui.ui.widgets.tables import KeyedTable


def rows(table: KeyedTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def main(url: str, refreshes: int) -> None:
    app = FleetApp(FleetPoller(Prometheus(url, timeout=2)))
    async with app.run_test(size=(120, 36)) as pilot:
        while app.refreshes < refreshes:
            await pilot.pause(0.05)
        shown = {
            "header": str(app.query_one("#fleet-header", Static).render()),
            "status": str(app.query_one("#fleet-status", Static).render()),
            "alerts": rows(app.query_one(AlertsTable)),
            "instances": rows(app.query_one(InstancesTable)),
            "nodes": rows(app.query_one(NodesTable)),
            "routers": rows(app.query_one(FleetRoutersTable)),
        }
        await pilot.press("q")
    print(json.dumps(shown))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1))
