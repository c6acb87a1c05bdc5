"""VRRP timer arithmetic in exact integer microseconds (RFC 3768 6.1, RFC 5798/9568 6.1)."""

from __future__ import annotations

from hatui.types import US_PER_CS, US_PER_S


def skew_us(priority: int, master_adver_interval_us: int, *, version: int) -> int:
    """Skew_Time: how much longer a lower-priority backup waits before taking over.

    RFC 5798 6.1 (v3): ((256 - Priority) * Master_Adver_Interval) / 256. RFC 3768 6.1
    (v2): (256 - Priority) / 256 seconds, whatever the advert interval; keepalived's
    VRRP_TIMER_SKEW (v2) does the same and scales by the interval only in v3. So v2 at
    advert_int 2 and priority 100 waits 3 * 2 s + 0.609 s, not 3 * 2 s + 1.219 s.
    `priority` is the LOCAL (backup's) effective priority. Integer division keeps the
    result exact: 1 s at priority 100 is 609,375 µs; v3 at 0.1 s is 60,937 µs.
    """
    if not 0 <= priority <= 255:
        raise ValueError(f"priority {priority} out of range 0..255")
    if master_adver_interval_us <= 0:
        raise ValueError("advertisement interval must be positive")
    if version == 2:
        return (256 - priority) * US_PER_S // 256
    return (256 - priority) * master_adver_interval_us // 256


def master_down_us(priority: int, master_adver_interval_us: int, *, version: int) -> int:
    """Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time (RFC 5798 6.1,
    RFC 3768 6.1)."""
    skew = skew_us(priority, master_adver_interval_us, version=version)
    return 3 * master_adver_interval_us + skew


def cs_to_us(centiseconds: int) -> int:
    """An advert's Max Adver Int (centiseconds) in microseconds."""
    return centiseconds * US_PER_CS
