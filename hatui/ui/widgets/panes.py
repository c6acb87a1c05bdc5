"""Scrolling panes the operator can zoom (`m`) to the full screen."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import RichLog


class DetailPane(VerticalScroll):
    """The selected router's detail: may fill the screen, unlike a plain scroll container."""

    ALLOW_MAXIMIZE = True


class TextPane(Widget):
    """Rich text that redraws without a layout pass unless its height changes: the header
    and the detail pane change every tick, and a full layout of the screen costs more
    than the whole table update."""

    DEFAULT_CSS = "TextPane { height: auto; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Text()
        self._lines = 0

    def set_text(self, text: Text) -> None:
        if text == self._text:
            return
        lines = text.plain.count("\n")
        self._text = text
        self.refresh(layout=lines != self._lines)
        self._lines = lines

    def render(self) -> Text:
        return self._text


class EventLog(RichLog):
    """The event log, one line per event; it keeps the newest in view when the layout
    shrinks it (a RichLog keeps its scroll offset, hiding the last lines)."""

    def on_resize(self, event: events.Resize) -> None:
        if self.auto_scroll:
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)
