"""The observer: a pure model of the virtual routers the wire shows."""

from hatui.observe.events import Cause, Event, EventKind
from hatui.observe.model import ObserverSnapshot, Status
from hatui.observe.observer import Observer
from hatui.observe.report import event_to_json, snapshot_to_json

__all__ = [
    "Cause",
    "Event",
    "EventKind",
    "Observer",
    "ObserverSnapshot",
    "Status",
    "event_to_json",
    "snapshot_to_json",
]
