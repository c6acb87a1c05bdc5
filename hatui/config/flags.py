"""`hatui --serve --interface ... --vrid ...` flags to the same NodeSpec a config file gives."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence

from hatui.codec.frames import ChecksumForm, Family
from hatui.errors import UsageError
from hatui.types import US_PER_CS, US_PER_S, s_to_us
from hatui.vrrp.spec import InstanceSpec, NodeSpec, Vip


def _vip(text: str) -> Vip:
    address, slash, length = text.partition("/")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise UsageError(f"--vip {text}: not an IP address") from None
    bits = 32 if ip.version == 4 else 128
    if not slash:
        return Vip(address=str(ip), prefixlen=bits)
    if not (length.isascii() and length.isdigit()) or int(length) > bits:
        raise UsageError(f"--vip {text}: prefix length must be 0..{bits}")
    return Vip(address=str(ip), prefixlen=int(length))


def _ip(flag: str, text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise UsageError(f"{flag} {text}: not an IP address") from None


def _seconds(flag: str, value: float, lo: float, hi: float) -> int:
    if not math.isfinite(value) or not lo <= value <= hi:
        raise UsageError(f"{flag} {value:g}: out of range {lo:g}..{hi:g}")
    return s_to_us(value)


def spec_from_flags(
    *,
    interface: str,
    vrid: int,
    priority: int,
    vips: Sequence[str],
    advert_int: float = 1.0,
    version: int = 2,
    unicast_peers: Sequence[str] = (),
    unicast_src: str | None = None,
    auth_pass: str | None = None,
    nopreempt: bool = False,
    preempt_delay: float = 0.0,
    name: str | None = None,
    checksum_form: str = "pseudo",
) -> NodeSpec:
    """One instance from --serve flags; bad values raise a one-line UsageError."""
    if not interface or any(c.isspace() or c == "/" for c in interface):
        raise UsageError(f"--interface {interface!r}: not an interface name")
    if not 1 <= vrid <= 255:
        raise UsageError(f"--vrid {vrid}: out of range 1..255")
    if not 1 <= priority <= 255:
        raise UsageError(f"--priority {priority}: out of range 1..255")
    if version not in (2, 3):
        raise UsageError(f"--vrrp-version {version}: must be 2 or 3")
    if not vips:
        raise UsageError("--vip: at least one virtual address is needed")
    parsed = tuple(_vip(v) for v in vips)
    family = parsed[0].family
    for text, vip in zip(vips, parsed, strict=True):
        if vip.family is not family:
            raise UsageError(f"--vip {text}: all addresses must be IPv4 or all IPv6")
        if vip.family is Family.IPV6 and version != 3:
            # RFC 3768 is IPv4 only; RFC 5798 carries IPv6.
            raise UsageError(f"--vip {text}: IPv6 needs --vrrp-version 3")
    advert_us = _seconds("--advert-int", advert_int, 0.01, 255 if version == 2 else 40.95)
    if version == 2 and advert_us % US_PER_S:
        raise UsageError(f"--advert-int {advert_int:g}: VRRPv2 needs whole seconds")
    if version == 3 and advert_us % US_PER_CS:
        raise UsageError(f"--advert-int {advert_int:g}: VRRPv3 needs centiseconds")
    want = 4 if family is Family.IPV4 else 6
    peers = tuple(dict.fromkeys(_ip("--unicast-peer", p) for p in unicast_peers))
    src = _ip("--unicast-src", unicast_src) if unicast_src is not None else None
    for flag, address in [*(("--unicast-peer", p) for p in peers), ("--unicast-src", src)]:
        if address is not None and ipaddress.ip_address(address).version != want:
            raise UsageError(f"{flag} {address}: not IPv{want} like the --vip addresses")
    if auth_pass is not None:
        if version != 2:
            raise UsageError("--auth-pass: authentication exists only in VRRPv2")
        if not 1 <= len(auth_pass.encode()) <= 8:
            # RFC 3768 5.3.10: up to 8 octets.
            raise UsageError("--auth-pass: must be 1 to 8 bytes")
    delay_us = _seconds("--preempt-delay", preempt_delay, 0, 1000)
    try:
        form = ChecksumForm(checksum_form)
    except ValueError:
        raise UsageError(f"checksum form {checksum_form!r}: must be pseudo or plain") from None
    try:
        instance = InstanceSpec(
            name=name or f"VI_{vrid}",
            interface=interface,
            vrid=vrid,
            priority=priority,
            advert_int_us=advert_us,
            version=version,
            vips=parsed,
            preempt=not nopreempt,
            preempt_delay_us=delay_us,
            auth_pass=auth_pass,
            unicast_src=src,
            unicast_peers=peers,
            checksum_form=form,
        )
    except ValueError as e:
        raise UsageError(str(e)) from None
    return NodeSpec(instances=(instance,))
