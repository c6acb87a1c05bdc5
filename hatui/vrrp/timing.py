"""VRRP timer arithmetic in exact integer microseconds (RFC 3768 6.1, RFC 5798/9568 6.1)."""

from __future__ import annotations

from hatui.types import US_PER_CS


def skew_us(priority: int, master_adver_interval_us: int) -> int:
    """Skew_Time: how much longer a lower-priority backup waits before taking over.

    RFC 5798 6.1 (v3): ((256 - Priority) * Master_Adver_Interval) / 256. RFC 3768 6.1 (v2)
    says (256 - Priority) / 256 seconds, which is the same formula with the configured
    1 s unit interval scaled in; keepalived applies the v3 form to v2 too, and so do we.
    `priority` is the LOCAL (backup's) effective priority. Integer division keeps the
    result exact: 1 s at priority 100 is 609,375 µs; 0.1 s is 60,937 µs.
    """
    if not 0 <= priority <= 255:
        raise ValueError(f"priority {priority} out of range 0..255")
    if master_adver_interval_us <= 0:
        raise ValueError("advertisement interval must be positive")
    return (256 - priority) * master_adver_interval_us // 256


def master_down_us(priority: int, master_adver_interval_us: int) -> int:
    """Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time (RFC 5798 6.1)."""
    return 3 * master_adver_interval_us + skew_us(priority, master_adver_interval_us)


def cs_to_us(centiseconds: int) -> int:
    """An advert's Max Adver Int (centiseconds) in microseconds."""
    return centiseconds * US_PER_CS
