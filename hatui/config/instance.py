"""`vrrp_instance` blocks to a Draft: one handler per keyword, each bad line reported."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

from hatui.config.addresses import read_peers, read_vips
from hatui.config.diagnostics import Diagnostics
from hatui.config.fallback import (
    INSTANCE,
    KEEPALIVED,
    follows,
    for_keyword,
    misplaced_block,
    would,
)
from hatui.config.globaldefs import DAY_US
from hatui.config.lexer import Token
from hatui.config.routes import read_routes, read_rules
from hatui.config.security import ScriptLine
from hatui.config.tracklines import track_lines
from hatui.config.tree import Stmt
from hatui.config.values import arg, boolean, fail, integer, ip_value, timer
from hatui.errors import ConfigError
from hatui.types import US_PER_S
from hatui.vrrp.spec import InitialState, NotifySpec, RouteSpec, RuleSpec, TrackRef, Vip

MAX_V2_ADVERT_US = 255 * US_PER_S  # 8-bit seconds field (RFC 3768 5.3.7)

# keepalived features that change what goes on the wire or the host: refusing them is
# better than running something else than the file says.
UNSUPPORTED = frozenset(
    """
    use_vmac_addr use_ipvlan track_bfd
    """.split()  # noqa: SIM905 - a word list reads better
)
# Known keywords hatui does not act on, with the reason each warning gives.
IGNORED = {
    "native_ipv6": "deprecated in keepalived: the virtual addresses decide the family",
    "debug": "keepalived does not implement it either",
    "smtp_alert": "hatui sends no mail",
    "kernel_rx_buf_size": "hatui sizes its capture socket itself",
    "linkbeat_use_polling": "hatui watches links through netlink",
    "track_src_ip": "hatui does not watch the source address",
    "unicast_ttl": "hatui sends unicast adverts with TTL 255",
    "old_unicast_checksum": "hatui accepts both checksum forms on receive",
    "notify_deleted": "hatui deletes no instance on reload",
    "garp_extra_if": "hatui sends gratuitous ARPs on the VIPs' interfaces only",
    "vrf": "hatui does not bind to a VRF",
    "global_tracking": "a vrrp_sync_group keyword",
    "sync_group_tracking_weight": "a vrrp_sync_group keyword",
    "no_accept": "hatui adds no firewall rules: traffic to the VIPs is accepted",
}
_NOTIFY = {
    "notify_master_rx_lower_pri": "master_rx_lower_pri",
    "notify_master": "master",
    "notify_backup": "backup",
    "notify_fault": "fault",
    "notify_stop": "stop",
    "notify": "generic",
}


@dataclass(slots=True, kw_only=True)
class Tracked:
    """A track_script/track_file line before its name is resolved."""

    name: Token
    weight: int | None


@dataclass(slots=True, kw_only=True)
class Draft:
    """What one vrrp_instance block said, with the tokens later checks point at."""

    name: str
    at: Token
    interface: str | None = None
    vrid: int | None = None
    vrid_at: Token | None = None
    priority: int = 100
    advert: Token | None = None
    advert_us: int = US_PER_S
    version: int | None = None
    version_at: Token | None = None
    vips: list[tuple[Vip, Token]] = field(default_factory=list)
    excluded: list[tuple[Vip, Token]] = field(default_factory=list)
    state: InitialState = InitialState.BACKUP
    preempt: bool = True
    preempt_at: Token | None = None
    preempt_delay_us: int = 0
    accept: bool | None = None
    auth: Token | None = None  # the authentication block, when auth_type PASS is set
    auth_pass: str | None = None
    unicast_src: tuple[str, Token] | None = None
    peers: list[tuple[str, Token]] = field(default_factory=list)
    mcast_src: tuple[str, Token] | None = None
    mcast_group: tuple[str, Token] | None = None
    track_interfaces: list[TrackRef] = field(default_factory=list)
    track_scripts: list[Tracked] = field(default_factory=list)
    track_files: list[Tracked] = field(default_factory=list)
    track_processes: list[Tracked] = field(default_factory=list)
    notify: NotifySpec = field(default_factory=NotifySpec)
    notify_lines: dict[str, ScriptLine] = field(default_factory=dict)  # by NotifySpec field
    garp: dict[str, int] = field(default_factory=dict)
    check_unicast_src: bool | None = None
    flags: dict[str, bool] = field(default_factory=dict)  # _FLAGS keywords, by name
    vmac: Token | None = None  # the use_vmac line
    vmac_name: str | None = None  # the name given on it
    vmac_xmit_base: bool = False
    routes: list[RouteSpec] = field(default_factory=list)
    rules: list[RuleSpec] = field(default_factory=list)


def _block(stmt: Stmt) -> tuple[Stmt, ...]:
    if stmt.block is None:
        fail(stmt.key, f"{stmt.name}: expected a '{{' block")
    return stmt.block


def notify_line(label: str, stmt: Stmt, diag: Diagnostics) -> ScriptLine:
    """`notify_* SCRIPT [user [group]]`: keepalived reads the words after the script as
    the user and group it runs as."""
    words = stmt.args
    if len(words) > 3:
        diag.warn(f"{stmt.name}: words after the group ignored", stmt.key.file, stmt.key.line)
    return ScriptLine(
        label=f"{label} {stmt.name}",
        command=arg(stmt).text,
        at=stmt.key,
        user=words[1] if len(words) > 1 else None,
        group=words[2] if len(words) > 2 else None,
    )


def _notify(d: Draft, stmt: Stmt, diag: Diagnostics) -> None:
    line = notify_line(f"vrrp_instance {d.name}", stmt, diag)
    d.notify = d.notify.with_script(_NOTIFY[stmt.name], line.command)
    d.notify_lines[_NOTIFY[stmt.name]] = line


def _authentication(d: Draft, stmt: Stmt, diag: Diagnostics) -> None:
    kind: str | None = None
    for line in _block(stmt):
        if line.name == "auth_type":
            kind = arg(line).text  # keepalived compares it as written, in capitals
            if kind == "AH":
                fail(
                    line.key,
                    f"not supported by hatui: auth_type AH; {KEEPALIVED} would authenticate "
                    "with an IPsec AH header",
                )
            if kind != "PASS":
                fail(
                    line.args[0],
                    f"auth_type: expected PASS or AH, got '{line.args[0].text}'; {KEEPALIVED} "
                    "would run this instance without authentication",
                )
        elif line.name == "auth_pass":
            secret = arg(line).text
            if len(secret.encode()) > 8:
                # RFC 3768 5.3.10: 8 octets; keepalived truncates and says so.
                diag.warn(
                    follows("auth_pass truncated to 8 characters"), line.key.file, line.key.line
                )
                secret = secret.encode()[:8].decode(errors="ignore")
            d.auth_pass = secret
        else:
            diag.warn(
                follows(f"unknown keyword '{line.name}' ignored"), line.key.file, line.key.line
            )
    if kind is None:
        if d.auth_pass is not None:
            diag.warn("auth_pass without auth_type PASS ignored", stmt.key.file, stmt.key.line)
            d.auth_pass = None
    elif d.auth_pass is None:
        diag.warn("auth_type PASS without auth_pass ignored", stmt.key.file, stmt.key.line)
    else:
        d.auth = stmt.key


def _interface(d: Draft, s: Stmt, _: Diagnostics) -> None:
    d.interface = arg(s).text


def _vrid(d: Draft, s: Stmt, _: Diagnostics) -> None:
    d.vrid, d.vrid_at = integer(s, 1, 255), s.key


def _priority(d: Draft, s: Stmt, _: Diagnostics) -> None:
    d.priority = integer(s, 1, 255)


def _advert_int(d: Draft, s: Stmt, _: Diagnostics) -> None:
    d.advert_us, d.advert = timer(s, 1, MAX_V2_ADVERT_US), arg(s)


def _version(d: Draft, s: Stmt, _: Diagnostics) -> None:
    d.version, d.version_at = integer(s, 2, 3), s.key


def _state(d: Draft, s: Stmt, _: Diagnostics) -> None:
    # keepalived compares the word as written: `state master` starts as BACKUP there.
    word = arg(s).text
    if word not in ("MASTER", "BACKUP"):
        fail(s.args[0], f"state: expected MASTER or BACKUP, got '{s.args[0].text}'")
    d.state = InitialState(word)


def _nopreempt(d: Draft, s: Stmt, _: Diagnostics) -> None:
    d.preempt, d.preempt_at = False, s.key


def _preempt(d: Draft, s: Stmt, _: Diagnostics) -> None:
    d.preempt = True


def _preempt_delay(d: Draft, s: Stmt, _: Diagnostics) -> None:
    d.preempt_delay_us = timer(s, 0, 1000 * US_PER_S)


def _accept(d: Draft, s: Stmt, _: Diagnostics) -> None:
    d.accept = s.name == "accept"


def _src(d: Draft, s: Stmt, _: Diagnostics) -> None:
    value = (ip_value(arg(s), s.name), s.args[0])
    if s.name == "unicast_src_ip":
        d.unicast_src = value
    else:
        d.mcast_src = value


def _mcast_dst(d: Draft, s: Stmt, _: Diagnostics) -> None:
    address = ip_value(arg(s), s.name)
    if not ipaddress.ip_address(address).is_multicast:
        fail(s.args[0], f"mcast_dst_ip: {address} is not a multicast group")
    d.mcast_group = (address, s.args[0])


def _unicast_peer(d: Draft, s: Stmt, diag: Diagnostics) -> None:
    d.peers.extend(read_peers(_block(s), diag))


def _vips(d: Draft, s: Stmt, diag: Diagnostics) -> None:
    vips = read_vips(_block(s), s.name, diag)
    (d.vips if s.name == "virtual_ipaddress" else d.excluded).extend(vips)


def _virtual_routes(d: Draft, s: Stmt, diag: Diagnostics) -> None:
    if s.name == "virtual_routes":
        d.routes.extend(read_routes(_block(s), diag))
    else:
        d.rules.extend(read_rules(_block(s), diag))


def _use_vmac(d: Draft, s: Stmt, _: Diagnostics) -> None:
    if s.name == "vmac_xmit_base":
        d.vmac_xmit_base = True
        return
    if len(s.args) > 1:
        fail(s.args[1], "use_vmac: only an interface name is supported (not a MAC address)")
    if s.args:
        name = s.args[0].text
        if ":" in name:
            fail(s.args[0], "not supported by hatui: use_vmac with a MAC address")
        if len(name) > 15 or any(c in name for c in "/ ") or name in ("", ".", ".."):
            fail(s.args[0], f"use_vmac: '{name}' is not a valid interface name")
        d.vmac_name = name
    d.vmac = s.key


def _track_interface(d: Draft, s: Stmt, _: Diagnostics) -> None:
    for name, weight in track_lines(s, -253, 253):
        d.track_interfaces.append(TrackRef(name=name.text, weight=weight or 0))


def _track_script(d: Draft, s: Stmt, _: Diagnostics) -> None:
    d.track_scripts.extend(Tracked(name=n, weight=w) for n, w in track_lines(s, -253, 253))


def _track_file(d: Draft, s: Stmt, _: Diagnostics) -> None:
    d.track_files.extend(Tracked(name=n, weight=w) for n, w in track_lines(s, -254, 254))


def _track_process(d: Draft, s: Stmt, _: Diagnostics) -> None:
    d.track_processes.extend(Tracked(name=n, weight=w) for n, w in track_lines(s, -254, 254))


def _garp(d: Draft, s: Stmt, _: Diagnostics) -> None:
    match s.name:
        case "garp_master_delay":
            d.garp["master_delay_us"] = timer(s, 0, DAY_US)
        case "garp_master_repeat":
            d.garp["master_repeat"] = integer(s, 1, 255)
        case "garp_master_refresh":
            d.garp["refresh_us"] = timer(s, 0, DAY_US)
        case "garp_master_refresh_repeat":
            d.garp["refresh_repeat"] = integer(s, 1, 255)
        case "garp_lower_prio_delay":
            d.garp["lower_prio_delay_us"] = timer(s, 0, DAY_US)
        case "garp_lower_prio_repeat":
            d.garp["lower_prio_repeat"] = integer(s, 0, 255)
        case _:
            d.garp["interval_us"] = timer(s, 0, US_PER_S)


def _check_unicast_src(d: Draft, s: Stmt, _: Diagnostics) -> None:
    d.check_unicast_src = boolean(s)


# Boolean instance keywords that override the global default of the same meaning.
_FLAGS = frozenset(
    """
    lower_prio_no_advert higher_prio_send_advert dont_track_primary unicast_fault_no_peer
    strict_mode skip_check_adv_addr notify_priority_changes promote_secondaries
    """.split()  # noqa: SIM905 - a word list reads better
)


def _flag(d: Draft, s: Stmt, _: Diagnostics) -> None:
    d.flags[s.name] = boolean(s)


def _down_timer_adverts(d: Draft, s: Stmt, _: Diagnostics) -> None:
    if integer(s, 1, 100) != 3:
        # RFC 5798 6.1: Master_Down_Interval is three intervals plus skew.
        fail(s.key, "not supported by hatui: down_timer_adverts other than 3")


Handler = Callable[[Draft, Stmt, Diagnostics], None]
HANDLERS: dict[str, Handler] = {
    "interface": _interface,
    "virtual_router_id": _vrid,
    "priority": _priority,
    "advert_int": _advert_int,
    "version": _version,
    "state": _state,
    "nopreempt": _nopreempt,
    "preempt": _preempt,
    "preempt_delay": _preempt_delay,
    "accept": _accept,
    "unicast_src_ip": _src,
    "mcast_src_ip": _src,
    "mcast_dst_ip": _mcast_dst,
    "unicast_peer": _unicast_peer,
    "authentication": _authentication,
    "virtual_ipaddress": _vips,
    "virtual_ipaddress_excluded": _vips,
    "use_vmac": _use_vmac,
    "vmac_xmit_base": _use_vmac,
    "virtual_routes": _virtual_routes,
    "virtual_rules": _virtual_routes,
    "track_interface": _track_interface,
    "track_script": _track_script,
    "track_file": _track_file,
    "track_process": _track_process,
    "garp_master_delay": _garp,
    "garp_master_repeat": _garp,
    "garp_master_refresh": _garp,
    "garp_master_refresh_repeat": _garp,
    "garp_interval": _garp,
    "garp_lower_prio_delay": _garp,
    "garp_lower_prio_repeat": _garp,
    **dict.fromkeys(_FLAGS, _flag),
    "check_unicast_src": _check_unicast_src,
    "down_timer_adverts": _down_timer_adverts,
    **dict.fromkeys(_NOTIFY, _notify),
}


def read_instance(stmt: Stmt, diag: Diagnostics) -> Draft | None:
    """Collect one vrrp_instance block; each bad line is reported and skipped."""
    if not stmt.args:
        diag.error("vrrp_instance: missing name", stmt.key.file, stmt.key.line)
        return None
    try:
        block = _block(stmt)
    except ConfigError as e:
        diag.add(e)
        return None
    d = Draft(name=stmt.args[0].text, at=stmt.key)
    for n, line in enumerate(block):
        key = line.key
        try:
            if line.name in UNSUPPORTED:
                fail(key, f"not supported by hatui: {line.name}")
            elif line.name in HANDLERS:
                HANDLERS[line.name](d, line, diag)
            elif line.name in IGNORED:
                diag.warn(f"'{line.name}' ignored: {IGNORED[line.name]}", key.file, key.line)
            elif line.block is not None:
                fail(key, misplaced_block(line, f"vrrp_instance {d.name}", block[n + 1 :]))
            else:
                diag.warn(follows(f"unknown keyword '{line.name}' ignored"), key.file, key.line)
        except ConfigError as e:
            value = line.args[0].text if line.args else ""
            diag.add(would(e, for_keyword(INSTANCE, line.name, value)))
    return d
