"""The observer fed mutated captures: flipped bytes, cuts, drops, duplicates, reordering, and
timestamps that jump back. It must never raise, and its report must stay a valid document.

The base stream is a keepalived-shaped VRRPv3 failover (adverts, GARP bursts, a priority 0
release, a takeover) built with the codec's frame builders, which tests/codec checks
against scapy. tests/codec/test_fuzz.py fuzzes decode alone; tests/observe/test_properties.py
feeds the observer well-formed random frames; this joins the two.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from hatui.codec.build import build_garp_frame, build_vrrp_frame
from hatui.codec.decode import decode
from hatui.codec.frames import Captured
from hatui.observe.observer import Observer
from hatui.observe.report import snapshot_to_json
from hatui.types import WallUs

A = ("02:00:00:00:00:0b", "192.0.2.11")
B = ("02:00:00:00:00:0c", "192.0.2.12")
VIP = "192.0.2.100"
T0 = 1_700_000_000_000_000


def failover_capture() -> list[tuple[int, bytes]]:
    """(µs, frame): a master at 150, a backup taking over on release, GARPs each time."""
    out: list[tuple[int, bytes]] = []
    t = T0
    for mac, _ip in (A,):
        out += [(t + i * 1000, build_garp_frame(mac=mac, ip=VIP)) for i in range(5)]
    for _ in range(20):
        t += 100_000
        out.append(
            (
                t,
                build_vrrp_frame(
                    src_mac=A[0],
                    src_ip=A[1],
                    vrid=51,
                    priority=150,
                    interval_cs=10,
                    addresses=[VIP],
                ),
            )
        )
    t += 50_000
    out.append(
        (
            t,
            build_vrrp_frame(
                src_mac=A[0], src_ip=A[1], vrid=51, priority=0, interval_cs=10, addresses=[VIP]
            ),
        )
    )
    t += 61_000
    out += [(t + i * 1000, build_garp_frame(mac=B[0], ip=VIP)) for i in range(5)]
    for _ in range(20):
        t += 100_000
        out.append(
            (
                t,
                build_vrrp_frame(
                    src_mac=B[0],
                    src_ip=B[1],
                    vrid=51,
                    priority=100,
                    interval_cs=10,
                    addresses=[VIP],
                ),
            )
        )
    return out


BASE = failover_capture()


@st.composite
def mutated_capture(draw: st.DrawFn) -> list[tuple[int, bytes]]:
    frames = list(BASE)
    for _ in range(draw(st.integers(0, 12))):
        op = draw(st.sampled_from(["flip", "cut", "drop", "dup", "swap", "time", "extend"]))
        i = draw(st.integers(0, len(frames) - 1))
        t, data = frames[i]
        if op == "flip" and data:
            j = draw(st.integers(0, len(data) - 1))
            data = data[:j] + bytes([data[j] ^ draw(st.integers(1, 255))]) + data[j + 1 :]
            frames[i] = (t, data)
        elif op == "cut":
            frames[i] = (t, data[: draw(st.integers(0, len(data)))])
        elif op == "drop" and len(frames) > 1:
            del frames[i]
        elif op == "dup":
            frames.insert(i, (t, data))
        elif op == "swap":
            k = draw(st.integers(0, len(frames) - 1))
            frames[i], frames[k] = frames[k], frames[i]
        elif op == "time":
            frames[i] = (t + draw(st.integers(-3_600_000_000, 3_600_000_000)), data)
        elif op == "extend":
            frames[i] = (t, data + draw(st.binary(max_size=64)))
    return frames


def run(frames: list[tuple[int, bytes]]) -> dict[str, object]:
    obs = Observer()
    fed = 0
    last = T0
    for t, data in frames:
        frame = decode(data)
        if frame is None:
            continue
        fed += 1
        obs.feed(Captured(time=WallUs(t), interface="eth0", frame=frame))
        last = max(last, t)
        obs.tick(WallUs(last))
    doc = snapshot_to_json(obs.snapshot(WallUs(last + 5_000_000)))
    json.dumps(doc)  # a valid JSON document, whatever came in
    counters = doc["counters"]
    assert isinstance(counters, dict)
    assert counters["frames"] == fed, (counters, fed)
    return doc


def test_the_unmutated_capture_reads_as_one_failover() -> None:
    doc = run(BASE)
    (fo,) = doc["failovers"]  # type: ignore[misc]
    assert (fo["from"], fo["to"], fo["cause"]) == (A[1], B[1], "release")


@settings(max_examples=150)
@given(mutated_capture())
def test_mutated_captures_never_break_the_observer(frames: list[tuple[int, bytes]]) -> None:
    doc = run(frames)
    for router in doc["routers"]:  # type: ignore[attr-defined]
        assert 1 <= router["vrid"] <= 255
        assert router["status"] in ("ok", "stale", "split_brain", "mismatch")
