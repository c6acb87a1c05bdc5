"""Colours shared by the front ends (console and headless log): one table of each."""

from __future__ import annotations

# A router's status as the JSON document says it.
STATUS_STYLE: dict[str, str] = {
    "ok": "green",
    "stale": "bold red",
    "split_brain": "bold white on red",
    "mismatch": "bold magenta",
}
# A node instance's state.
STATE_STYLE: dict[str, str] = {
    "MASTER": "bold green",
    "BACKUP": "cyan",
    "FAULT": "bold red",
    "INIT": "dim",
}

# Keyed by the event's kind as it appears in JSON: observer kinds and the node's node_* kinds.
EVENT_STYLE: dict[str, str] = {
    "master_change": "bold yellow",
    "near_failover": "yellow",
    "node_near_failover": "yellow",
    "split_brain": "bold red",
    "split_brain_healed": "green",
    "stale": "red",
    "stale_recovered": "green",
    "mismatch": "magenta",
    "vip_foreign_mac": "bold red",
    "owner_claim": "bold red",
    "arp_owner_change": "yellow",
    "vip_announced": "cyan",
    "vip_conflict": "bold white on red",
    "vip_conflict_cleared": "green",
    "release": "yellow",
    "rejected": "dim red",
    "new_router": "cyan",
    "node_transition": "bold cyan",
    "node_command": "bold blue",
    "node_error": "bold red",
    "lan_view_lost": "bold red",
    "lan_view_back": "green",
    "haproxy_up": "green",
    "haproxy_restart": "yellow",
    "haproxy_unreachable": "bold red",
    "haproxy_server": "yellow",
    "haproxy_frontend": "yellow",
    "haproxy_down": "bold white on red",
    "haproxy_vip_unserved": "bold white on red",
    "haproxy_vip_unbound": "bold red",
    "haproxy_alert_cleared": "green",
}


# syslog severities (RFC 5424) for journald's `<N>` line prefixes, so `journalctl -p warning`
# shows what needs a look. Kinds not listed are informational (6).
EVENT_SEVERITY: dict[str, int] = {
    "split_brain": 3,
    "vip_foreign_mac": 3,
    "vip_conflict": 3,
    "owner_claim": 3,
    "node_error": 3,
    "lan_view_lost": 4,
    "stale": 4,
    "mismatch": 4,
    "near_failover": 4,
    "node_near_failover": 4,
    "master_change": 5,
    "release": 5,
    "node_transition": 5,
    "node_command": 5,
}
