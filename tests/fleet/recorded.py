"""The answers a real Prometheus 2.42 gave the fleet's queries in a namespace lab
(tests/fleet/record_lab.py): nodes a 192.0.2.11 (priority 150) and b 192.0.2.12 (100) for
VRID 51 with VIP 192.0.2.100, a watcher at 192.0.2.9; `after`: a was SIGKILLed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
A, B, WATCHER = "192.0.2.11:9650", "192.0.2.12:9650", "192.0.2.9:9651"


def answers(name: str) -> dict[str, Any]:
    """A fresh copy of `before` or `after` (tests may edit it)."""
    return copy.deepcopy(json.loads((DATA / f"lab_{name}.json").read_text()))


def set_value(results: list[dict[str, Any]], value: str, **labels: str) -> int:
    """Set the value of every sample whose labels include `labels`; how many matched."""
    hit = 0
    for sample in results:
        if all(sample["metric"].get(k) == v for k, v in labels.items()):
            sample["value"][1] = value
            hit += 1
    return hit
