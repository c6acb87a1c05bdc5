"""Rich text for the console: table cells, the detail pane, event lines, the header.

Pure functions of the view model (no Textual), so tests read the plain text and every mode
renders the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from rich.text import Text

from hatui.styles import EVENT_STYLE, STATE_STYLE, STATUS_STYLE
from hatui.ui.model import (
    Counters,
    EventRow,
    InstanceRow,
    Mode,
    ObserverView,
    RouterRow,
)

STATUS_LABEL = {"ok": "ok", "stale": "STALE", "split_brain": "SPLIT BRAIN", "mismatch": "mismatch"}
SPARK = "▁▂▃▄▅▆▇█"
PROTO_STYLE = {"hsrp": "bold blue", "carp": "bold cyan"}  # VRRP, the common case, is plain
AUTH_SHORT = {"cisco-md5": "md5*", "unknown": "?"}  # *: not verifiable by an observer
VMAC_MARK = "*"  # after a MAC: it is the VRRP virtual MAC 00:00:5e:00:0x:VRID


def clock(t: float) -> str:
    """Capture time of day, UTC, to the millisecond: matches the headless log lines."""
    dt = datetime.fromtimestamp(t, tz=UTC)
    return dt.strftime("%H:%M:%S.") + f"{dt.microsecond // 1000:03d}"


def duration(s: float) -> str:
    if s < 10:
        return f"{s:.1f}s"
    if s < 600:
        return f"{s:.0f}s"
    if s < 36000:
        return f"{s / 60:.0f}m"
    return f"{s / 3600:.0f}h"


LIVE = "live"


def age_text(r: RouterRow) -> str:
    """What the age cell shows: "live" while adverts come on time, else the silence."""
    return LIVE if r.age_s * 1000 <= 1.5 * r.interval_ms else duration(r.age_s)


def rate_text(per_s: float) -> str:
    """Adverts per second: whole numbers from 10 up, so 9.9 / 10.1 jitter does not redraw."""
    return f"{per_s:.0f}" if per_s >= 9.95 else f"{per_s:.1f}"


def age_cell(r: RouterRow) -> Text:
    """The master's silence, coloured against its Master_Down_Interval: "live" (green)
    while adverts come on time (within one and a half intervals), then the seconds, yellow
    while a backup would still wait, red beyond. On-time ages are flicker that tells an
    operator nothing and costs a redraw of every row; a late master's age is the news."""
    text = age_text(r)
    if text == LIVE:
        return Text(text, style="green", justify="right")
    style = "yellow" if r.age_s * 1000 <= r.master_down_ms else "bold red"
    return Text(text, style=style, justify="right")


def status_cell(status: str) -> Text:
    return Text(STATUS_LABEL.get(status, status), style=STATUS_STYLE.get(status, ""))


def mac_cell(mac: str, virtual: bool) -> Text:
    return Text(mac + (VMAC_MARK if virtual else " "), style="bold" if virtual else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    key: str
    label: str
    width: int  # cells of content; fixed, so an update never re-measures the table
    rank: int  # which columns stay at narrow widths: lowest rank first
    flex: bool = False  # takes what is left over


CELL_PAD = 2  # DataTable pads each cell by one on either side


def fit_columns(columns: tuple[Column, ...], avail: int) -> tuple[Column, ...]:
    """The columns that fit in `avail` cells, most important first, in display order; the
    flex column (if kept) widens into what is left."""
    kept: list[Column] = []
    used = 0
    for col in sorted(columns, key=lambda c: c.rank):
        if used + col.width + CELL_PAD <= avail or not kept:
            kept.append(col)
            used += col.width + CELL_PAD
    spare = max(0, avail - used)
    out = []
    for col in columns:
        if col in kept:
            out.append(replace(col, width=col.width + spare) if col.flex else col)
    return tuple(out)


ROUTER_COLUMNS: tuple[Column, ...] = (
    Column(key="vrid", label="VRID", width=4, rank=0),
    Column(key="status", label="status", width=11, rank=1),
    Column(key="master", label="master IP", width=15, rank=2, flex=True),
    Column(key="prio", label="prio", width=4, rank=3),
    # V2 V3 CARP HSRP: ranked to stay at 80 columns, where "int ms" gives way to it
    Column(key="proto", label="prot", width=4, rank=3),
    Column(key="age", label="age", width=5, rank=4),
    Column(key="vips", label="VIPs", width=15, rank=5),
    Column(key="int", label="int ms", width=6, rank=6),
    Column(key="rate", label="adv/s", width=5, rank=7),
    Column(key="mac", label="master MAC", width=18, rank=8),
    Column(key="auth", label="auth", width=6, rank=10),
    Column(key="where", label="if/fam", width=10, rank=11),
)


def router_cells(r: RouterRow) -> dict[str, str | Text]:
    """One table row, by column key."""
    vips = r.vips[0] + (f" +{len(r.vips) - 1}" if len(r.vips) > 1 else "") if r.vips else "-"
    return {
        "vrid": Text(str(r.vrid), justify="right"),
        "proto": Text(r.proto_label, style=PROTO_STYLE.get(r.protocol, "")),
        "status": _status_near(r),
        "master": r.master_ip,
        "prio": Text(_prio_text(r), justify="right"),
        "age": age_cell(r),
        "vips": vips,
        "int": Text(f"{r.interval_ms:g}", justify="right"),
        "rate": Text(rate_text(r.adverts_per_s), justify="right"),
        "mac": mac_cell(r.master_mac, r.virtual_mac),
        "auth": AUTH_SHORT.get(r.auth, r.auth),
        "where": f"{r.interface} {'v6' if r.family == 'ipv6' else 'v4'}",
    }


def _status_near(r: RouterRow) -> Text:
    """The status, and "~N" when the master came near a failover N times."""
    out = status_cell(r.status)
    if r.near_failovers:
        out.append(f" ~{r.near_failovers}", style="yellow")
    return out


def _prio_text(r: RouterRow) -> str:
    """The priority; for CARP its advskew ("s100"), which is what CARP elects by."""
    if r.carp is not None:
        return f"s{r.carp[1]}"
    return str(r.priority)


def sparkline(values: tuple[float, ...], width: int = 32) -> str:
    """The last `width` values as block characters scaled between their min and max."""
    vals = values[-width:]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    span = hi - lo
    if span <= 0:
        return SPARK[3] * len(vals)
    return "".join(SPARK[min(7, int((v - lo) / span * 7.999))] for v in vals)


def detail(view: ObserverView, r: RouterRow | None) -> Text:
    """The detail pane, in the router's protocol's own terms: senders (HSRP speakers),
    master history, failover gaps, ARP owners, advert intervals."""
    if r is None:
        return Text("No virtual router heard yet.\n\n", style="dim") + _silence_note()
    match r.protocol:
        case "hsrp":
            out = _hsrp_head(r)
        case "carp":
            out = _carp_head(r)
        case _:
            out = _vrrp_head(r)
    if r.split_brain:
        out.append(f"split brain: {' and '.join(r.split_brain)} both master\n", "bold red")
    for m in r.mismatches:
        out.append(f"mismatch: {m}\n", style="magenta")
    match r.protocol:
        case "hsrp":
            _hsrp_speakers(out, r)
        case _:
            _senders(out, r)
    _history(out, view, r)
    if r.protocol == "carp":
        out.append(f"\nAddresses (ARP/ND answered by {carp_mac(r.vrid)})\n", "bold underline")
        for vip in r.vips or ("none heard yet",):
            out.append(f"{vip}\n", style="" if r.vips else "dim")
    else:
        _owners(out, view, r)
    out.append(
        "\nAdvert intervals " if r.protocol != "hsrp" else "\nHello intervals ",
        style="bold underline",
    )
    if r.intervals_ms:
        iv = r.intervals_ms
        out.append(f" min {min(iv):.0f} max {max(iv):.0f} ms\n")
        out.append(sparkline(iv), style="cyan")
    out.append("\n")
    return out


def carp_mac(vhid: int) -> str:
    return f"00:00:5e:00:01:{vhid:02x}"


def _title(r: RouterRow, name: str) -> Text:
    out = Text()
    out.append(name, style="bold")
    label = f"VRRPv{r.version}" if r.protocol == "vrrp" else r.proto_label
    if r.protocol == "hsrp":
        label += f"v{r.version}"
    out.append(f"  {r.interface} {r.family} {label}  ")
    out.append_text(status_cell(r.status))
    out.append("\n")
    return out


def _vrrp_head(r: RouterRow) -> Text:
    out = _title(r, f"VRID {r.vrid}")
    # Short enough for the pane's 44 columns at 80x24.
    out.append(f"master {r.master_ip} prio {r.priority}, every {r.interval_ms:g} ms\n")
    out.append(f"Master_Down_Interval {r.master_down_ms:.1f} ms\n")
    if r.near_failovers:
        out.append(f"near failovers {r.near_failovers} (master silent 2+ adverts)\n", "yellow")
    if not r.auth_verifiable:
        out.append(f"auth {r.auth}: an observer cannot verify it\n", style="yellow")
    return out


def _hsrp_head(r: RouterRow) -> Text:
    out = _title(r, f"HSRP group {r.vrid}")
    active = r.master_ip or "none heard"
    out.append(f"active {active} prio {r.priority}\n")
    if r.standby is not None:
        ip, mac, prio = r.standby
        out.append(f"standby {ip} prio {prio} ({mac})\n")
    else:
        out.append("standby none heard\n", style="dim")
    hold = f", hold {r.hold_ms:g} ms" if r.hold_ms is not None else ""
    out.append(f"hello {r.interval_ms:g} ms{hold}\n")
    vip = r.vips[0] if r.vips else "not learnt"
    out.append(f"virtual IP {vip}, MAC {r.vmac_expected}")
    out.append(" (active uses it)\n" if r.virtual_mac else "\n")
    out.append(f"auth {r.auth}")
    out.append("" if r.auth_verifiable else " (an observer cannot verify it)")
    out.append("\n")
    return out


def _carp_head(r: RouterRow) -> Text:
    out = _title(r, f"CARP vhid {r.vrid}")
    out.append(f"master {r.master_ip}\n")
    if r.carp is not None:
        advbase, advskew, demote = r.carp
        out.append(f"advbase {advbase} s, advskew {advskew}, demotion {demote}\n")
    out.append(f"every {r.interval_ms:g} ms; backups wait {r.master_down_ms:.0f} ms\n")
    return out


def _senders(out: Text, r: RouterRow) -> None:
    out.append("\nSenders heard", style="bold underline")
    out.append("  only the master advertises:\nbackups are shown only when heard\n", "dim")
    if r.protocol == "vrrp":
        out.append("sender          pri skew ms down ms last\n", style="dim")
    else:
        out.append("sender          pri last\n", style="dim")
    for s in sorted(r.senders, key=lambda s: -s.priority):
        last = "master" if s.ip == r.master_ip else duration(s.age_s)
        out.append(f"{s.ip:<15} ", style="bold" if s.ip == r.master_ip else "")
        if r.protocol == "vrrp":
            out.append(f"{s.priority:>3} {s.skew_ms:>7.1f} {s.master_down_ms:>7.1f} {last}\n")
        else:
            out.append(f"{s.priority:>3} {last}\n")


def _hsrp_speakers(out: Text, r: RouterRow) -> None:
    out.append("\nSpeakers", style="bold underline")
    out.append("  every router past Listen says hello\n", style="dim")
    out.append("sender          pri state   last\n", style="dim")
    for s in sorted(r.senders, key=lambda s: -s.priority):
        out.append(f"{s.ip:<15} ", style="bold" if s.ip == r.master_ip else "")
        out.append(f"{s.priority:>3} {s.state:<7} {duration(s.age_s)}\n")


_HSRP_CAUSE = {"preempt": "coup", "release": "resign"}


def _history(out: Text, view: ObserverView, r: RouterRow) -> None:
    hsrp = r.protocol == "hsrp"
    out.append("\nActive history\n" if hsrp else "\nMaster history\n", style="bold underline")
    for t in r.history[-6:]:
        now = " (now)" if t.current else ""
        cause = _HSRP_CAUSE.get(t.cause, t.cause) if hsrp else t.cause
        out.append(f"{clock(t.since)[:8]} {t.ip:<15} {duration(t.held_s):>5} {cause}{now}\n")
    fails = view.failovers_of(r.key)
    if fails:
        out.append("\nFailovers\n", style="bold underline")
        for f in fails[-5:]:
            cause = _HSRP_CAUSE.get(f.cause, f.cause) if hsrp else f.cause
            out.append(f"{clock(f.at)[:8]} {f.from_ip} -> {f.to_ip}\n", style="yellow")
            out.append(f"         gap {f.gap_ms:.1f} ms ({cause})")
            if f.rfc_gap_ms is not None:
                # Information only: the wire decides; implementations differ from the RFC.
                out.append(f" RFC {f.rfc_gap_ms:.1f}", style="dim")
            out.append("\n")
            if f.why:
                # The evidence after the router's label, which the pane already names.
                out.append(f"         {f.why.partition(': ')[2]}\n", style="dim")


def _owners(out: Text, view: ObserverView, r: RouterRow) -> None:
    out.append("\nARP owner of each VIP\n", style="bold underline")
    for vip in r.vips:
        a = view.arp.get(vip)
        if a is None:
            out.append(f"{vip} not heard yet\n", style="dim")
            continue
        ok = a.mac == r.master_mac
        out.append(f"{vip} {a.mac} ")
        out.append("master" if ok else "NOT the master", style="green" if ok else "bold red")
        out.append("\n")


def _silence_note() -> Text:
    return Text("Only the master advertises: backups are shown only when heard.", style="dim")


def event_line(e: EventRow) -> Text:
    """The full event: observer details already name the interface and VRID; node events
    name the instance."""
    out = Text(clock(e.time) + " ", style="dim")
    style = EVENT_STYLE.get(e.kind, "")
    if e.kind.startswith("node_"):
        out.append(f"{e.where}: ", style="bold")
    out.append(e.detail or e.kind, style=style)
    if e.why and e.why != e.detail:
        out.append(f"  why: {e.why}", style="dim")
    return out


# "eth0 ipv4 vrid 51: ", "eth0 ipv4 hsrp group 10: ", "eth0 VIP ...", "eth0: rejected ...",
# "eth0 ipv4 CARP vhid 7 from ...": what a log line can drop (the tag says which router).
_ROUTER_PREFIX = re.compile(r"\S+ ipv[46] (?:[a-z]+ )?(?:vrid|group|vhid) \d+: ")
_IFACE_PREFIX = re.compile(r"\S+:? (?:ipv[46] )?(?=VIP |CARP |GLBP |rejected )")
_ROUTER_WORDS = ("vrid", "group", "vhid", "glbp")
_TRANSITION = re.compile(r"(\S+) -> (\S+)\s*(.*)")

# The log line's first word says what happened where the detail does not start with it,
# and the detail's opening words it makes redundant are dropped. Other kinds are named by
# their own words ("stale", "split brain", "release"), which the detail starts with.
_LOG_WHAT: dict[str, tuple[str, str]] = {
    "master_change": ("failover", r"(?:master|active) "),
    "new_router": ("new", r"new (?:router|group): "),
    "priority_change": ("priority", ""),
    "interval_change": ("interval", ""),
    "vips_change": ("VIPs", ""),
    "arp_owner_change": ("VIP moved", r"VIP "),
    "vip_foreign_mac": ("foreign MAC", ""),
    "haproxy_unreachable": ("haproxy unreachable", r"haproxy: "),
    "haproxy_down": ("haproxy down", ""),
    "haproxy_restart": ("haproxy restart", ""),
    "haproxy_up": ("haproxy up", r"haproxy "),
    "haproxy_vip_unserved": ("unserved", ""),
    "haproxy_vip_unbound": ("unbound", ""),
    "haproxy_server": ("server", ""),
    "haproxy_frontend": ("frontend", ""),
    "haproxy_alert_cleared": ("cleared", ""),
}
_UNTAGGED = frozenset({"carp_seen", "glbp_seen"})  # the detail says it all, group first


def log_line(e: EventRow) -> Text:
    """The event in one short line for the log pane (33 columns at 80x24): the time to the
    second, then what happened, then which router or instance ("failover 51: ...",
    "MASTER VI_3 from BACKUP ..."), without the interface and family; event_line has it all."""
    out = Text(clock(e.time)[:8] + " ", style="dim")
    body = e.detail or e.kind
    if e.kind.startswith("node_"):
        head, body, flows = _node_wording(e.kind, e.where, body)
    else:
        head, body, flows = _lan_wording(e.kind, e.where, body)
    text = head + (" " if flows else ": ") + body if head and body else head or body
    out.append(text, style=EVENT_STYLE.get(e.kind, ""))
    return out


def _node_wording(kind: str, instance: str, detail: str) -> tuple[str, str, bool]:
    """(what and which instance, the rest, whether the rest reads on without a colon)."""
    if kind == "node_transition" and (m := _TRANSITION.match(detail)):
        old, new, why = m.groups()
        return f"{new} {instance}", f"from {old} {why}".rstrip(), True  # "MASTER VI_3 from ..."
    if kind == "node_command":
        return f"{detail} {instance}", "", False  # "release VI_1"
    if kind == "node_log":
        return instance, detail, False  # the message says what: "VI_3: lower priority ..."
    return f"{kind.removeprefix('node_')} {instance}", detail, False  # "error VI_1: ..."


def _lan_wording(kind: str, where: str, detail: str) -> tuple[str, str, bool]:
    """As _node_wording, for the LAN's events and haproxy's."""
    if m := (_ROUTER_PREFIX.match(detail) or _IFACE_PREFIX.match(detail)):
        detail = detail[m.end() :]
    if kind in _UNTAGGED:
        return "", detail, False
    what, drop = _LOG_WHAT.get(kind, (kind.replace("_", " "), ""))
    flows = False
    if m := re.match(drop or re.escape(what) + ":? ", detail, re.IGNORECASE):
        detail = detail[m.end() :]
        # "release (priority 0)", "cleared down for ...": the detail's own words read on.
        flows = m.group(0).strip().lower() == what.lower()
    # haproxy events name their VIPs, which say more than their routers' numbers.
    tag = "" if kind.startswith("haproxy_") else _router_tag(where)
    return f"{what} {tag}".rstrip(), detail, flows


def _router_tag(where: str) -> str:
    """ "eth0 vrid 51" -> "51" (the routers table's VRID column); "eth0 group 10" -> "group
    10" (HSRP, CARP and GLBP numbers are not VRIDs)."""
    words = where.split()
    if words and words[0] not in _ROUTER_WORDS:
        words = words[1:]
    if words[:1] == ["vrid"]:
        words = words[1:]
    return " ".join(words)


def header(mode: Mode, source: str, view: ObserverView, note: str = "") -> Text:
    """Mode, source, counters and rejected frames by reason, kernel drops."""
    labels = {
        Mode.WATCH: "WATCH read-only",
        Mode.SERVE: "SERVE",
        Mode.READ: "READ",
        Mode.ATTACH: "ATTACH",
    }
    style = "bold black on yellow" if mode in (Mode.SERVE, Mode.ATTACH) else "bold black on cyan"
    out = Text()
    out.append(f" {labels[mode]} ", style=style)
    out.append(f" {source}  ", style="bold")
    out.append(f"{len(view.routers)} routers  ")
    if view.time:
        out.append(clock(view.time), style="dim")
    out.append("\n")
    out.append_text(counters(view.counters))
    if note:
        out.append("  " + note, style="bold red" if note.startswith("stopped") else "bold")
    return out


def counters(c: Counters) -> Text:
    out = Text(f"frames {c.frames}  vrrp {c.vrrp}  arp {c.arp}  ")
    for name, n in c.others:  # only when heard: a keepalived LAN's header stays as it was
        out.append(f"{name} {n}  ")
    if c.rejected:
        out.append("rejected " + " ".join(f"{k} {v}" for k, v in c.rejected), "bold red")
    else:
        out.append("rejected 0", style="dim")
    if c.kernel_drops is not None:
        out.append(f"  drops {c.kernel_drops}", style="bold red" if c.kernel_drops else "dim")
    return out


# State, priority and the countdown always show; the cause and peers go first when narrow.
NODE_COLUMNS: tuple[Column, ...] = (
    Column(key="name", label="instance", width=10, rank=0),
    Column(key="vrid", label="VRID", width=4, rank=1),
    Column(key="state", label="state", width=13, rank=2),
    Column(key="prio", label="priority", width=8, rank=3, flex=True),
    Column(key="vips", label="VIPs", width=15, rank=5),
    Column(key="since", label="in state", width=8, rank=6),
    Column(key="next", label="next", width=11, rank=4),
    Column(key="cause", label="last transition", width=28, rank=7),
    Column(key="peers", label="peers", width=15, rank=8),
)


NODE_TITLE = "This node"


def node_summary(instances: tuple[InstanceRow, ...] | list[InstanceRow]) -> Text:
    """The node's instances by state in one line, for a panel too short for their rows:
    "255 instances: 128 MASTER 127 BACKUP 0 FAULT · 1 paused · 2 overridden"."""
    states = [i.state for i in instances]
    out = Text(f"{len(states)} instances:")
    others = sorted(set(states) - {"MASTER", "BACKUP", "FAULT"})
    for state in ("MASTER", "BACKUP", "FAULT", *others):
        n = states.count(state)
        out.append(" ")
        out.append(f"{n} {state}", style=STATE_STYLE.get(state, "") if n else "dim")
    for n, what in (
        (sum(i.paused for i in instances), "paused"),
        (sum(i.override is not None for i in instances), "overridden"),
    ):
        out.append(" · ")
        out.append(f"{n} {what}", style="bold yellow" if n else "dim")
    return out


def node_cells(i: InstanceRow) -> dict[str, str | Text]:
    """The node panel row: effective priority explained by base, trackers and override."""
    prio = Text(str(i.effective_priority), style="bold")
    parts = [f"base {i.base_priority}"]
    parts += [f"{t.name} {t.contribution:+d}" for t in i.trackers if t.contribution]
    if i.override is not None:
        parts.append(f"override {i.override}")
    if i.effective_priority != i.base_priority or i.override is not None or i.trackers:
        prio.append(" (" + ", ".join(parts) + ")", style="")
    state = Text(i.state, style=STATE_STYLE.get(i.state, ""))
    for flag in ("hold", "paused"):
        if getattr(i, flag):
            state.append(f" {flag}", style="bold yellow")
    vips = ", ".join(i.vips) or "-"
    held = Text(vips, style="bold green" if i.vips_held else "dim")
    nxt = "-"
    if i.next_in_ms is not None and i.next_timer:
        # "down": Master_Down_Interval runs out (RFC 5798 6.4.2), short enough for 80 columns.
        label = {"advert": "advert", "master_down": "down"}.get(i.next_timer, i.next_timer)
        nxt = f"{label} {max(0.0, i.next_in_ms) / 1000:.1f}s"
    return {
        "name": Text(i.name),
        "vrid": Text(str(i.vrid), justify="right"),
        "state": state,
        "prio": prio,
        "vips": held,
        "since": "-" if i.state_age_s is None else duration(i.state_age_s),
        "next": nxt,
        "cause": i.state_cause or "-",
        "peers": ", ".join(i.peers) or "multicast",
    }
