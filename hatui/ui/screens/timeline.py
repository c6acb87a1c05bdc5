"""The `t` screen: the selected virtual router's timeline (ui/timeline.py)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class TimelineScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,t", "close", "close", id="timeline.close")]

    def __init__(self, title: str, text: Text) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, id="dialog-title")
            with VerticalScroll():
                yield Static(self.text, id="timeline-text")

    def action_close(self) -> None:
        self.dismiss(None)
