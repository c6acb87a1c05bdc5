"""The router's own receive checks on an advert the codec accepted (RFC 3768 7.1, RFC 5798 7.1)."""

from __future__ import annotations

import ipaddress

from hatui.codec.frames import Auth, VrrpAdvert
from hatui.vrrp.actions import Discard, DiscardReason
from hatui.vrrp.spec import InstanceSpec

AUTH_DATA_LEN = 8  # RFC 3768 5.3.6.1: the simple password field is 8 octets
MAX_LOGGED_SENDERS = 256


def pad_password(raw: bytes) -> bytes:
    """The 8-octet, NUL-padded form a simple password travels in (longer ones truncated)."""
    return raw[:AUTH_DATA_LEN].ljust(AUTH_DATA_LEN, b"\0")


def check(spec: InstanceSpec, primary_ip: str, advert: VrrpAdvert) -> Discard | None:
    """Why this advert must be dropped, or None when it is to be processed."""
    if advert.vrid != spec.vrid:
        return Discard(reason=DiscardReason.VRID, detail=f"VRID {advert.vrid}, ours {spec.vrid}")
    if advert.family is not spec.family:
        return Discard(reason=DiscardReason.FAMILY, detail=f"{advert.family} advert")
    if advert.version != spec.version:
        detail = f"version {advert.version}, ours {spec.version}"
        return Discard(reason=DiscardReason.VERSION, detail=detail)
    # The codec lets a v2 trailer through for the observer (Cisco's MD5 key-chain TLV);
    # the node holds to the RFC's layout: header, addresses, 8 bytes of auth data.
    if advert.trailer_len:
        detail = f"{advert.trailer_len} bytes after the auth data from {advert.src_ip}"
        return Discard(reason=DiscardReason.LENGTH, detail=detail)
    if _same_ip(advert.src_ip, primary_ip):
        return Discard(reason=DiscardReason.OWN, detail=f"own advert from {advert.src_ip}")
    # keepalived check_unicast_src: with unicast peers, only a configured peer may speak.
    if spec.check_unicast_src and spec.unicast_peers:
        peers = {_norm(p) for p in spec.unicast_peers}
        if _norm(advert.src_ip) not in peers:
            detail = f"advert from {advert.src_ip}, not a unicast peer"
            return Discard(reason=DiscardReason.UNICAST_SRC, detail=detail)
    problem = _auth_problem(spec, advert)
    if problem is not None:
        return Discard(reason=DiscardReason.AUTH, detail=f"{problem} from {advert.src_ip}")
    if advert.interval_cs <= 0:
        detail = f"advert interval 0 from {advert.src_ip}"
        return Discard(reason=DiscardReason.INTERVAL, detail=detail)
    # RFC 3768 7.1: a v2 router MUST drop an advert whose interval differs from its own
    # (RFC 5798 turned this into "learn the master's interval" for v3).
    if spec.version == 2 and advert.interval_cs != spec.advert_int_cs:
        detail = (
            f"advert interval {advert.interval_cs / 100:g} s from {advert.src_ip},"
            f" ours {spec.advert_int_cs / 100:g} s"
        )
        return Discard(reason=DiscardReason.INTERVAL, detail=detail)
    return None


def _auth_problem(spec: InstanceSpec, advert: VrrpAdvert) -> str | None:
    # RFC 3768 7.1: the auth type must match ours, and for simple auth the password too.
    theirs = f"auth type {advert.auth_type}" if advert.auth is Auth.UNKNOWN else str(advert.auth)
    if spec.auth_pass is None:
        if advert.auth is not Auth.NONE:
            return f"{theirs} authentication, ours none"
        return None
    if advert.auth is not Auth.SIMPLE:
        return f"{theirs} authentication, ours simple"
    if pad_password(advert.auth_data) != pad_password(spec.auth_pass.encode()):
        return "wrong password"
    return None


def mismatches(
    spec: InstanceSpec, advert: VrrpAdvert, *, check_addresses: bool = True
) -> tuple[str, ...]:
    """Differences worth a log line that do not stop processing.

    RFC 3768 7.1 / RFC 5798 7.1: an address list differing from ours MAY be logged
    (keepalived does, and still processes the advert); v3 logs an interval mismatch
    and learns the master's interval instead of discarding (RFC 5798 6.4.2).
    """
    found: list[str] = []
    ours = {_norm(v.address) for v in spec.vips}
    theirs = {_norm(a) for a in advert.addresses}
    if check_addresses and ours != theirs:
        found.append(
            f"address list mismatch from {advert.src_ip}:"
            f" {', '.join(sorted(theirs))} vs ours {', '.join(sorted(ours))}"
        )
    if spec.version == 3 and advert.interval_cs != spec.advert_int_cs:
        found.append(
            f"advert interval {advert.interval_cs / 100:g} s from {advert.src_ip},"
            f" ours {spec.advert_int_cs / 100:g} s"
        )
    return tuple(found)


class MismatchLog:
    """Each sender's last `mismatches`: a difference is logged once per sender until it
    changes, not once per advert."""

    __slots__ = ("_logged",)

    def __init__(self) -> None:
        self._logged: dict[str, tuple[str, ...]] = {}

    def new(
        self, spec: InstanceSpec, advert: VrrpAdvert, *, check_addresses: bool
    ) -> tuple[str, ...]:
        """This advert's mismatches, or none when its sender's last were the same."""
        found = mismatches(spec, advert, check_addresses=check_addresses)
        if self._logged.get(advert.src_ip, ()) == found:
            return ()
        if len(self._logged) >= MAX_LOGGED_SENDERS:
            self._logged.clear()  # spoofed senders must not grow memory without bound
        self._logged[advert.src_ip] = found
        return found


def ip_key(address: str) -> int:
    """An address as a number, for RFC 5798 6.4.3's 'higher primary IP address' tie-break."""
    # The codec hands us valid addresses; garbage still must not raise out of a pure layer.
    try:
        return int(ipaddress.ip_address(address))
    except ValueError:
        return -1


def _same_ip(a: str, b: str) -> bool:
    return _norm(a) == _norm(b)


def _norm(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address
