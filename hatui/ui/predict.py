"""What an operator command will do, in one plain sentence, for the confirmation dialog.

Computed from the node's status and what the observer heard: the best other sender of the
same VRID is the one expected to take over, after its Skew_Time when we release (RFC 9568
6.4.2: a backup hearing priority 0 waits only Skew_Time) and after its Master_Down_Interval
when we go silent (RFC 5798 6.4.2). Only routers that spoke can be predicted: in VRRP a
backup is silent, so "nobody heard" is said, not guessed away.
"""

from __future__ import annotations

import ipaddress

from hatui.ui.model import InstanceRow, RouterRow, SenderRow
from hatui.vrrp.inputs import (
    AdjustPriority,
    OperatorCommand,
    Pause,
    Release,
    Resume,
    SendGarp,
    SetPriority,
)


def _ip_int(ip: str) -> tuple[int, int]:
    """Orders addresses numerically (RFC 5798 6.4.3: the higher primary address wins a tie)."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return (0, 0)
    return (addr.version, int(addr))


def best_peer(inst: InstanceRow, router: RouterRow | None) -> SenderRow | None:
    """The other sender most likely to be master without us: highest priority, then address."""
    if router is None:
        return None
    others = [s for s in router.senders if s.ip != inst.primary_ip and s.priority > 0]
    if not others:
        return None
    return max(others, key=lambda s: (s.priority, _ip_int(s.ip)))


def _seconds(ms: float) -> str:
    return f"~{ms / 1000:.1f} s" if ms >= 100 else f"~{ms:.0f} ms"


def _vips(inst: InstanceRow) -> str:
    return ", ".join(inst.vips) or "its VIPs"


def _orphan(inst: InstanceRow) -> str:
    return f"no other router has been heard: {_vips(inst)} may be left without an owner"


def new_priority(inst: InstanceRow, command: SetPriority | AdjustPriority) -> int:
    """The effective priority after the command: the override replaces the base, trackers
    still add their contributions (the node clamps to 1..254)."""
    trackers = inst.effective_priority - (
        inst.override if inst.override is not None else inst.base_priority
    )
    if isinstance(command, SetPriority):
        base = command.value
    else:
        current = inst.override if inst.override is not None else inst.base_priority
        base = current + command.delta
    return min(254, max(1, base + trackers))


def describe(command: OperatorCommand, inst: InstanceRow, router: RouterRow | None) -> str:
    """One sentence: what `command` will do to `inst`, and who should end up master."""
    who = f"{inst.name} on {inst.interface}"
    master = inst.state == "MASTER"
    peer = best_peer(inst, router)
    match command:
        case Release():
            if not master:
                return (
                    f"{who} is {inst.state}: it will hold as backup and not take over "
                    f"{_vips(inst)} until resumed; no VIP moves now."
                )
            if peer is None:
                return f"{who} will send priority 0 and drop {_vips(inst)}; {_orphan(inst)}."
            return (
                f"{who} will send priority 0; {peer.ip} should take over {_vips(inst)} "
                f"within {_seconds(peer.skew_ms)}."
            )
        case Pause():
            if not master:
                return (
                    f"{who} will stop advertising and will not take over {_vips(inst)} "
                    f"until resumed; no VIP moves now."
                )
            if peer is None:
                return f"{who} will stop advertising and drop {_vips(inst)}; {_orphan(inst)}."
            return (
                f"{who} will stop advertising and drop {_vips(inst)}; {peer.ip} should take "
                f"over after its Master_Down_Interval, {_seconds(peer.master_down_ms)}."
            )
        case Resume():
            text = f"{who} will clear the override, hold and pause and advertise again"
            if peer is not None and inst.base_priority > peer.priority:
                return (
                    f"{text}; with priority {inst.base_priority} it may take {_vips(inst)} "
                    f"back from {peer.ip}."
                )
            return f"{text}."
        case SetPriority() | AdjustPriority():
            after = new_priority(inst, command)
            text = f"{who} priority {inst.effective_priority} -> {after}"
            if peer is None:
                return f"{text}; no other router has been heard, so no VIP should move."
            if master and after < peer.priority:
                return (
                    f"{text}; {peer.ip} (priority {peer.priority}) should preempt and take "
                    f"{_vips(inst)} if it preempts."
                )
            if not master and after > peer.priority:
                return f"{text}; {inst.name} should preempt {peer.ip} and take {_vips(inst)}."
            return f"{text}; {peer.ip} has priority {peer.priority}: no VIP should move."
        case SendGarp():
            if not master:
                return f"{who} is {inst.state}: a gratuitous ARP is sent only by the master."
            return (
                f"{who} will announce {_vips(inst)} again with gratuitous ARPs: traffic for "
                f"them comes here."
            )
