"""The VIP series (runtime/lanmetrics.py) for a VIP that moved and then had two answerers."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from hatui.runtime.lanmetrics import LanCounters, lan_data, lan_exposition
from tests.observe.factory import MS, S, at
from tests.observe.test_vips import (
    CLIENT_MAC,
    IP_B,
    MAC_A,
    MAC_B,
    VIP,
    Lan,
    garp,
    reply,
    request,
)


def _samples(text: bytes) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for fam in text_string_to_metric_families(text.decode()):
        for s in fam.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def test_owner_info_gap_and_conflict_series() -> None:
    lan = Lan(vips=["192.0.2.99"])  # listed but never heard: no series
    lan.feed(0, garp(VIP, MAC_A))
    lan.feed(2 * S, request("192.0.2.1", MAC_B, IP_B))
    lan.feed(2_500 * MS, garp(VIP, MAC_B))
    got = _samples(lan_exposition(lan_data(lan.obs.snapshot(at(3 * S)), LanCounters(), 0)))
    assert got["hatui_vip_owner_info"] == [
        ({"interface": "eth0", "vip": VIP, "mac": MAC_B, "ip": IP_B}, 1.0)
    ]
    assert got["hatui_vip_conflict"] == [({"interface": "eth0", "vip": VIP}, 0.0)]
    assert got["hatui_vip_last_move_gap_seconds"] == [({"interface": "eth0", "vip": VIP}, 2.5)]
    assert got["hatui_vip_moves_total"] == [({"interface": "eth0", "vip": VIP}, 1.0)]
    for i in range(4):  # both answer every request
        t = 3 * S + i * 100 * MS
        lan.feed(t, request(VIP))
        lan.feed(t + 10, reply(VIP, MAC_A))
        lan.feed(t + 20, reply(VIP, MAC_B))
    got = _samples(lan_exposition(lan_data(lan.obs.snapshot(at(4 * S)), LanCounters(), 0)))
    assert got["hatui_vip_conflict"] == [({"interface": "eth0", "vip": VIP}, 1.0)]
    assert CLIENT_MAC not in str(got["hatui_vip_owner_info"])
