"""VIPs from ARP and ND alone (observe/vips.py): frames built by scapy, decoded by our codec,
fed to the observer at scripted times."""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP
from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, IPv6
from scapy.layers.l2 import ARP, Ether
from scapy.layers.vrrp import VRRP

from hatui.codec.decode import clear_cache, decode
from hatui.observe.events import Event, VipConflict, VipEvent
from hatui.observe.observer import Observer
from hatui.observe.report import snapshot_to_json
from hatui.observe.vipviews import VipSource, VipView

from .factory import MS, S, at

IF = "eth0"
VIP = "192.0.2.60"
VIP6 = "2001:db8::60"
BCAST = "ff:ff:ff:ff:ff:ff"
MAC_A, MAC_B, MAC_C = "02:00:00:00:00:0b", "02:00:00:00:00:0c", "02:00:00:00:00:0d"
IP_A, IP_B, IP_C = "192.0.2.11", "192.0.2.12", "192.0.2.13"
CLIENT_MAC, CLIENT_IP = "02:00:00:00:00:0e", "192.0.2.14"


@pytest.fixture(autouse=True)
def _cold() -> None:
    clear_cache()


def garp(ip: str, mac: str, *, reply: bool = False) -> bytes:
    """A gratuitous ARP: request form (arping -U) or reply form (arping -A)."""
    op = 2 if reply else 1
    return bytes(Ether(src=mac, dst=BCAST) / ARP(op=op, hwsrc=mac, psrc=ip, hwdst=BCAST, pdst=ip))


def request(target: str, mac: str = CLIENT_MAC, src: str = CLIENT_IP) -> bytes:
    return bytes(
        Ether(src=mac, dst=BCAST)
        / ARP(op=1, hwsrc=mac, psrc=src, hwdst="00:00:00:00:00:00", pdst=target)
    )


def reply(ip: str, mac: str) -> bytes:
    return bytes(
        Ether(src=mac, dst=CLIENT_MAC)
        / ARP(op=2, hwsrc=mac, psrc=ip, hwdst=CLIENT_MAC, pdst=CLIENT_IP)
    )


def na(target: str, mac: str, *, solicited: bool = False, override: bool = True) -> bytes:
    dst = "2001:db8::14" if solicited else "ff02::1"
    return bytes(
        Ether(src=mac, dst="33:33:00:00:00:01")
        / IPv6(src=target, dst=dst, hlim=255)
        / ICMPv6ND_NA(tgt=target, S=int(solicited), O=int(override), R=0)
        / ICMPv6NDOptDstLLAddr(lladdr=mac)
    )


def advert(src: str, mac: str, vip: str, priority: int = 150) -> bytes:
    return bytes(
        Ether(src=mac, dst="01:00:5e:00:00:12")
        / IP(src=src, dst="224.0.0.18", ttl=255, proto=112)
        / VRRP(vrid=51, priority=priority, addrlist=[vip], ipcount=1)
    )


class Lan:
    """An observer fed scapy's frames at scripted times (microseconds after T0)."""

    def __init__(self, **kw: object) -> None:
        self.obs = Observer(**kw)  # type: ignore[arg-type]
        self.events: list[Event] = []

    def feed(self, t: int, data: bytes) -> list[Event]:
        frame = decode(data)
        assert frame is not None
        out = self.obs.feed_frame(at(t), IF, frame)  # type: ignore[arg-type]
        self.events += out
        return out

    def kinds(self) -> list[str]:
        return [str(e.kind) for e in self.events]

    def vip(self, ip: str = VIP) -> VipView | None:
        rows = [v for v in self.obs.snapshot(at(0)).vips if v.ip == ip]
        return rows[0] if rows else None

    def arp(self, ip: str = VIP) -> tuple[bool, str | None]:
        (a,) = [a for a in self.obs.snapshot(at(0)).arp if a.ip == ip]
        return a.vip, a.source


def test_a_hosts_boot_announcements_stay_ordinary() -> None:
    """RFC 5227 2.3: two announcements 2 s apart, then answers: no VIP, for 300 hosts."""
    lan = Lan()
    for h in range(300):
        ip, mac = f"198.51.100.{h % 250}", f"02:00:00:aa:{h // 250:02x}:{h % 250:02x}"
        if h >= 250:
            ip = f"192.0.2.{h - 250 + 150}"
        lan.feed(h * MS, garp(ip, mac))
        lan.feed(2 * S + h * MS, garp(ip, mac))
        lan.feed(3 * S + h * MS, request(ip))
        lan.feed(3 * S + h * MS + 100, reply(ip, mac))
    assert lan.obs.snapshot(at(0)).vips == ()
    assert "vip_announced" not in lan.kinds()
    # ... and a reboot an hour later starts a new run: still ordinary.
    lan.feed(3600 * S, garp("198.51.100.1", "02:00:00:00:00:01"))
    lan.feed(3602 * S, garp("198.51.100.1", "02:00:00:00:00:01"))
    assert lan.obs.snapshot(at(0)).vips == ()


def test_periodic_garp_makes_a_vip_at_the_third_over_4_5_s() -> None:
    """kube-vip: a gratuitous ARP every 3 s from the leader."""
    lan = Lan()
    lan.feed(0, garp(VIP, MAC_A))
    lan.feed(3 * S, garp(VIP, MAC_A, reply=True))
    assert lan.vip() is None
    assert lan.arp() == (False, None)
    lan.feed(6 * S, garp(VIP, MAC_A))
    v = lan.vip()
    assert v is not None
    assert (v.source, v.mac, v.announcements, v.moves) == (VipSource.ANNOUNCED, MAC_A, 3, 0)
    assert v.since == at(0)
    assert lan.kinds() == ["vip_announced"]
    assert lan.arp() == (True, "announced")


def test_a_new_mac_announcing_moves_the_vip_with_the_gap() -> None:
    """kube-vip/MetalLB leader change: A held it (one GARP, answers), B announces it."""
    lan = Lan()
    lan.feed(0, garp(VIP, MAC_A))
    for i in range(1, 11):
        lan.feed(i * 200 * MS, request(VIP))
        lan.feed(i * 200 * MS + 300, reply(VIP, MAC_A))
    last_a = 2 * S + 300
    lan.feed(3 * S, request(VIP))  # unanswered: A is gone
    lan.feed(3_400 * MS, garp(VIP, MAC_B))
    assert lan.kinds() == ["vip_announced", "arp_owner_change"]
    move = lan.events[-1]
    assert isinstance(move, VipEvent)
    assert (move.old_mac, move.mac, move.gap_us, move.source) == (
        MAC_A,
        MAC_B,
        3_400 * MS - last_a,
        "announced",
    )
    lan.feed(3_600 * MS, request(VIP))
    lan.feed(3_600 * MS + 300, reply(VIP, MAC_B))
    v = lan.vip()
    assert v is not None and v.last_move is not None
    assert (v.mac, v.since, v.moves, v.last_move.gap_us) == (MAC_B, at(3_400 * MS), 1, move.gap_us)
    # Requests count from the moment it is a VIP: the one at 3.6 s.
    assert (v.last_answer_mac, v.last_request, v.requests) == (MAC_B, at(3_600 * MS), 1)
    doc = snapshot_to_json(lan.obs.snapshot(at(4 * S)))
    (row,) = doc["vips"]  # type: ignore[misc]
    assert row["last_move"]["gap_ms"] == pytest.approx((3_400 * MS - last_a) / 1000)
    (ev,) = [e for e in doc["events"] if e["kind"] == "arp_owner_change"]  # type: ignore[attr-defined]
    assert ev["gap_ms"] == row["last_move"]["gap_ms"]


def test_a_new_holder_that_answers_before_it_announces_moved_it() -> None:
    """The new node's kernel answers a request before its own GARP is out: the move dates
    from its first answer, and the gap runs to it."""
    lan = Lan()
    lan.feed(0, garp(VIP, MAC_A))
    lan.feed(200 * MS, request(VIP))
    lan.feed(200 * MS + 100, reply(VIP, MAC_A))
    lan.feed(1_400 * MS, request(VIP))
    lan.feed(1_400 * MS + 100, reply(VIP, MAC_B))  # B answers first ...
    assert lan.vip() is None
    lan.feed(1_500 * MS, garp(VIP, MAC_B))  # ... then announces
    assert lan.kinds() == ["vip_announced", "arp_owner_change"]
    v = lan.vip()
    assert v is not None and v.last_move is not None
    assert (v.last_move.time, v.last_move.gap_us, v.last_move.announced) == (
        at(1_400 * MS + 100),
        1_200 * MS,
        False,
    )
    assert (v.since, v.mac, v.moves) == (at(1_400 * MS + 100), MAC_B, 1)


def test_an_old_announcement_by_another_mac_is_reuse_not_a_move() -> None:
    lan = Lan()
    lan.feed(0, garp(VIP, MAC_A))
    lan.feed(301 * S, garp(VIP, MAC_B))
    assert lan.vip() is None
    # B, now the address's only holder, announces it every 3 s: a VIP, and no move (A's
    # last word is older than the move window).
    lan.feed(304 * S, garp(VIP, MAC_B))
    lan.feed(307 * S, garp(VIP, MAC_B))
    v = lan.vip()
    assert v is not None and (v.moves, v.mac) == (0, MAC_B)
    assert lan.kinds() == ["vip_announced"]


def test_secondary_address_announced_then_answered_is_a_vip_with_its_owner_ip() -> None:
    """MetalLB: the node (own address 192.0.2.13, heard in its requests) sends one GARP for
    the service address, then only answers requests."""
    lan = Lan()
    lan.feed(0, garp(VIP, MAC_C))
    lan.feed(100 * MS, request(VIP))
    lan.feed(100 * MS + 200, reply(VIP, MAC_C))
    assert lan.vip() is None  # the MAC's own address is not known yet: could be a boot
    lan.feed(S, request("192.0.2.1", MAC_C, IP_C))  # the node asks for its gateway
    lan.feed(2 * S, request(VIP))
    lan.feed(2 * S + 200, reply(VIP, MAC_C))
    v = lan.vip()
    assert v is not None
    assert (v.source, v.mac, v.owner_ip) == (VipSource.ANNOUNCED, MAC_C, IP_C)
    assert "192.0.2.13" in v.why
    # A host announcing its own address (the sender of its requests) is no VIP.
    lan.feed(3 * S, request("192.0.2.1", MAC_A, IP_A))
    lan.feed(4 * S, garp(IP_A, MAC_A))
    lan.feed(5 * S, reply(IP_A, MAC_A))
    assert lan.vip(IP_A) is None


def test_conflict_raised_named_and_cleared() -> None:
    """kube-vip#277: two nodes answer every request; then one lets go."""
    lan = Lan()
    lan.feed(0, garp(VIP, MAC_A))
    lan.feed(5 * S, garp(VIP, MAC_B))  # a move (VIP now)
    lan.feed(10 * S, garp(VIP, MAC_A))  # A takes it again without B letting go
    t = 10 * S
    for i in range(1, 6):
        t = 10 * S + i * 200 * MS
        lan.feed(t, request(VIP))
        lan.feed(t + 100, reply(VIP, MAC_A))
        lan.feed(t + 200, reply(VIP, MAC_B))
    conflicts = [e for e in lan.events if str(e.kind) == "vip_conflict"]
    assert len(conflicts) == 1
    c = conflicts[0]
    assert isinstance(c, VipConflict)
    assert set(c.macs) == {MAC_A, MAC_B}
    # The first request both answer.
    assert c.time == at(10 * S + 200 * MS + 200)
    v = lan.vip()
    assert v is not None and v.conflict is not None
    assert set(v.conflict.macs) == {MAC_A, MAC_B}
    assert dict(zip(v.conflict.macs, v.conflict.last, strict=True)) == {
        MAC_A: at(t + 100),
        MAC_B: at(t + 200),
    }
    moves_before = v.moves
    # B lets go: A alone answers; 5 s later the conflict clears.
    for i in range(1, 30):
        u = t + i * 200 * MS
        lan.feed(u, request(VIP))
        lan.feed(u + 100, reply(VIP, MAC_A))
    cleared = [e for e in lan.events if str(e.kind) == "vip_conflict_cleared"]
    assert len(cleared) == 1
    assert cleared[0].time - at(t + 200) > 5 * S
    assert cleared[0].time - at(t + 200) <= 5 * S + 200 * MS
    v = lan.vip()
    assert v is not None and v.conflict is None and v.mac == MAC_A
    assert v.moves == moves_before  # flips during the conflict are not moves


def test_two_announcers_conflict_from_announcements_alone() -> None:
    """Two kube-vip leaders seen through a switch (no answers reach the observer): their
    periodic GARPs interleave; four owner flips within 10 s are a conflict. The moves back
    and forth before it are forgotten by the view (they were its first signs)."""
    lan = Lan()
    for i in range(4):
        lan.feed(i * 3 * S, garp(VIP, MAC_A))
    v = lan.vip()
    assert v is not None and v.moves == 0
    for i in range(3):
        lan.feed(10 * S + i * 3 * S, garp(VIP, MAC_B))
        lan.feed(11_500 * MS + i * 3 * S, garp(VIP, MAC_A))
    kinds = lan.kinds()
    assert kinds.count("vip_conflict") == 1
    # B at 10 s (a move), A at 11.5 s and B at 13 s (moves back and forth), A at 14.5 s.
    (c,) = [e for e in lan.events if str(e.kind) == "vip_conflict"]
    assert c.time == at(14_500 * MS)
    assert lan.kinds().count("arp_owner_change") == 3
    v = lan.vip()
    assert v is not None and v.conflict is not None and v.last_move is not None
    assert (v.moves, v.last_move.to_mac) == (1, MAC_B)


def test_a_failover_and_fast_failbacks_are_no_conflict() -> None:
    """B for a moment at start-up, A (preempt), B (A stopped): three flips in a second."""
    lan = Lan()
    lan.feed(0, garp(VIP, MAC_A))
    lan.feed(1 * S, garp(VIP, MAC_B))
    lan.feed(1_050 * MS, garp(VIP, MAC_A))
    lan.feed(2 * S, garp(VIP, MAC_B))
    assert "vip_conflict" not in lan.kinds()
    assert lan.kinds().count("arp_owner_change") == 3


def test_listed_address_is_a_vip_from_its_first_answer() -> None:
    lan = Lan(vips=[VIP, "192.0.2.61"])
    rows = lan.obs.snapshot(at(0)).vips
    assert [(r.ip, r.interface, r.source, r.mac) for r in rows] == [
        (VIP, "", VipSource.LISTED, None),
        ("192.0.2.61", "", VipSource.LISTED, None),
    ]
    lan.feed(0, request(VIP))
    lan.feed(100, reply(VIP, MAC_A))
    v = lan.vip()
    assert v is not None
    assert (v.interface, v.source, v.mac, v.answers, v.requests) == (IF, "listed", MAC_A, 1, 1)
    assert lan.arp() == (True, "listed")


def test_vrrp_vips_get_the_gap_and_conflicts_too() -> None:
    lan = Lan()
    lan.feed(0, advert(IP_A, MAC_A, VIP))
    lan.feed(100 * MS, garp(VIP, MAC_A))
    lan.feed(S, advert(IP_A, MAC_A, VIP))
    lan.feed(4_700 * MS, advert(IP_B, MAC_B, VIP, priority=100))
    lan.feed(4_700 * MS + 50, garp(VIP, MAC_B))
    (move,) = [e for e in lan.events if str(e.kind) == "arp_owner_change"]
    assert isinstance(move, VipEvent)
    assert (move.vrid, move.gap_us, move.source) == (51, 4_600 * MS + 50, "advert")
    v = lan.vip()
    assert v is not None and (v.source, v.owner_ip) == (VipSource.ADVERT, IP_B)
    for i in range(1, 4):  # flips with no request between: moves, as the adverts say
        lan.feed(5 * S + i * 100 * MS, reply(VIP, MAC_A))
        lan.feed(5 * S + i * 100 * MS + 10, reply(VIP, MAC_B))
    assert "vip_conflict" not in lan.kinds()
    lan.feed(6 * S, request(VIP))  # A never let go: both answer one request
    lan.feed(6 * S + 100, reply(VIP, MAC_A))
    lan.feed(6 * S + 200, reply(VIP, MAC_B))
    assert "vip_conflict" in lan.kinds()
    assert "vip_foreign_mac" in lan.kinds()  # still flagged, as before


def test_nd_unsolicited_override_na_is_an_announcement() -> None:
    lan = Lan()
    lan.feed(0, na(VIP6, MAC_A))
    lan.feed(S, na(VIP6, MAC_A, solicited=True))
    # Unsolicited without the override flag confirms, announces nothing (else: a move).
    lan.feed(2 * S, na(VIP6, MAC_B, override=False))
    assert lan.vip(VIP6) is None
    lan.feed(3 * S, na(VIP6, MAC_C))  # C announces after B answered: a move
    v = lan.vip(VIP6)
    assert v is not None and v.last_move is not None
    assert (v.source, v.mac, v.last_move.from_mac) == (VipSource.ANNOUNCED, MAC_C, MAC_B)
    assert (v.last_move.gap_us, v.since) == (S, at(3 * S))
    ev = [e for e in lan.events if str(e.kind) == "arp_owner_change"][-1]
    assert isinstance(ev, VipEvent) and ev.family is not None and str(ev.family) == "ipv6"


def test_nd_periodic_announcer_and_no_secondary_rule() -> None:
    lan = Lan()
    for i in range(3):
        lan.feed(i * 3 * S, na(VIP6, MAC_A))
    v = lan.vip(VIP6)
    assert v is not None and v.why.startswith("announced 3 times")
    lan2 = Lan()
    lan2.feed(0, na("2001:db8::11", MAC_A, solicited=True))
    lan2.feed(S, na("2001:db8::77", MAC_A))  # another address of the same MAC: SLAAC
    lan2.feed(2 * S, na("2001:db8::77", MAC_A, solicited=True))
    assert lan2.obs.snapshot(at(0)).vips == ()


def test_memory_bounded_under_many_announced_addresses() -> None:
    lan = Lan()
    ledger = lan.obs._vips  # the bounds are what is under test: small ones
    ledger._announced_limit = 50
    ledger._floating._candidate_limit = 100
    ledger._floating._host_limit = 100
    for i in range(500):
        ip = f"198.51.{100 + i // 250}.{i % 250}"
        lan.feed(i, garp(ip, MAC_A))
        lan.feed(i + 1, garp(ip, MAC_B))  # each one moves: each a VIP
        asker = f"02:00:00:01:{i // 250:02x}:{i % 250:02x}"
        lan.feed(i + 2, request("192.0.2.1", asker, ip))
    vips, candidates, hosts = ledger.sizes
    assert (vips, candidates, hosts) == (50, 0, 100)
    assert lan.obs.arp_entries <= 50 + 256
