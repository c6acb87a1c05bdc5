"""Runs the fleet console under Pilot against a real Prometheus and prints what it shows
as JSON (the fleet test runs it inside Prometheus's namespace).

    python3 -m tests.integration.fleet_pilot URL [REFRESHES [READY_FILE]]

With READY_FILE: after REFRESHES refreshes it prints what it shows, creates READY_FILE
and goes on refreshing until a refresh fails, then prints what it shows again.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from textual.widgets import Static

from hatui.adapters.prometheus import Prometheus
from hatui.runtime.fleet import FleetPoller
from hatui.ui.fleet import AlertsTable, FleetApp, FleetRoutersTable, InstancesTable, NodesTable
from hatui.ui.widgets.tables import KeyedTable


def rows(table: KeyedTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def shown(app: FleetApp) -> dict[str, Any]:
    return {
        "header": str(app.query_one("#fleet-header", Static).render()),
        "status": str(app.query_one("#fleet-status", Static).render()),
        "stale": app.query_one("#fleet-status").has_class("-stale"),
        "alerts": rows(app.query_one(AlertsTable)),
        "instances": rows(app.query_one(InstancesTable)),
        "nodes": rows(app.query_one(NodesTable)),
        "routers": rows(app.query_one(FleetRoutersTable)),
    }


async def main(url: str, refreshes: int, ready: Path | None) -> None:
    app = FleetApp(FleetPoller(Prometheus(url, timeout=2)))
    async with app.run_test(size=(120, 36)) as pilot:
        while app.refreshes < refreshes:
            await pilot.pause(0.05)
        print(json.dumps(shown(app)), flush=True)
        if ready is not None:
            ready.touch()
            while not app.state.stale:
                await pilot.pause(0.05)
            await pilot.pause()
            print(json.dumps(shown(app)), flush=True)
        await pilot.press("q")


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(
        main(
            args[0], int(args[1]) if len(args) > 1 else 1, Path(args[2]) if len(args) > 2 else None
        )
    )
