"""CARP through the VRRP rules: a CARP advert read as the advert of a VRRP-like router.

CARP, like VRRP, has only its master advertise, elects by how often a router advertises
(lower advbase + advskew/256 wins; a higher demotion counter loses) and hands over when
the master falls silent for three of a backup's intervals. So mastership, failovers
with their gap, split brain and staleness follow from the same wire rules once each
advert carries a priority that ranks as CARP ranks: 254 - (advskew + demote), clamped to
1..254, and 0 for the "leaving" advert (advbase and advskew 255) a master sends when it
shuts down. CARP adverts list no addresses: the view takes them from who answers ARP
and ND with the CARP virtual MAC 00:00:5e:00:01:VHID.
"""

from __future__ import annotations

from dataclasses import replace

from hatui.codec.frames import Auth, CarpAdvert, ChecksumForm, VrrpAdvert
from hatui.observe.model import ArpView, CarpInfo, RouterView
from hatui.observe.rules import interval_us
from hatui.types import US_PER_S

_LEAVING = 255  # advbase and advskew both 255: the master is going away


def carp_priority(advskew: int, demote: int, advbase: int = 1) -> int:
    """The VRRP-style rank of a CARP advert (higher wins), see the module docstring."""
    if advbase == _LEAVING and advskew == _LEAVING:
        return 0
    return max(1, 254 - min(253, advskew + demote))


def carp_interval_cs(advbase: int, advskew: int) -> int:
    """CARP's advertisement interval, advbase + advskew/256 seconds, in centiseconds."""
    return max(1, advbase * 100 + advskew * 100 // 256)


def carp_interval_us(advbase: int, advskew: int) -> int:
    """CARP's advertisement interval, advbase + advskew/256 seconds, exactly, in us."""
    return advbase * US_PER_S + advskew * US_PER_S // 256


def carp_vmac(vhid: int) -> str:
    """CARP's virtual MAC, the same for IPv4 and IPv6."""
    return f"00:00:5e:00:01:{vhid:02x}"


def as_vrrp(frame: CarpAdvert) -> VrrpAdvert:
    """The advert the VRRP rules are fed for this CARP advert (never shown as VRRP)."""
    return VrrpAdvert(
        link=frame.link,
        family=frame.family,
        src_ip=frame.src_ip,
        dst_ip=frame.dst_ip,
        ttl=255,
        version=2,  # CARP's version
        vrid=frame.vhid,
        priority=carp_priority(frame.advskew, frame.demote, frame.advbase),
        interval_cs=carp_interval_cs(frame.advbase, frame.advskew),
        addresses=(),
        auth=Auth.NONE,
        checksum_form=ChecksumForm.V2,
    )


def carp_view(view: RouterView, info: CarpInfo, arp: tuple[ArpView, ...]) -> RouterView:
    """A router view in CARP's terms: its addresses from ARP/ND, its own timers."""
    vmac = carp_vmac(view.vrid)
    v6 = view.family.value == "ipv6"
    vips = tuple(
        a.ip for a in arp if a.interface == view.interface and a.mac == vmac and (":" in a.ip) == v6
    )
    down = 3 * interval_us(view.interval_cs)
    return replace(
        view,
        vips=vips,
        auth="hmac",  # SHA1-HMAC over the advert: only the key's holders can check it
        checksum_form=None,
        skew_us=0,
        master_down_us=down,
        carp=info,
    )
