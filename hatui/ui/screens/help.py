"""The `?` screen: what the keys do, and what the console can and cannot see."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

WATCH_HELP = """\
Up/Down, PgUp/PgDn   select a virtual router (the detail pane follows)
Ctrl+Home/Ctrl+End   first / last router; Left/Right scroll the columns
Tab                  move between panels; m maximizes the focused one
                     (haproxy panel: the detail pane shows the proxy's servers;
                     events: the detail pane shows the newest in full)
o                    sort by VRID / by status (worst first)
t                    timeline of the selected router: masters, priority, failovers,
                     near failovers (~), ARP owner changes, each failover's why
q                    quit

Only the master advertises: backups are shown only when heard (elections,
preemption, split brain). A MAC marked * is the VRRP virtual MAC.
Ages are coloured against Master_Down_Interval: green, yellow, red."""

SERVE_HELP = """\
Keys for the instance selected in the node panel (each asks to confirm):
+ / -                priority up / down by 10 (operator override)
p                    set the priority (1..254)
r                    release: send priority 0, drop VIPs, hold as backup
s                    stop advertising (pause) / resume (clears hold and override)
g                    send the gratuitous ARP burst again
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "close", id="help.close")]

    def __init__(self, can_command: bool) -> None:
        super().__init__()
        self.can_command = can_command

    def compose(self) -> ComposeResult:
        text = (SERVE_HELP + "\n" if self.can_command else "") + WATCH_HELP
        with Vertical(id="dialog"):
            yield Label("hatui keys", id="dialog-title")
            yield Static(text, id="dialog-text")

    def action_close(self) -> None:
        self.dismiss(None)
