"""A vrrp_instance draft to InstanceSpec: version, interval rounding, references, defaults."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from hatui.codec.frames import Family
from hatui.config.diagnostics import Diagnostics
from hatui.config.fallback import KEEPALIVED, follows
from hatui.config.globaldefs import Globals
from hatui.config.instance import Draft
from hatui.config.lexer import Token
from hatui.config.values import fail
from hatui.errors import ConfigError
from hatui.types import US_PER_CS, US_PER_S
from hatui.vrrp.spec import InitialState, InstanceSpec, ScriptSpec, TrackRef

MAX_V3_ADVERT_US = 40_950_000  # 12-bit centisecond field (RFC 5798 5.2.7)
_WITHOUT = f"; {KEEPALIVED} would run this instance without it"


def _advert(d: Draft, version: int, diag: Diagnostics) -> int:
    us, at = d.advert_us, d.advert
    if version == 2 and us % US_PER_S:
        rounded = max(US_PER_S, (us + US_PER_S // 2) // US_PER_S * US_PER_S)
        if at is not None:
            diag.warn(
                follows(
                    f"VRRPv2 advert_int {at.text} must be whole seconds: rounded to "
                    f"{rounded // US_PER_S}"
                ),
                at.file,
                at.line,
            )
        return rounded
    if version == 3:
        if us > MAX_V3_ADVERT_US and at is not None:
            fail(
                at,
                f"advert_int {at.text} out of range 0.01..40.95 for VRRPv3; {KEEPALIVED} "
                "would advertise every 40.95 s",
            )
        if us % US_PER_CS:
            rounded = max(US_PER_CS, (us + US_PER_CS // 2) // US_PER_CS * US_PER_CS)
            if at is not None:
                diag.warn(
                    follows(
                        f"VRRPv3 advert_int {at.text} rounded to centiseconds "
                        f"({rounded // US_PER_CS / 100:g})"
                    ),
                    at.file,
                    at.line,
                )
            return rounded
    return us


def _vmac_name(d: Draft) -> str | None:
    """keepalived names a macvlan `vrrp.VRID` unless the config gives a name."""
    if d.vmac is None:
        return None
    return d.vmac_name or f"vrrp.{d.vrid}"


def finish_instance(
    d: Draft,
    g: Globals,
    scripts: dict[str, ScriptSpec],
    files: dict[str, int],
    diag: Diagnostics,
    processes: dict[str, int] | None = None,
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
        # keepalived runs such an instance, if it has what it cannot do without.
        runs = d.interface is not None and d.vrid is not None
        error(
            f"{where} has no virtual_ipaddress"
            + (f"; {KEEPALIVED} would run it with none" if runs else ""),
            d.at,
        )
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
        ("mcast_dst_ip", [d.mcast_group]),
    ):
        for pair in pairs:
            if pair is not None and ipaddress.ip_address(pair[0]).version != want:
                error(f"{label} {pair[0]}: not IPv{want} like the instance's addresses", pair[1])
    flags = d.flags
    strict = flags.get("strict_mode", g.strict)
    auth_pass = d.auth_pass if d.auth is not None else None
    if auth_pass is not None and version == 3 and d.auth is not None:
        diag.warn(
            "VRRP version 3 does not support authentication: ignored", d.auth.file, d.auth.line
        )
        auth_pass = None
    if auth_pass is not None and strict and d.auth is not None:
        diag.warn("vrrp_strict does not allow authentication: ignored", d.auth.file, d.auth.line)
        auth_pass = None
    if not d.preempt and d.state is InitialState.MASTER and d.preempt_at is not None:
        diag.warn(
            follows("nopreempt has no effect with state MASTER: cleared"),
            d.preempt_at.file,
            d.preempt_at.line,
        )
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
            error(
                f"track_script '{t.name.text}' is not defined by any vrrp_script{_WITHOUT}", t.name
            )
            continue
        # keepalived.conf(5): no weight here means the script's own weight.
        weight = script.weight if t.weight is None else t.weight
        track_scripts.append(TrackRef(name=t.name.text, weight=weight))
    track_files: list[TrackRef] = []
    for t in d.track_files:
        if t.name.text not in files:
            error(
                f"track_file '{t.name.text}' is not defined by any vrrp_track_file{_WITHOUT}",
                t.name,
            )
            continue
        weight = files[t.name.text] if t.weight is None else t.weight
        track_files.append(TrackRef(name=t.name.text, weight=weight))
    track_processes: list[TrackRef] = []
    for t in d.track_processes:
        if t.name.text not in (processes or {}):
            error(
                f"track_process '{t.name.text}' is not defined by any vrrp_track_process{_WITHOUT}",
                t.name,
            )
            continue
        weight = (processes or {})[t.name.text] if t.weight is None else t.weight
        track_processes.append(TrackRef(name=t.name.text, weight=weight))
    if d.vmac_xmit_base and d.vmac is None:
        diag.warn("vmac_xmit_base without use_vmac: ignored", d.at.file, d.at.line)
    if len(diag.errors) > before or d.interface is None or d.vrid is None:
        return None
    group = (
        d.mcast_group[0]
        if d.mcast_group
        else (g.mcast_group4 if family is Family.IPV4 else g.mcast_group6)
    )
    # keepalived.conf(5): strict mode clears accept unless the router owns the address;
    # hatui has no firewall to drop traffic to the VIPs with, and says so.
    accept = d.accept if d.accept is not None else (not strict or d.priority == 255)
    if not accept:
        diag.warn(
            f"{where}: strict mode's no_accept ignored: hatui adds no firewall rules, "
            "traffic to the VIPs is accepted",
            d.at.file,
            d.at.line,
        )
        accept = True
    lower_quiet = g.lower_prio_no_advert if g.lower_prio_no_advert is not None else strict
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
            track_processes=tuple(track_processes),
            notify=d.notify,
            garp=replace(g.garp, **d.garp),
            source=f"{d.at.file}:{d.at.line}",
            check_unicast_src=(
                g.check_unicast_src if d.check_unicast_src is None else d.check_unicast_src
            ),
            lower_prio_no_advert=flags.get("lower_prio_no_advert", lower_quiet),
            higher_prio_send_advert=flags.get("higher_prio_send_advert", g.higher_prio_send_advert),
            dont_track_primary=flags.get("dont_track_primary", False),
            fault_no_peer=flags.get("unicast_fault_no_peer", False) and not d.peers,
            skip_check_adv_addr=flags.get("skip_check_adv_addr", g.skip_check_adv_addr),
            promote_secondaries=flags.get("promote_secondaries", False),
            vmac=_vmac_name(d),
            vmac_xmit_base=d.vmac_xmit_base,
            virtual_routes=tuple(d.routes),
            virtual_rules=tuple(d.rules),
            notify_priority_changes=flags.get("notify_priority_changes", g.notify_priority_changes),
        )
    except ValueError as e:
        error(f"{where}: {e}", d.at)
        return None
