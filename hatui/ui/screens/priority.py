"""The `p` dialog: a new operator priority, validated to 1..254 before anything is sent."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.validation import Integer
from textual.widgets import Input, Label, Static


class PriorityScreen(ModalScreen[int | None]):
    """Dismisses with the priority, or None on Escape."""

    BINDINGS = [Binding("escape", "cancel", "cancel", id="priority.cancel")]

    def __init__(self, instance: str, current: int) -> None:
        super().__init__()
        self.instance = instance
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Set the priority of {self.instance}", id="dialog-title")
            yield Static(
                f"Now {self.current}. 1..254 (255 is only for the address owner, by config).",
                id="dialog-text",
            )
            yield Input(
                placeholder="1..254",
                type="integer",
                max_length=3,
                validators=[Integer(minimum=1, maximum=254)],
                id="priority-input",
            )
            yield Static("", id="dialog-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        result = event.validation_result
        if result is not None and not result.is_valid:
            self.query_one("#dialog-error", Static).update("priority must be 1..254")
            return
        try:
            value = int(event.value)
        except ValueError:
            self.query_one("#dialog-error", Static).update("priority must be 1..254")
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
