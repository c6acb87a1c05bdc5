"""Construction checks for a Router: set-ups that cannot work are local mistakes (ValueError)."""

from __future__ import annotations

import ipaddress

from hatui.vrrp.spec import InstanceSpec


def validate(spec: InstanceSpec, primary_ip: str) -> None:
    """Reject router set-ups that cannot work: a local mistake, so ValueError."""
    try:
        ip = ipaddress.ip_address(primary_ip)
    except ValueError:
        raise ValueError(f"primary address {primary_ip!r} is not an IP address") from None
    family = 6 if spec.family.value == "ipv6" else 4
    if ip.version != family:
        raise ValueError(f"primary address {primary_ip} is not {spec.family} like the VIPs")
    if ip.is_multicast or ip.is_unspecified:
        raise ValueError(f"primary address {primary_ip} cannot source adverts")
    if spec.preempt_delay_us < 0:
        raise ValueError("preempt_delay must not be negative")
    garp = spec.garp
    if garp.master_repeat < 0 or garp.refresh_repeat < 0:
        raise ValueError("gratuitous ARP repeat counts must not be negative")
    if garp.master_delay_us < 0 or garp.refresh_us < 0 or garp.interval_us < 0:
        raise ValueError("gratuitous ARP delays must not be negative")
    for kind, refs in (
        ("interface", spec.track_interfaces),
        ("script", spec.track_scripts),
        ("file", spec.track_files),
    ):
        names = [r.name for r in refs]
        if len(names) != len(set(names)):
            raise ValueError(f"a tracked {kind} is listed twice")
