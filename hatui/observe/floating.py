"""Which announced addresses float: the rules that make an address a VIP from ARP/ND alone.

A host announces its own address too, so an announcement alone proves nothing. An address
becomes an announced VIP (docs/json.md, "VIPs from ARP and ND") when it is:

- moved: announced by one MAC while another MAC announced or answered it within
  MOVE_WINDOW_US (kube-vip, MetalLB and Cilium leader changes, keepalived unicast
  failovers, `ip addr` + `arping` scripts);
- repeated: announced by one MAC at least REPEAT_COUNT times over at least REPEAT_SPAN_US,
  with no pause longer than RUN_GAP_US (kube-vip's periodic gratuitous ARP, keepalived's
  second burst after garp_master_delay); a host's boot announcements (RFC 5227 2.3: two,
  2 s apart) and a waking laptop's stay ordinary;
- secondary (IPv4): announced, or answered after announcing, by a MAC whose own address,
  heard as the sender of its ARP requests, is another one (MetalLB's announcing node, a
  failover script's `ip addr add`). IPv6 hosts hold many addresses (link-local, SLAAC,
  temporary), so ND uses the first two rules only.

Memory is bounded: candidates and hosts are LRU tables of fixed size.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from hatui.types import US_PER_S

ArpKey = tuple[str, str]  # (interface, ip)

MOVE_WINDOW_US = 300 * US_PER_S  # an older last word is an address reused, not moved
REPEAT_COUNT = 3
REPEAT_SPAN_US = 4_500_000  # beyond RFC 5227's boot announcements (2 s apart)
RUN_GAP_US = 60 * US_PER_S  # a longer pause starts a new run (a reboot, a wake-up)
_HOST_IPS = 4  # addresses remembered per MAC


@dataclass(slots=True, kw_only=True)
class Candidate:
    """An announced address not (yet) a VIP."""

    mac: str  # the last MAC to announce or answer it
    since: int  # that MAC's first word since another's
    last: int
    since_announced: bool  # that first word was an announcement
    prev_mac: str | None  # the MAC before it, and its last word
    prev_last: int
    announcements: int
    last_announcement: int | None
    announcer: str
    run_first: int
    run_last: int
    run_count: int


class Floating:
    """Announced addresses not (yet) VIPs, and each MAC's own addresses.

    `frame` takes each answer or announcement for an address that is no VIP and says
    which rule, if any, makes it one; `host` takes a MAC's own address (the sender of its
    ARP requests, a VRRP master's). `is_vip` says which addresses are VIPs already (a MAC's
    own address is never one).
    """

    def __init__(
        self,
        *,
        is_vip: Callable[[ArpKey], bool],
        candidate_limit: int = 16384,
        host_limit: int = 8192,
    ) -> None:
        self._is_vip = is_vip
        self._candidates: OrderedDict[ArpKey, Candidate] = OrderedDict()
        self._hosts: OrderedDict[tuple[str, str], list[str]] = OrderedDict()
        self._candidate_limit = candidate_limit
        self._host_limit = host_limit

    def host(self, interface: str, mac: str, ip: str) -> None:
        """`mac` uses `ip` as its own (the sender of its requests, of its adverts)."""
        hk = (interface, mac)
        ips = self._hosts.get(hk)
        if ips is None:
            self._hosts[hk] = [ip]
            if len(self._hosts) > self._host_limit:
                self._hosts.popitem(last=False)
            return
        self._hosts.move_to_end(hk)
        if ips[0] != ip:
            if ip in ips:
                ips.remove(ip)
            ips.insert(0, ip)
            del ips[_HOST_IPS:]

    def own_ip(self, interface: str, mac: str, vip: str) -> str | None:
        """The address `mac` uses as its own, not `vip` nor another VIP; same family first."""
        ips = self._hosts.get((interface, mac))
        if not ips:
            return None
        others = [ip for ip in ips if ip != vip and not self._is_vip((interface, ip))]
        same = [ip for ip in others if (":" in ip) == (":" in vip)]
        pick = same or others
        return pick[0] if pick else None

    def frame(
        self, key: ArpKey, mac: str, t: int, announced: bool
    ) -> tuple[str | None, Candidate | None]:
        """An answer or announcement for a non-VIP address: the rule that makes it a VIP
        (and the candidate's record, now the VIP's to keep), or None."""
        why = self._candidate(key, mac, t, announced)
        if why is None:
            return None, None
        return why, self._candidates.pop(key, None)

    def _candidate(self, key: ArpKey, mac: str, t: int, announced: bool) -> str | None:
        """Record the frame; the rule that makes the address a VIP, if any."""
        c = self._candidates.get(key)
        if c is None:
            if not announced:
                self._learn(key, mac)
                return None
            why = self._secondary(key, mac)
            if why is not None:
                return why
            c = Candidate(mac=mac, since=t, last=t, since_announced=True, prev_mac=None,
                           prev_last=0, announcements=0, last_announcement=None, announcer=mac,
                           run_first=t, run_last=t, run_count=1)  # fmt: skip
            self._candidates[key] = c
            if len(self._candidates) > self._candidate_limit:
                self._candidates.popitem(last=False)
        else:
            self._candidates.move_to_end(key)
            why = self._rule(key, c, mac, t, announced)
            if why is not None:  # the VIP starts from the candidate's last word (a move's gap)
                return why
        if c.mac != mac:
            c.prev_mac, c.prev_last = c.mac, c.last
            c.mac, c.since, c.since_announced = mac, t, announced
        c.last = t
        if announced:
            c.announcements += 1
            c.last_announcement = t
        return None

    def _rule(self, key: ArpKey, c: Candidate, mac: str, t: int, announced: bool) -> str | None:
        if not announced:
            return self._secondary(key, mac) if mac == c.announcer else None
        if c.mac != mac and t - c.last <= MOVE_WINDOW_US:
            return f"announced by {mac} after {c.mac}"
        if (
            c.mac == mac
            and c.prev_mac not in (None, mac)
            and c.since - c.prev_last <= MOVE_WINDOW_US
        ):
            return f"announced by {mac}, which answers it since {c.prev_mac} stopped"
        if mac == c.announcer and t - c.run_last <= RUN_GAP_US:
            c.run_count += 1
            c.run_last = t
            if c.run_count >= REPEAT_COUNT and t - c.run_first >= REPEAT_SPAN_US:
                span = (t - c.run_first) / US_PER_S
                return f"announced {c.run_count} times in {span:.1f} s by {mac}"
        else:
            c.announcer, c.run_first, c.run_last, c.run_count = mac, t, t, 1
        return self._secondary(key, mac)

    def _secondary(self, key: ArpKey, mac: str) -> str | None:
        if ":" in key[1]:
            return None
        own = self.own_ip(key[0], mac, key[1])
        if own is None:
            return None
        return f"announced by {mac}, whose own address is {own}"

    def _learn(self, key: ArpKey, mac: str) -> None:
        """An answer for an ordinary address: the answering MAC's own (IPv4 hosts)."""
        if ":" not in key[1]:
            self.host(key[0], mac, key[1])

    def forget(self, key: ArpKey) -> None:
        """The address is a VIP for another reason (an advert, a listing)."""
        self._candidates.pop(key, None)

    @property
    def sizes(self) -> tuple[int, int]:
        """Entries held: candidates, hosts (each bounded)."""
        return len(self._candidates), len(self._hosts)
