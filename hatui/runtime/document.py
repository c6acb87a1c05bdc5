"""The live JSON document (docs/json.md): one builder for the headless output, the LAN
view and the console. The observer's snapshot (observe/report.py), plus the capture's own
counters when live and the local haproxy's last view when followed."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from hatui.haproxy.report import view_to_json
from hatui.observe.report import snapshot_to_json

if TYPE_CHECKING:  # types only: a console that reads a file or a socket loads no capture
    from hatui.haproxy.join import HaproxyView
    from hatui.observe.model import ObserverSnapshot
    from hatui.runtime.watch import CaptureStats


def live_document(
    snap: ObserverSnapshot,
    stats: CaptureStats | None = None,
    haproxy: HaproxyView | None = None,
    *,
    events: bool = True,
) -> dict[str, object]:
    """The document of `snap`; without `events` its event list is empty (a stream carries
    events separately)."""
    doc = snapshot_to_json(snap if events else replace(snap, events=()))
    if stats is not None:
        counters = doc.get("counters")
        if isinstance(counters, dict):
            counters["kernel_drops"] = stats.kernel_drops
            counters["observer_errors"] = stats.observer_errors
    if haproxy is not None:
        doc["haproxy"] = view_to_json(haproxy)
    return doc
