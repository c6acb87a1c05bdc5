"""Replay a capture file through the same codec and observer as live capture.

Time is the capture's: a file replays to the result live capture gave.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hatui.adapters.pcap import LINKTYPE_ETHERNET, PcapReader, ethernet_frame
from hatui.codec.decode import decode
from hatui.codec.frames import Captured, Frame, Rejected
from hatui.observe.events import Event
from hatui.observe.model import ObserverSnapshot
from hatui.observe.observer import Observer
from hatui.types import WallUs

REPLAY_INTERFACE = "pcap"  # a capture file does not say which interface it came from

# Captured's generated __init__ (frozen, keyword-only) costs about as much as decoding a
# memoised frame; the replay loop fills the three slots directly instead. Same object.
_NEW = Captured.__new__
_SET_TIME = Captured.__dict__["time"].__set__
_SET_INTERFACE = Captured.__dict__["interface"].__set__
_SET_FRAME = Captured.__dict__["frame"].__set__


def captured(time: WallUs, interface: str, frame: Frame | Rejected) -> Captured:
    """Captured(time=time, interface=interface, frame=frame), built without __init__."""
    item = _NEW(Captured)
    _SET_TIME(item, time)
    _SET_INTERFACE(item, interface)
    _SET_FRAME(item, frame)
    return item


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
    feed = obs.feed
    last = 0
    reader = PcapReader(path)
    new, set_time, set_interface, set_frame = _NEW, _SET_TIME, _SET_INTERFACE, _SET_FRAME
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
            item = new(Captured)  # captured(), inlined: this loop runs once per record
            set_time(item, stamp)
            set_interface(item, interface)
            set_frame(item, frame)
            events = feed(item)
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
