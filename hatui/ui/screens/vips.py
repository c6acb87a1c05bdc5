"""The `v` screen: every VIP the wire shows (adverts, listed, announced), who holds it, its
last move and its gap, and any conflict."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from hatui.ui.model import ObserverView
from hatui.ui.render import vips_table

EMPTY = "No VIP yet: none advertised, listed (--vip/--vips) or announced by ARP/ND."


class VipsScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,v", "close", "close", id="vips.close")]

    def __init__(self, view: ObserverView) -> None:
        super().__init__()
        self._view = view

    def compose(self) -> ComposeResult:
        with Vertical(id="vips-dialog"):
            yield Label("VIPs (v or Esc closes)", id="dialog-title")
            with VerticalScroll():
                yield Static(id="vips-table")

    def on_mount(self) -> None:
        self.show(self._view)

    def show(self, view: ObserverView) -> None:
        """Redraw with a newer document's VIPs."""
        self._view = view
        table = self.query_one("#vips-table", Static)
        table.update(vips_table(view.vips, view.time) if view.vips else EMPTY)

    def action_close(self) -> None:
        self.dismiss(None)
