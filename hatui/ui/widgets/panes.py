"""Scrolling panes the operator can zoom (`m`) to the full screen."""

from __future__ import annotations

from textual.containers import VerticalScroll


class DetailPane(VerticalScroll):
    """The selected router's detail: may fill the screen, unlike a plain scroll container."""

    ALLOW_MAXIMIZE = True
