"""Random frame/tick sequences: the observer never raises and keeps its invariants."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hatui.codec.frames import Auth, Captured, Family, RejectReason
from hatui.observe.model import Status
from hatui.observe.observer import Observer
from hatui.observe.report import snapshot_to_json

from .factory import MS, T0, A, B, C, S, advert, arp, carp, mac_of, na, rejected

VIPS = ("192.0.2.100", "192.0.2.101")

adverts = st.builds(
    lambda src, vrid, prio, interval, version, vips, auth, mac_virtual: advert(
        src,
        vrid=vrid,
        priority=prio,
        interval_cs=interval,
        version=version,
        vips=vips,
        auth=auth,
        auth_data=b"pw\x00\x00\x00\x00\x00\x00" if auth is Auth.SIMPLE else b"",
        mac=f"00:00:5e:00:01:{vrid:02x}" if mac_virtual else None,
    ),
    st.sampled_from([A, B, C]),
    st.sampled_from([1, 2]),
    st.sampled_from([0, 1, 100, 150, 255]),
    st.sampled_from([100, 10, 200]),
    st.sampled_from([2, 3]),
    st.sampled_from([VIPS[:1], VIPS, ()]),
    st.sampled_from([Auth.NONE, Auth.SIMPLE]),
    st.booleans(),
)
others = st.one_of(
    st.builds(
        lambda ip, who, g: arp(ip, mac_of(who), gratuitous=g),
        st.sampled_from([*VIPS, "198.51.100.7"]),
        st.sampled_from([A, B, C, "192.0.2.66"]),
        st.booleans(),
    ),
    st.builds(lambda who: na("2001:db8::100", mac_of(who)), st.sampled_from([A, B])),
    st.builds(carp, st.integers(1, 3)),
    st.builds(rejected, st.sampled_from(list(RejectReason))),
)
frames = st.one_of(adverts, adverts, others)
# (delta µs, frame or None for a tick); small negative deltas: out-of-order stamps.
steps = st.lists(
    st.tuples(
        st.one_of(st.integers(-2 * MS, 2 * S), st.integers(0, 8 * S)),
        st.one_of(frames, st.none()),
    ),
    max_size=60,
)


def _check(obs: Observer, now: int) -> None:
    snap = obs.snapshot(now)  # type: ignore[arg-type]
    for r in snap.routers:
        assert r.status in set(Status)
        assert [s.ip for s in r.senders].count(r.master_ip) == 1  # exactly one master
        assert r.history[-1].until is None and r.history[-1].ip == r.master_ip
    c = snap.counters
    assert c.frames == c.vrrp + c.arp + c.nd + c.carp + sum(c.rejected.values())
    times = [e.time for e in snap.events]
    assert times == sorted(times)
    snapshot_to_json(snap)


@settings(max_examples=150)
@given(steps)
def test_random_sequences_keep_invariants(seq: list[tuple[int, Any]]) -> None:
    obs = Observer(event_limit=50, history_limit=4, sender_limit=2)
    t = T0
    for delta, frame in seq:
        t += delta
        if frame is None:
            obs.tick(t)  # type: ignore[arg-type]
        else:
            obs.feed(Captured(time=t, interface="eth0", frame=frame))  # type: ignore[arg-type]
        _check(obs, max(t, T0))


@settings(max_examples=100)
@given(steps, st.lists(st.integers(0, 100), max_size=60))
def test_ticks_do_not_change_what_is_reported(seq: list[tuple[int, Any]], where: list[int]) -> None:
    """Replay (no ticks) and live (ticks between frames) report the same events."""
    items = []
    t = T0
    for delta, frame in seq:
        t += abs(delta)
        if frame is not None:
            items.append(Captured(time=t, interface="eth0", frame=frame))  # type: ignore[arg-type]
    replay, live = Observer(), Observer()
    got_replay, got_live = [], []
    for i, item in enumerate(items):
        got_replay += replay.feed(item)
        got_live += live.feed(item)
        if i < len(where) and i + 1 < len(items):
            # A tick somewhere between this frame and the next.
            gap = items[i + 1].time - item.time
            got_live += live.tick(item.time + gap * where[i] // 100)  # type: ignore[arg-type]
    end = t + 60 * S
    got_replay += replay.tick(end)  # type: ignore[arg-type]
    got_live += live.tick(end)  # type: ignore[arg-type]
    assert got_live == got_replay
    assert replay.snapshot(end) == live.snapshot(end)  # type: ignore[arg-type]
    _ = Family
