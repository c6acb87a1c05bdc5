"""The haproxy panel: one row per frontend, then one per backend; servers in the detail."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from hatui.haproxy.join import HaproxyView, Reached
from hatui.ui.proxies import PROXY_COLUMNS, backend_cells, frontend_cells, title
from hatui.ui.widgets.tables import KeyedTable


class HaproxyPanel(KeyedTable):
    """Rows keyed `fe:NAME` and `be:NAME`; the border title carries the socket's status."""

    COLUMNS = PROXY_COLUMNS

    def show(self, view: HaproxyView) -> None:
        self.border_title = title(view).markup
        rows: list[tuple[str, Hashable, Callable[[], Any], tuple[int, int]]] = []
        if isinstance(view.outcome, Reached):
            stats = view.outcome.stats
            vips = view.vips
            for n, f in enumerate(stats.frontends):
                sig = (f, vips.get(f.name), view.outcome.config)
                rows.append((f"fe:{f.name}", sig, _cells(frontend_cells, f, view), (0, n)))
            for n, b in enumerate(stats.backends):
                rows.append((f"be:{b.name}", b, _cells(backend_cells, b), (1, n)))
        self.sync(rows)
        # Nothing to list (no socket, haproxy down): the title line alone says so.
        self.set_class(not rows, "-empty")


def _cells(make: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    return lambda: make(*args)
