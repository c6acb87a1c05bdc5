"""The PromQL instant queries one fleet refresh asks, whatever the fleet's size.

Each query covers every node at once (never one per node), so a refresh costs the same
number of round trips for two nodes as for a thousand. `--fleet-match` adds its matchers
to every selector.
"""

from __future__ import annotations

from dataclasses import dataclass

from hatui.errors import UsageError

# A node that stops answering leaves its series stale at once: its last known state comes
# from this far back (the "down while holding a VIP" alert needs it).
LOOKBACK = "15m"
# Recent failovers and flapping are counted over this window.
WINDOW = "10m"
WINDOW_S = 600.0
STATE_METRIC = "keepalived_vrrp_state"
PRIORITY_METRICS = ("hatui_instance_effective_priority", "hatui_node_priority")
TRANSITION_METRIC = "hatui_instance_last_transition_timestamp_seconds"
ROUTER_METRICS = (
    "hatui_router_master",
    "hatui_router_priority",
    "hatui_router_split_brain",
    "hatui_router_stale",
    "hatui_router_senders",
    "hatui_router_advert_age_seconds",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Query:
    key: str
    expr: str


def matchers(match: str) -> str:
    """`{job="hatui"}` -> `job="hatui"` (the text between braces); UsageError otherwise.
    Prometheus itself checks the matchers' syntax (a bad one is its one-line error)."""
    text = match.strip()
    if not text:
        return ""
    if not (text.startswith("{") and text.endswith("}")):
        raise UsageError(
            f"--fleet-match {match}: expected a label selector such as '{{job=\"hatui\"}}'"
        )
    return text[1:-1].strip().rstrip(",")


def _sel(name: str, inner: str) -> str:
    return f"{name}{{{inner}}}" if inner else name


def fleet_queries(match: str = "") -> tuple[Query, ...]:
    """The whole refresh: nodes, instances (live, and last known for down nodes), recent
    elections, and the LAN routers watchers report."""
    m = matchers(match)
    sep = ", " if m else ""
    up = _sel("up", m)
    names = "|".join((STATE_METRIC, *PRIORITY_METRICS, TRANSITION_METRIC))
    routers = "|".join(ROUTER_METRICS)
    return (
        Query(key="up", expr=up),
        Query(key="scraped", expr=f"timestamp({up})"),
        Query(key="live", expr=f'{{__name__=~"{names}"{sep}{m}}}'),
        Query(
            key="last_state",
            expr=f"last_over_time({_sel(STATE_METRIC, m)}[{LOOKBACK}])"
            f" unless on (job, instance) ({up} == 1)",
        ),
        Query(
            key="became_master",
            expr="sum by (job, instance, iname, intf, vrid) "
            f"(increase({_sel('keepalived_become_master_total', m)}[{WINDOW}])) > 0",
        ),
        Query(key="routers", expr=f'{{__name__=~"{routers}"{sep}{m}}}'),
        Query(
            key="router_changes",
            expr="sum by (job, instance, interface, protocol, family, vrid) "
            f"(increase({_sel('hatui_router_master_change_total', m)}[{WINDOW}])) > 0",
        ),
    )
