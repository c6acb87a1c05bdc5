"""Routes and policy rules over rtnetlink: keepalived's virtual_routes/rules and static_*.

Every route and rule hatui adds carries protocol 0x68 (unused by iproute2's rt_protos),
so a restarted node removes what a crashed one left, as it does with VIPs. A set is
installed all or nothing: when one entry fails, the ones added before it are removed
again and the error names the config line of the one that failed.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
from collections.abc import Sequence
from typing import Any

from pyroute2.netlink import NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL
from pyroute2.netlink.rtnl.fibmsg import fibmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from hatui.adapters.netlink import NetlinkFailure, Rtnl, ifindex
from hatui.codec.frames import Family
from hatui.errors import RuntimeFault
from hatui.vrrp.spec import Nexthop, RouteSpec, RuleSpec

log = logging.getLogger(__name__)

HATUI_PROTO = 0x68
RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE = 24, 25, 26
RTM_NEWRULE, RTM_DELRULE, RTM_GETRULE = 32, 33, 34
RTN_TYPES = {"unicast": 1, "blackhole": 6, "unreachable": 7, "prohibit": 8, "throw": 9}
RT_SCOPE_UNIVERSE, RT_SCOPE_LINK = 0, 253
RTNH_F_ONLINK = 4
FR_ACT_TO_TBL = 1
_GONE = (errno.ENOENT, errno.ESRCH, errno.EADDRNOTAVAIL)

Entry = RouteSpec | RuleSpec


def _af(family: Family) -> int:
    return socket.AF_INET6 if family is Family.IPV6 else socket.AF_INET


def _route_msg(r: RouteSpec) -> Any:
    net = ipaddress.ip_network(r.dst)
    msg = rtmsg()
    msg["family"] = _af(r.family)
    msg["dst_len"] = net.prefixlen
    msg["table"] = r.table if r.table < 256 else 252  # RT_TABLE_COMPAT; RTA_TABLE holds it
    msg["proto"] = HATUI_PROTO
    msg["type"] = RTN_TYPES[r.kind]
    if r.scope is not None:
        msg["scope"] = r.scope
    else:
        # As `ip route add`: a unicast route with no gateway is on the link.
        direct = r.kind == "unicast" and r.via is None and not r.nexthops
        msg["scope"] = RT_SCOPE_LINK if direct and r.family is Family.IPV4 else RT_SCOPE_UNIVERSE
    msg["flags"] = RTNH_F_ONLINK if r.onlink else 0
    attrs: list[tuple[str, Any]] = [("RTA_TABLE", r.table)]
    if net.prefixlen:
        attrs.append(("RTA_DST", str(net.network_address)))
    if r.src:
        attrs.append(("RTA_PREFSRC", r.src))
    if r.via:
        attrs.append(("RTA_GATEWAY", r.via))
    if r.dev:
        attrs.append(("RTA_OIF", ifindex(r.dev)))
    if r.metric is not None:
        attrs.append(("RTA_PRIORITY", r.metric))
    if r.nexthops:
        attrs.append(("RTA_MULTIPATH", [_nexthop(h) for h in r.nexthops]))
    msg["attrs"] = attrs
    return msg


def _nexthop(h: Nexthop) -> dict[str, Any]:
    """One struct rtnexthop of RTA_MULTIPATH; its hops field is the weight less one."""
    return {
        "flags": RTNH_F_ONLINK if h.onlink else 0,
        "hops": h.weight - 1,
        "oif": ifindex(h.dev) if h.dev else 0,
        "attrs": [("RTA_GATEWAY", h.via)] if h.via else [],
    }


def _rule_msg(r: RuleSpec) -> Any:
    msg = fibmsg()
    msg["family"] = _af(r.family)
    msg["table"] = r.table if r.table < 256 else 252
    msg["action"] = FR_ACT_TO_TBL
    attrs: list[tuple[str, Any]] = [("FRA_TABLE", r.table), ("FRA_PROTOCOL", HATUI_PROTO)]
    for key, net_text in (("src", r.src), ("dst", r.dst)):
        if net_text is not None:
            net = ipaddress.ip_network(net_text)
            msg[f"{key}_len"] = net.prefixlen
            attrs.append((f"FRA_{key.upper()}", str(net.network_address)))
    if r.priority is not None:
        attrs.append(("FRA_PRIORITY", r.priority))
    if r.iif is not None:
        attrs.append(("FRA_IIFNAME", r.iif))
    if r.oif is not None:
        attrs.append(("FRA_OIFNAME", r.oif))
    if r.fwmark is not None:
        attrs.append(("FRA_FWMARK", r.fwmark))
        if r.fwmask is not None:
            attrs.append(("FRA_FWMASK", r.fwmask))
    msg["attrs"] = attrs
    return msg


class Routes:
    """Adds and removes routes and rules; adding what exists and removing what is gone
    are both fine (idempotent, as the node may re-enter MASTER)."""

    def __init__(self) -> None:
        self.rtnl = Rtnl()

    def _send(self, entry: Entry, add: bool) -> Any:
        if isinstance(entry, RouteSpec):
            return self.rtnl.request(
                _route_msg(entry),
                RTM_NEWROUTE if add else RTM_DELROUTE,
                NLM_F_ACK | (NLM_F_CREATE | NLM_F_EXCL if add else 0),
            )
        return self.rtnl.request(
            _rule_msg(entry),
            RTM_NEWRULE if add else RTM_DELRULE,
            NLM_F_ACK | (NLM_F_CREATE | NLM_F_EXCL if add else 0),
        )

    def install(self, entries: Sequence[Entry]) -> None:
        """Add every entry, or none: on a failure the ones added are removed again and
        RuntimeFault names the failing entry's config line."""
        done: list[Entry] = []
        for entry in entries:
            try:
                self._send(entry, True)
            except RuntimeFault:
                self.remove(done)
                raise
            except NetlinkFailure as exc:
                if exc.code == errno.EEXIST:
                    continue  # already there (a restart, or the admin's own)
                self.remove(done)
                what = "route" if isinstance(entry, RouteSpec) else "rule"
                raise RuntimeFault(
                    f"{entry.source}: cannot add {what} {entry}: {exc.text}"
                ) from None
            done.append(entry)
            log.info("added %s %s", "route" if isinstance(entry, RouteSpec) else "rule", entry)

    def remove(self, entries: Sequence[Entry]) -> None:
        """Remove entries in reverse order; failures other than 'not there' are logged
        (leaving MASTER must go on)."""
        for entry in reversed(entries):
            try:
                self._send(entry, False)
            except NetlinkFailure as exc:
                if exc.code not in _GONE:
                    log.error("%s: cannot remove %s: %s", entry.source, entry, exc.text)
            except RuntimeFault as exc:
                log.error("%s: cannot remove %s: %s", entry.source, entry, exc)

    def remove_leftovers(self) -> int:
        """Routes and rules carrying hatui's protocol mark (a crashed node's); how many."""
        gone = 0
        for family in (socket.AF_INET, socket.AF_INET6):
            dump = rtmsg()
            dump["family"] = family
            for m in self.rtnl.request(dump, RTM_GETROUTE, NLM_F_DUMP):
                if m["proto"] == HATUI_PROTO and self._delete(m, rtmsg(), RTM_DELROUTE):
                    gone += 1
            rules = fibmsg()
            rules["family"] = family
            for m in self.rtnl.request(rules, RTM_GETRULE, NLM_F_DUMP):
                if m.get("FRA_PROTOCOL") == HATUI_PROTO and self._delete(m, fibmsg(), RTM_DELRULE):
                    gone += 1
        return gone

    def _delete(self, dumped: Any, msg: Any, kind: int) -> bool:
        """Delete what `dumped` describes: a fresh message with its fields and attributes."""
        for name, _ in msg.fields:
            msg[name] = dumped[name]
        keep = ("RTA_", "FRA_")
        skip = {"RTA_CACHEINFO", "RTA_UNSPEC", "FRA_UNSPEC", "FRA_PAD"}
        msg["attrs"] = [
            (a[0], a[1]) for a in dumped["attrs"] if a[0].startswith(keep) and a[0] not in skip
        ]
        try:
            self.rtnl.request(msg, kind, NLM_F_ACK)
        except NetlinkFailure as exc:
            if exc.code not in _GONE:
                log.warning("cannot remove a leftover hatui route or rule: %s", exc.text)
            return False
        return True

    def close(self) -> None:
        self.rtnl.close()
