"""Tables updated in place: keyed rows, fixed column widths fitted to the terminal, only
changed cells rewritten, sorted on demand."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from rich.text import Text
from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from hatui.ui.model import InstanceRow, RouterRow
from hatui.ui.render import (
    NODE_COLUMNS,
    ROUTER_COLUMNS,
    Column,
    age_text,
    fit_columns,
    node_cells,
    rate_text,
    router_cells,
)

Cell = str | Text
Cells = dict[str, Cell]
SCROLLBAR = 2  # reserved on the right, so a growing table never pushes a column off


class KeyedTable(DataTable[Cell]):
    """A DataTable whose rows are keyed; `sync` adds, updates and removes rows in place.

    Columns have fixed widths chosen from the widget's width (`fit_columns`): an update
    never re-measures a column nor lays the screen out again, and at narrow widths the
    least important columns are dropped instead of the table scrolling sideways."""

    COLUMNS: tuple[Column, ...] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._cells: dict[str, Cells] = {}
        self._sigs: dict[str, Hashable] = {}
        self._order: dict[str, tuple[Any, ...]] = {}
        self._shown: tuple[Column, ...] = ()

    def on_mount(self) -> None:
        self._fit(self.size.width or 80)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        shown = fit_columns(self.COLUMNS, width - SCROLLBAR)
        if shown == self._shown:
            return
        current = self.selected_key
        self._shown = shown
        self.clear(columns=True)
        for col in shown:
            self.add_column(col.label, width=col.width, key=col.key)
        for key, cells in self._cells.items():
            self.add_row(*(cells[c.key] for c in shown), key=key)
        if self._cells:
            self._resort()
        if current is not None and current in self._cells:
            self.move_cursor(row=self.get_row_index(current), scroll=False)

    def sync(
        self,
        rows: Sequence[tuple[str, Hashable, Callable[[], Cells], tuple[Any, ...]]],
    ) -> bool:
        """Bring the table to `rows` (key, signature, cells, sort key); cells are built only
        for rows whose signature changed. True if the order changed."""
        reorder = False
        seen = set()
        shown = {c.key for c in self._shown}
        for key, sig, make, order in rows:
            seen.add(key)
            if self._sigs.get(key) == sig and key in self._cells:
                continue
            cells = make()
            old = self._cells.get(key)
            if old is None:
                self.add_row(*(cells[c.key] for c in self._shown), key=key)
                reorder = True
            else:
                for col, value in cells.items():
                    if col in shown and old.get(col) != value:
                        self.update_cell(key, col, value)
                reorder = reorder or self._order.get(key) != order
            self._cells[key] = cells
            self._sigs[key] = sig
            self._order[key] = order
        for key in [k for k in self._cells if k not in seen]:
            del self._cells[key]
            del self._sigs[key]
            del self._order[key]
            with contextlib.suppress(RowDoesNotExist):
                self.remove_row(key)
        if reorder:
            self._resort()
        return reorder

    def _resort(self) -> None:
        """Sort by the rows' sort keys, keeping the cursor on the same row.

        DataTable.sort hands the key function cells, not row keys; the first cell of every
        row is its own Text object, so its identity leads back to the row's sort key."""
        current = self.selected_key
        first = self._shown[0].key
        by_cell = {id(self.get_cell(k, first)): v for k, v in self._order.items()}
        self.sort(first, key=lambda cell: by_cell.get(id(cell), ()))
        if current is not None and current in self._cells:
            self.move_cursor(row=self.get_row_index(current), scroll=False)

    @property
    def selected_key(self) -> str | None:
        if not self._cells or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return key


def _router_sig(r: RouterRow) -> Hashable:
    """Everything `router_cells` shows, as shown: an unchanged row is not rebuilt."""
    return (
        r.status,
        r.master_ip,
        r.master_mac,
        r.virtual_mac,
        r.priority,
        age_text(r),
        r.age_s * 1000 <= r.master_down_ms,  # the age's colour
        r.vips,
        r.interval_ms,
        r.master_down_ms,
        rate_text(r.adverts_per_s),
        r.version,
        r.auth,
    )


class RoutersTable(KeyedTable):
    """One row per (interface, family, VRID)."""

    COLUMNS = ROUTER_COLUMNS
    sort_by = "vrid"

    def show(self, routers: Sequence[RouterRow]) -> None:
        self.sync(
            [
                (r.key, _router_sig(r), lambda r=r: router_cells(r), r.sort_key(self.sort_by))  # type: ignore[misc]
                for r in routers
            ]
        )

    def set_sort(self, by: str, routers: Sequence[RouterRow]) -> None:
        self.sort_by = by
        self._order = {r.key: r.sort_key(by) for r in routers if r.key in self._cells}
        self._resort()


class NodePanel(KeyedTable):
    """The node's own instances (serve and attach modes)."""

    COLUMNS = NODE_COLUMNS

    def show(self, instances: Sequence[InstanceRow]) -> None:
        self.sync([(i.name, i, lambda i=i: node_cells(i), (i.vrid, i.name)) for i in instances])  # type: ignore[misc]
