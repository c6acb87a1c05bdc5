"""Addresses the operator lists as VIPs to watch by ARP/ND (`--vip ADDR`, `--vips FILE`)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from hatui.errors import ConfigError, UsageError


def _address(text: str) -> str | None:
    """The address of `ADDR` or `ADDR/LEN`, in its canonical text; None if it is none."""
    try:
        return str(ipaddress.ip_interface(text.strip()).ip)
    except ValueError:
        return None


def listed_vips(flags: Sequence[str], path: str | None) -> tuple[str, ...]:
    """Every address of the flags, then of the file (one per line, `#` comments), once each.

    A bad flag raises UsageError, a bad line ConfigError with FILE:LINE.
    """
    out: dict[str, None] = {}
    for flag in flags:
        ip = _address(flag)
        if ip is None:
            raise UsageError(f"--vip: '{flag}' is not an IP address")
        out[ip] = None
    if path is not None:
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read: {exc}", path) from None
        for n, line in enumerate(lines, 1):
            text = line.partition("#")[0].strip()
            if not text:
                continue
            ip = _address(text)
            if ip is None:
                raise ConfigError(f"'{text[:60]}' is not an IP address", path, n)
            out[ip] = None
    return tuple(out)
