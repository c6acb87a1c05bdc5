"""Tables updated in place: keyed rows, only changed cells rewritten, sorted on demand."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowDoesNotExist

from hatui.ui.model import InstanceRow, RouterRow
from hatui.ui.render import NODE_COLUMNS, ROUTER_COLUMNS, node_cells, router_cells

Cell = str | Text


class KeyedTable(DataTable[Cell]):
    """A DataTable whose rows are keyed; `sync` adds, updates and removes rows in place."""

    COLUMNS: tuple[tuple[str, str], ...] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._cells: dict[str, dict[str, Cell]] = {}
        self._order: dict[str, tuple[Any, ...]] = {}

    def on_mount(self) -> None:
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)

    def sync(
        self,
        rows: Sequence[tuple[str, dict[str, Cell], tuple[Any, ...]]],
    ) -> bool:
        """Bring the table to `rows` (key, cells, sort key); True if the order must change."""
        reorder = False
        seen = set()
        for key, cells, order in rows:
            seen.add(key)
            old = self._cells.get(key)
            if old is None:
                self.add_row(*(cells[c] for c, _ in self.COLUMNS), key=key)
                reorder = True
            else:
                for col, value in cells.items():
                    if old.get(col) != value:
                        # Re-measuring a column is costly: only when the value outgrows it.
                        wider = _width(value) > self.columns[ColumnKey(col)].content_width
                        self.update_cell(key, col, value, update_width=wider)
                reorder = reorder or self._order.get(key) != order
            self._cells[key] = cells
            self._order[key] = order
        for key in [k for k in self._cells if k not in seen]:
            del self._cells[key]
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
        first = self.COLUMNS[0][0]
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


def _width(value: Cell) -> int:
    return value.cell_len if isinstance(value, Text) else cell_len(value)


class RoutersTable(KeyedTable):
    """One row per (interface, family, VRID)."""

    COLUMNS = ROUTER_COLUMNS
    sort_by = "vrid"

    def show(self, routers: Sequence[RouterRow]) -> None:
        self.sync([(r.key, router_cells(r), r.sort_key(self.sort_by)) for r in routers])

    def set_sort(self, by: str, routers: Sequence[RouterRow]) -> None:
        self.sort_by = by
        self._order = {r.key: r.sort_key(by) for r in routers if r.key in self._cells}
        self._resort()


class NodePanel(KeyedTable):
    """The node's own instances (serve and attach modes)."""

    COLUMNS = NODE_COLUMNS

    def show(self, instances: Sequence[InstanceRow]) -> None:
        self.sync([(i.name, node_cells(i), (i.vrid, i.name)) for i in instances])
