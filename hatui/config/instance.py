"""`vrrp_instance` blocks to InstanceSpec, with keepalived's defaults, rounding and warnings."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from hatui.codec.frames import Family
from hatui.config.addresses import read_peers, read_vips
from hatui.config.diagnostics import Diagnostics
from hatui.config.globaldefs import DAY_US, Globals
from hatui.config.lexer import Token
from hatui.config.tree import Stmt
from hatui.config.values import arg, boolean, fail, int_value, integer, ip_value, timer
from hatui.errors import ConfigError
from hatui.types import US_PER_CS, US_PER_S
from hatui.vrrp.spec import InitialState, InstanceSpec, NotifySpec, ScriptSpec, TrackRef, Vip

MAX_V3_ADVERT_US = 40_950_000  # 12-bit centisecond field (RFC 5798 5.2.7)
MAX_V2_ADVERT_US = 255 * US_PER_S  # 8-bit seconds field (RFC 3768 5.3.7)

# keepalived features that change what goes on the wire or the host: refusing them is
# better than running something else than the file says.
UNSUPPORTED = frozenset(
    """
    use_vmac vmac_xmit_base use_vmac_addr use_ipvlan virtual_routes virtual_rules track_bfd
    track_process
    """.split()  # noqa: SIM905 - a word list reads better
)
# Known keywords without any effect on how hatui runs VRRP.
QUIET = frozenset(
    """
    debug smtp_alert native_ipv6 skip_check_adv_addr kernel_rx_buf_size linkbeat_use_polling
    notify_priority_changes promote_secondaries
    """.split()  # noqa: SIM905 - a word list reads better
)
IGNORED = frozenset(
    """
    garp_lower_prio_delay garp_lower_prio_repeat lower_prio_no_advert
    higher_prio_send_advert strict_mode track_src_ip unicast_ttl unicast_fault_no_peer
    old_unicast_checksum notify_master_rx_lower_pri notify_deleted garp_extra_if
    dont_track_primary vrf global_tracking sync_group_tracking_weight
    """.split()  # noqa: SIM905 - a word list reads better
)
_NOTIFY = {
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
    mcast_group: str | None = None
    track_interfaces: list[TrackRef] = field(default_factory=list)
    track_scripts: list[Tracked] = field(default_factory=list)
    track_files: list[Tracked] = field(default_factory=list)
    notify: NotifySpec = field(default_factory=NotifySpec)
    garp: dict[str, int] = field(default_factory=dict)
    check_unicast_src: bool | None = None


def _block(stmt: Stmt) -> tuple[Stmt, ...]:
    if stmt.block is None:
        fail(stmt.key, f"{stmt.name}: expected a '{{' block")
    return stmt.block


def _track_lines(stmt: Stmt, lo: int, hi: int) -> list[tuple[Token, int | None]]:
    """`NAME [weight N]` lines of a track_* block; `reverse` is refused, not ignored."""
    out: list[tuple[Token, int | None]] = []
    for line in _block(stmt):
        words = [line.key, *line.args]
        weight: int | None = None
        rest = words[1:]
        if rest and rest[0].text == "weight":
            if len(rest) < 2:
                fail(rest[0], f"{stmt.name}: weight needs a value")
            weight = int_value(rest[1], f"{stmt.name} weight", lo, hi)
            rest = rest[2:]
        if rest and rest[0].text in ("reverse", "no_reverse", "noreverse"):
            if rest[0].text == "reverse":
                fail(rest[0], f"not supported by hatui: '{stmt.name}' weight reverse")
            rest = rest[1:]
        if rest or line.block is not None:
            fail(line.key, f"{stmt.name}: expected NAME [weight N], got '{line.key.text} ...'")
        out.append((line.key, weight))
    return out


def _notify(d: Draft, stmt: Stmt, diag: Diagnostics) -> None:
    command = arg(stmt).text
    if len(stmt.args) > 1:
        # keepalived reads the words after the script as user and group.
        diag.warn(
            f"{stmt.name}: user/group ignored: hatui runs scripts as script_user",
            stmt.key.file,
            stmt.key.line,
        )
    d.notify = replace(d.notify, **{_NOTIFY[stmt.name]: command})


def _authentication(d: Draft, stmt: Stmt, diag: Diagnostics) -> None:
    kind: str | None = None
    for line in _block(stmt):
        if line.name == "auth_type":
            kind = arg(line).text.upper()
            if kind == "AH":
                fail(line.key, "not supported by hatui: auth_type AH")
            if kind != "PASS":
                fail(line.args[0], f"auth_type: expected PASS or AH, got '{line.args[0].text}'")
        elif line.name == "auth_pass":
            secret = arg(line).text
            if len(secret.encode()) > 8:
                # RFC 3768 5.3.10: 8 octets; keepalived truncates and says so.
                diag.warn("auth_pass truncated to 8 characters", line.key.file, line.key.line)
                secret = secret.encode()[:8].decode(errors="ignore")
            d.auth_pass = secret
        else:
            diag.warn(f"unknown keyword '{line.name}' ignored", line.key.file, line.key.line)
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
    word = arg(s).text.upper()
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
    d.mcast_group = address


def _unicast_peer(d: Draft, s: Stmt, diag: Diagnostics) -> None:
    d.peers.extend(read_peers(_block(s), diag))


def _vips(d: Draft, s: Stmt, diag: Diagnostics) -> None:
    vips = read_vips(_block(s), s.name, diag)
    (d.vips if s.name == "virtual_ipaddress" else d.excluded).extend(vips)


def _track_interface(d: Draft, s: Stmt, _: Diagnostics) -> None:
    for name, weight in _track_lines(s, -253, 253):
        d.track_interfaces.append(TrackRef(name=name.text, weight=weight or 0))


def _track_script(d: Draft, s: Stmt, _: Diagnostics) -> None:
    d.track_scripts.extend(Tracked(name=n, weight=w) for n, w in _track_lines(s, -253, 253))


def _track_file(d: Draft, s: Stmt, _: Diagnostics) -> None:
    d.track_files.extend(Tracked(name=n, weight=w) for n, w in _track_lines(s, -254, 254))


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
        case _:
            d.garp["interval_us"] = timer(s, 0, US_PER_S)


def _check_unicast_src(d: Draft, s: Stmt, _: Diagnostics) -> None:
    d.check_unicast_src = boolean(s)


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
    "no_accept": _accept,
    "unicast_src_ip": _src,
    "mcast_src_ip": _src,
    "mcast_dst_ip": _mcast_dst,
    "unicast_peer": _unicast_peer,
    "authentication": _authentication,
    "virtual_ipaddress": _vips,
    "virtual_ipaddress_excluded": _vips,
    "track_interface": _track_interface,
    "track_script": _track_script,
    "track_file": _track_file,
    "garp_master_delay": _garp,
    "garp_master_repeat": _garp,
    "garp_master_refresh": _garp,
    "garp_master_refresh_repeat": _garp,
    "garp_interval": _garp,
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
    for line in block:
        key = line.key
        try:
            if line.name in UNSUPPORTED:
                fail(key, f"not supported by hatui: {line.name}")
            elif line.name in HANDLERS:
                HANDLERS[line.name](d, line, diag)
            elif line.name in QUIET:
                pass
            elif line.name in IGNORED:
                diag.warn(f"'{line.name}' ignored: hatui does not implement it", key.file, key.line)
            else:
                diag.warn(f"unknown keyword '{line.name}' ignored", key.file, key.line)
        except ConfigError as e:
            diag.add(e)
    return d


def _advert(d: Draft, version: int, diag: Diagnostics) -> int:
    us, at = d.advert_us, d.advert
    if version == 2 and us % US_PER_S:
        rounded = max(US_PER_S, (us + US_PER_S // 2) // US_PER_S * US_PER_S)
        if at is not None:
            diag.warn(
                f"VRRPv2 advert_int {at.text} must be whole seconds: rounded to "
                f"{rounded // US_PER_S}",
                at.file,
                at.line,
            )
        return rounded
    if version == 3:
        if us > MAX_V3_ADVERT_US and at is not None:
            fail(at, f"advert_int {at.text} out of range 0.01..40.95 for VRRPv3")
        if us % US_PER_CS:
            rounded = max(US_PER_CS, (us + US_PER_CS // 2) // US_PER_CS * US_PER_CS)
            if at is not None:
                diag.warn(f"VRRPv3 advert_int {at.text} rounded to centiseconds", at.file, at.line)
            return rounded
    return us


def finish_instance(
    d: Draft,
    g: Globals,
    scripts: dict[str, ScriptSpec],
    files: dict[str, int],
    diag: Diagnostics,
) -> InstanceSpec | None:
    """Apply defaults and cross-checks; None when an error was reported."""
    before = len(diag.errors)
    where = f"vrrp_instance {d.name}"

    def error(message: str, at: Token) -> None:
        diag.error(message, at.file, at.line)

    if d.interface is None:
        error(f"{where} has no interface", d.at)
    if d.vrid is None:
        error(f"{where} has no virtual_router_id", d.at)
    if not d.vips:
        error(f"{where} has no virtual_ipaddress", d.at)
        return None
    family = d.vips[0][0].family
    for vip, at in d.vips[1:]:
        if vip.family is not family:
            error(
                f"virtual_ipaddress {vip}: mixes IPv4 and IPv6 in one instance "
                "(use virtual_ipaddress_excluded)",
                at,
            )
    if d.version is not None:
        version = d.version
        if version == 2 and family is Family.IPV6 and d.version_at is not None:
            error("version 2 cannot carry IPv6 addresses (RFC 3768 is IPv4 only)", d.version_at)
    else:
        # keepalived.conf(5): IPv6 instances always use version 3.
        version = 3 if family is Family.IPV6 else (g.version or 2)
    try:
        advert_us = _advert(d, version, diag)
    except ConfigError as e:
        diag.add(e)
        advert_us = d.advert_us
    want = 4 if family is Family.IPV4 else 6
    for label, pairs in (
        ("unicast_peer", d.peers),
        ("unicast_src_ip", [d.unicast_src]),
        ("mcast_src_ip", [d.mcast_src]),
    ):
        for pair in pairs:
            if pair is not None and ipaddress.ip_address(pair[0]).version != want:
                error(f"{label} {pair[0]}: not IPv{want} like the instance's addresses", pair[1])
    auth_pass = d.auth_pass if d.auth is not None else None
    if auth_pass is not None and version == 3 and d.auth is not None:
        diag.warn(
            "VRRP version 3 does not support authentication: ignored", d.auth.file, d.auth.line
        )
        auth_pass = None
    if auth_pass is not None and g.strict and d.auth is not None:
        diag.warn("vrrp_strict does not allow authentication: ignored", d.auth.file, d.auth.line)
        auth_pass = None
    if not d.preempt and d.state is InitialState.MASTER and d.preempt_at is not None:
        diag.warn("nopreempt has no effect with state MASTER", d.preempt_at.file, d.preempt_at.line)
    track_interfaces: list[TrackRef] = []
    for ref in d.track_interfaces:
        if ref.name == d.interface:
            # keepalived tracks the instance's own link anyway and ignores this line.
            diag.warn(
                f"track_interface {ref.name} is the instance's own interface: ignored",
                d.at.file,
                d.at.line,
            )
        else:
            track_interfaces.append(ref)
    track_scripts: list[TrackRef] = []
    for t in d.track_scripts:
        script = scripts.get(t.name.text)
        if script is None:
            error(f"track_script '{t.name.text}' is not defined by any vrrp_script", t.name)
            continue
        # keepalived.conf(5): no weight here means the script's own weight.
        weight = script.weight if t.weight is None else t.weight
        track_scripts.append(TrackRef(name=t.name.text, weight=weight))
    track_files: list[TrackRef] = []
    for t in d.track_files:
        if t.name.text not in files:
            error(f"track_file '{t.name.text}' is not defined by any vrrp_track_file", t.name)
            continue
        weight = files[t.name.text] if t.weight is None else t.weight
        track_files.append(TrackRef(name=t.name.text, weight=weight))
    if len(diag.errors) > before or d.interface is None or d.vrid is None:
        return None
    group = d.mcast_group or (g.mcast_group4 if family is Family.IPV4 else g.mcast_group6)
    # keepalived.conf(5): strict mode clears accept unless the router owns the address.
    accept = d.accept if d.accept is not None else (not g.strict or d.priority == 255)
    try:
        return InstanceSpec(
            name=d.name,
            interface=d.interface,
            vrid=d.vrid,
            priority=d.priority,
            advert_int_us=advert_us,
            version=version,
            vips=tuple(v for v, _ in d.vips),
            excluded_vips=tuple(v for v, _ in d.excluded),
            initial_state=d.state,
            preempt=d.preempt,
            preempt_delay_us=d.preempt_delay_us,
            accept=accept,
            auth_pass=auth_pass,
            unicast_src=d.unicast_src[0] if d.unicast_src else None,
            unicast_peers=tuple(p for p, _ in d.peers),
            mcast_src=d.mcast_src[0] if d.mcast_src else None,
            mcast_group=group,
            track_interfaces=tuple(track_interfaces),
            track_scripts=tuple(track_scripts),
            track_files=tuple(track_files),
            notify=d.notify,
            garp=replace(g.garp, **d.garp),
            source=f"{d.at.file}:{d.at.line}",
            check_unicast_src=(
                g.check_unicast_src if d.check_unicast_src is None else d.check_unicast_src
            ),
        )
    except ValueError as e:
        error(f"{where}: {e}", d.at)
        return None
