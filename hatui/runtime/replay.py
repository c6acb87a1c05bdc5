"""Replay a capture file through the same codec and observer as live capture.

Time is the capture's: a file replays to the result live capture gave.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hatui.adapters.pcap import LINKTYPE_ETHERNET, PcapReader, ethernet_frame
from hatui.codec.decode import decode
from hatui.observe.events import Event
from hatui.observe.model import ObserverSnapshot
from hatui.observe.observer import Observer
from hatui.types import WallUs

REPLAY_INTERFACE = "pcap"  # a capture file does not say which interface it came from


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayResult:
    snapshot: ObserverSnapshot
    records: int  # every record in the file, relevant or not
    truncated: bool  # the file ends inside a record (tcpdump killed mid-write)


def replay(
    path: str,
    *,
    observer: Observer | None = None,
    on_events: Callable[[Sequence[Event]], None] | None = None,
    interface: str = REPLAY_INTERFACE,
) -> ReplayResult:
    """Feed every record of `path` to an observer; the snapshot is taken at the last stamp."""
    obs = observer or Observer()
    feed = obs.feed_frame  # no Captured wrapper per record: this loop is the hot path
    last = 0
    reader = PcapReader(path)
    try:
        for record in reader:
            stamp, data, linktype = record
            if linktype != LINKTYPE_ETHERNET:
                cooked = ethernet_frame(record)
                if cooked is None:
                    continue
                data = cooked
            frame = decode(data)
            last = stamp
            if frame is None:
                continue
            events = feed(stamp, interface, frame)
            if events and on_events is not None:
                on_events(events)
        tail = obs.tick(WallUs(last))
        if tail and on_events is not None:
            on_events(tail)
        return ReplayResult(
            snapshot=obs.snapshot(WallUs(last)),
            records=reader.records,
            truncated=reader.truncated,
        )
    finally:
        reader.close()
