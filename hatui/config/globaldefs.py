"""`global_defs`: the node-wide settings instances inherit (version, groups, GARP policy)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace

from hatui.config.diagnostics import Diagnostics
from hatui.config.fallback import GLOBAL, follows, for_keyword, misplaced_block, would
from hatui.config.lexer import Token
from hatui.config.tree import Stmt
from hatui.config.values import arg, boolean, fail, integer, ip_value, text, timer
from hatui.errors import ConfigError
from hatui.vrrp.spec import GarpSpec

DAY_US = 86_400_000_000


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# keepalived global_defs keywords hatui knows and does not act on, each group with the
# reason the operator is told (every one warns: nothing is accepted silently).
IGNORED: dict[str, frozenset[str]] = {
    "hatui sends no mail": _words(
        """notification_email notification_email_from smtp_server smtp_helo_name
        smtp_connect_timeout smtp_alert smtp_alert_vrrp smtp_alert_checker no_email_faults"""
    ),
    "hatui runs VRRP only (no LVS, checkers or BFD)": _words(
        """checker_log_all_failures lvs_sync_daemon lvs_timeouts lvs_flush lvs_flush_on_stop
        lvs_notify_fifo lvs_notify_fifo_script checker_priority bfd_priority checker_no_swap
        bfd_no_swap checker_cpu_affinity bfd_cpu_affinity checker_rt_priority bfd_rt_priority
        checker_rlimit_rttime bfd_rlimit_rttime checker_process_name bfd_process_name
        checker_netlink_cmd_rcv_bufs checker_netlink_cmd_rcv_bufs_force
        checker_netlink_monitor_rcv_bufs checker_netlink_monitor_rcv_bufs_force
        nftables_ipvs nftables_ipvs_priority nftables_ipvs_start_fwmark"""
    ),
    "hatui has no SNMP or D-Bus interface (use --metrics and hatui ctl)": _words(
        """enable_snmp_vrrp enable_snmp_checker enable_snmp_rfc enable_snmp_rfcv2
        enable_snmp_rfcv3 enable_traps snmp_socket enable_dbus enable_dbus_instance
        dbus_service_name"""
    ),
    "hatui runs one process and does not tune it this way": _words(
        """vrrp_no_swap vrrp_cpu_affinity vrrp_rlimit_rttime max_auto_priority
        min_auto_priority_delay process_names process_name vrrp_process_name
        vrrp_rx_bufs_policy vrrp_rx_bufs_multiplier vrrp_netlink_cmd_rcv_bufs
        vrrp_netlink_cmd_rcv_bufs_force vrrp_netlink_monitor_rcv_bufs
        vrrp_netlink_monitor_rcv_bufs_force child_wait_time random_seed umask"""
    ),
    "hatui adds no firewall rules (accept mode is always on)": _words(
        """vrrp_iptables vrrp_ipsets nftables nftables_priority nftables_counters
        nftables_ifindex"""
    ),
    "hatui does not implement it": _words(
        """disable_local_igmp default_interface dynamic_interfaces namespace_with_ipsets
        use_pid_dir tmp_config_directory data_use_instance
        reload_check_config reload_time_file reload_repeat reload_file config_save_dir
        include_check startup_script startup_script_timeout shutdown_script
        shutdown_script_timeout vrrp_startup_delay vrrp_log_unknown_vrids
        linkbeat_use_polling script_timeout vrrp_down_timer_adverts vrrp_garp_extra_if
        vrrp_garp_extra_if_vmac vrrp_gna_interval fifo_write_vrrp_states_on_reload"""
    ),
}
IGNORED["hatui runs in the namespace and instance it is started in (ip netns exec)"] = _words(
    "net_namespace instance"
)
_REASON = {word: reason for reason, words in IGNORED.items() for word in words}


@dataclass(frozen=True, slots=True, kw_only=True)
class Globals:
    """What `global_defs` sets for the whole node."""

    router_id: str | None = None
    version: int | None = None  # None: 2 for IPv4 instances, 3 for IPv6 (keepalived)
    mcast_group4: str | None = None
    mcast_group6: str | None = None
    garp: GarpSpec = field(default_factory=GarpSpec)
    strict: bool = False
    check_unicast_src: bool = False
    script_user: str | None = None
    script_user_at: tuple[Token, Token | None] | None = None  # the user and group words
    enable_script_security: bool = False
    rt_priority: int | None = None
    nice: int | None = None
    lower_prio_no_advert: bool | None = None  # None: on with vrrp_strict (keepalived)
    higher_prio_send_advert: bool = False
    skip_check_adv_addr: bool = False
    notify_priority_changes: bool = False
    # "notify_fifo" / "vrrp_notify_fifo" -> (FIFO path word, user word, group word), and
    # "notify_fifo_script" / ... -> the script line: resolved once script_user is known.
    fifos: tuple[tuple[str, Token, Token | None, Token | None], ...] = ()
    fifo_scripts: tuple[tuple[str, Stmt], ...] = ()


def _group(stmt: Stmt, version: int) -> str:
    address = ip_value(arg(stmt), stmt.name)
    ip = ipaddress.ip_address(address)
    if ip.version != version or not ip.is_multicast:
        fail(stmt.args[0], f"{stmt.name}: {address} is not an IPv{version} multicast group")
    return address


def _apply(g: Globals, stmt: Stmt, diag: Diagnostics, after: tuple[Stmt, ...]) -> Globals:
    name, key = stmt.name, stmt.key
    match name:
        case "router_id":
            return replace(g, router_id=text(stmt))
        case "vrrp_version":
            return replace(g, version=integer(stmt, 2, 3))
        case "vrrp_mcast_group4":
            return replace(g, mcast_group4=_group(stmt, 4))
        case "vrrp_mcast_group6":
            return replace(g, mcast_group6=_group(stmt, 6))
        case "vrrp_garp_master_delay":
            return replace(g, garp=replace(g.garp, master_delay_us=timer(stmt, 0, DAY_US)))
        case "vrrp_garp_master_repeat":
            return replace(g, garp=replace(g.garp, master_repeat=integer(stmt, 1, 255)))
        case "vrrp_garp_master_refresh":
            return replace(g, garp=replace(g.garp, refresh_us=timer(stmt, 0, DAY_US)))
        case "vrrp_garp_master_refresh_repeat":
            return replace(g, garp=replace(g.garp, refresh_repeat=integer(stmt, 1, 255)))
        case "vrrp_garp_interval":
            return replace(g, garp=replace(g.garp, interval_us=timer(stmt, 0, 1_000_000)))
        case "vrrp_garp_lower_prio_delay":
            return replace(g, garp=replace(g.garp, lower_prio_delay_us=timer(stmt, 0, DAY_US)))
        case "vrrp_garp_lower_prio_repeat":
            return replace(g, garp=replace(g.garp, lower_prio_repeat=integer(stmt, 0, 255)))
        case "vrrp_lower_prio_no_advert":
            return replace(g, lower_prio_no_advert=boolean(stmt))
        case "vrrp_higher_prio_send_advert":
            return replace(g, higher_prio_send_advert=boolean(stmt))
        case "vrrp_skip_check_adv_addr":
            return replace(g, skip_check_adv_addr=boolean(stmt))
        case "notify_fifo" | "vrrp_notify_fifo":
            if any(kind == name for kind, *_ in g.fifos):
                fail(key, f"{name} already specified")
            words = (*stmt.args[1:3], None, None)
            return replace(g, fifos=(*g.fifos, (name, arg(stmt), words[0], words[1])))
        case "notify_fifo_script" | "vrrp_notify_fifo_script":
            arg(stmt)
            if any(kind == name for kind, _ in g.fifo_scripts):
                fail(key, f"{name} already specified")
            return replace(g, fifo_scripts=(*g.fifo_scripts, (name, stmt)))
        case "vrrp_notify_priority_changes":
            return replace(g, notify_priority_changes=boolean(stmt))
        case "vrrp_min_garp":
            # keepalived.conf(5): one GARP/NA, and no second burst.
            if boolean(stmt):
                return replace(g, garp=replace(g.garp, master_repeat=1, master_delay_us=0))
            return g
        case "vrrp_check_unicast_src":
            return replace(g, check_unicast_src=boolean(stmt))
        case "vrrp_strict":
            return replace(g, strict=boolean(stmt))
        case "script_user":
            group = stmt.args[1] if len(stmt.args) > 1 else None
            return replace(g, script_user=arg(stmt).text, script_user_at=(arg(stmt), group))
        case "enable_script_security":
            return replace(g, enable_script_security=boolean(stmt))
        case "vrrp_rt_priority":
            return replace(g, rt_priority=integer(stmt, 1, 99))
        case "vrrp_priority":
            return replace(g, nice=integer(stmt, -20, 19))
        case _ if name in _REASON:
            diag.warn(f"'{name}' ignored: {_REASON[name]}", key.file, key.line)
            return g
        case _ if stmt.block is not None:
            fail(key, misplaced_block(stmt, "global_defs", after))
        case _:
            diag.warn(follows(f"unknown keyword '{name}' ignored"), key.file, key.line)
            return g


def read_global_defs(g: Globals, block: tuple[Stmt, ...], diag: Diagnostics) -> Globals:
    """Fold one `global_defs` block into `g`; a bad line is reported and skipped."""
    for n, stmt in enumerate(block):
        try:
            g = _apply(g, stmt, diag, block[n + 1 :])
        except ConfigError as e:
            value = stmt.args[0].text if stmt.args else ""
            diag.add(would(e, for_keyword(GLOBAL, stmt.name, value)))
    return g
