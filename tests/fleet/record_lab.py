"""Records what a real Prometheus answers to the fleet's queries, before and after a node
dies, into tests/fleet/data/ (root: a namespace lab). The unit tests parse these files.

    python3 -m tests.fleet.record_lab
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from hatui.lab import Lab, unique_prefix
from tests.integration.fleetlab import record_answers, start_fleet_lab, state_of
from tests.integration.nodelab import wait_for

DATA = Path(__file__).parent / "data"


def main() -> None:
    DATA.mkdir(exist_ok=True)
    with Lab(unique_prefix("fr-")) as lab:
        fl = start_fleet_lab(lab)
        a, b = fl.targets[0], fl.targets[1]
        wait_for(lambda: state_of(fl, a) == 2.0 and state_of(fl, b) == 1.0, 30, "a MASTER")
        wait_for(lambda: fl.query('hatui_router_master{vrid="51"}'), 10, "the watcher's router")
        time.sleep(2)
        before = record_answers(fl)
        (DATA / "lab_before.json").write_text(json.dumps(before, indent=1, sort_keys=True) + "\n")
        fl.nodes["a"].proc.kill()
        wait_for(lambda: state_of(fl, b) == 2.0, 15, "b MASTER")
        wait_for(lambda: fl.query(f'up{{instance="{a}"}} == 0'), 10, "a down")
        time.sleep(2)
        after = record_answers(fl)
        (DATA / "lab_after.json").write_text(json.dumps(after, indent=1, sort_keys=True) + "\n")
        version = fl.api("/api/v1/status/buildinfo").get("data", {}).get("version", "?")
        print(f"recorded with Prometheus {version}")


if __name__ == "__main__":
    main()
