"""Tables updated in place: keyed rows, fixed column widths fitted to the terminal, a
rendered line kept per row and redrawn only when that row changes, sorted on demand."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from hatui.ui.model import InstanceRow, RouterRow
from hatui.ui.render import (
    CELL_PAD,
    NODE_COLUMNS,
    NODE_TITLE,
    ROUTER_COLUMNS,
    Column,
    age_text,
    fit_columns,
    node_cells,
    node_summary,
    rate_text,
    router_cells,
)

Cell = str | Text
Cells = dict[str, Cell]
SCROLLBAR = 2  # reserved on the right, so a growing table never pushes a column off
HEADER = 1  # the header line, fixed above the scrolling rows


class KeyedTable(ScrollView, can_focus=True):
    """Keyed rows drawn with the line API; `sync` adds, updates and removes rows in place.

    Each row's rendered line is kept until one of its shown cells changes, and only the
    lines of changed rows (and the cursor's old and new rows) are repainted: a DataTable
    re-renders every visible cell on any update. Columns have fixed widths
    chosen from the widget's width (`fit_columns`): an update never re-measures a column,
    and at narrow widths the least important columns are dropped instead of the table
    scrolling sideways."""

    COLUMNS: tuple[Column, ...] = ()
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "keyed-table--header",
        "keyed-table--cursor",
        "keyed-table--even-row",
        "keyed-table--odd-row",
    }
    # The look of Textual's DataTable with zebra stripes and a row cursor.
    DEFAULT_CSS = """
    KeyedTable {
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .keyed-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .keyed-table--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark > .keyed-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .keyed-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .keyed-table--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .keyed-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "up", show=False),
        Binding("down", "cursor(1)", "down", show=False),
        Binding("pageup", "page(-1)", "page up", show=False),
        Binding("pagedown", "page(1)", "page down", show=False),
        Binding("home,ctrl+home", "cursor_to(0)", "first", show=False),
        Binding("end,ctrl+end", "cursor_to(-1)", "last", show=False),
    ]

    class RowHighlighted(Message):
        """The cursor is on another row (`key` None: the table is empty)."""

        def __init__(self, table: KeyedTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> KeyedTable:
            return self.table

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cells: dict[str, Cells] = {}
        self._sigs: dict[str, Hashable] = {}
        self._order: dict[str, tuple[Any, ...]] = {}
        self._keys: list[str] = []  # display order
        self._index: dict[str, int] = {}
        self._lines: dict[str, Strip] = {}  # each row's cells, rendered; dropped on change
        self._styled: dict[str, tuple[Style, Strip]] = {}  # ...with its row style
        self._shown: tuple[Column, ...] = ()
        self._header: tuple[Style, Strip] | None = None
        self.cursor_row = 0
        self._highlighted: str | None = None

    # -- the rows -------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def selected_key(self) -> str | None:
        if 0 <= self.cursor_row < len(self._keys):
            return self._keys[self.cursor_row]
        return None

    def get_row_index(self, key: str) -> int:
        return self._index[key]

    def get_row(self, key: str) -> list[Cell]:
        """The row's shown cells, in column order."""
        cells = self._cells[key]
        return [cells[c.key] for c in self._shown]

    def get_cell(self, key: str, column: str) -> Cell:
        return self._cells[key][column]

    def get_row_at(self, index: int) -> list[Cell]:
        return self.get_row(self._keys[index])

    def __contains__(self, key: object) -> bool:
        return key in self._cells

    def sync(
        self,
        rows: Sequence[tuple[str, Hashable, Callable[[], Cells], tuple[Any, ...]]],
        *,
        prune: bool = True,
    ) -> bool:
        """Bring the table to `rows` (key, signature, cells, sort key); cells are built only
        for rows whose signature changed. Without `prune`, `rows` are some of the rows (news):
        the others stay. True if the order changed."""
        reorder = False
        seen = set()
        for key, sig, make, order in rows:
            seen.add(key)
            if self._sigs.get(key) == sig and key in self._cells:
                continue
            cells = make()
            old = self._cells.get(key)
            self._cells[key] = cells
            self._sigs[key] = sig
            if old is None:
                self._keys.append(key)
                reorder = True
            else:
                if any(old.get(c.key) != cells[c.key] for c in self._shown):
                    self._changed(key)
                reorder = reorder or self._order.get(key) != order
            self._order[key] = order
        gone = [k for k in self._cells if k not in seen] if prune else []
        for key in gone:
            del self._cells[key], self._sigs[key], self._order[key]
            self._lines.pop(key, None)
            self._styled.pop(key, None)
        if gone:
            self._keys = [k for k in self._keys if k in self._cells]
            reorder = True
        if reorder:
            self._resort()
        return reorder

    def _changed(self, key: str) -> None:
        """Drop a row's rendered line and repaint that line alone (if it is on screen)."""
        self._lines.pop(key, None)
        self._styled.pop(key, None)
        index = self._index.get(key)
        if index is not None:
            self.refresh_lines(HEADER + index)

    def _resort(self) -> None:
        """Order rows by their sort keys, keeping the cursor on the same row."""
        current = self._highlighted
        resized = len(self._keys) != len(self._index)
        self._keys.sort(key=self._order.__getitem__)
        self._index = {k: i for i, k in enumerate(self._keys)}
        self.virtual_size = Size(self._table_width(), HEADER + len(self._keys))
        if current is not None and current in self._index:
            self.cursor_row = self._index[current]
        self.cursor_row = max(0, min(self.cursor_row, len(self._keys) - 1))
        self._highlight()
        self.refresh(layout=resized)  # an auto-height table (the node panel) grows

    # -- columns --------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._fit(self.size.width or 80)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        shown = fit_columns(self.COLUMNS, width - SCROLLBAR)
        if shown == self._shown:
            return
        self._shown = shown
        self._lines.clear()
        self._styled.clear()
        self._header = None
        self.virtual_size = Size(self._table_width(), HEADER + len(self._keys))
        self.refresh()

    def _table_width(self) -> int:
        return sum(c.width + CELL_PAD for c in self._shown)

    # -- drawing --------------------------------------------------------------------------

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return HEADER + len(self._keys)

    def _render_cells(self, values: Sequence[Cell]) -> Strip:
        line = Text(no_wrap=True, end="")
        pad = " " * (CELL_PAD // 2)
        for col, value in zip(self._shown, values, strict=True):
            text = value.copy() if isinstance(value, Text) else Text(value)
            text.align(text.justify or "left", col.width)  # type: ignore[arg-type]
            line.append(pad)
            line.append_text(text)
            line.append(pad)
        return Strip(line.render(self.app.console), line.cell_len)

    def _finish(self, strip: Strip, style: Style, *, over: bool = False) -> Strip:
        """The line across the widget in the row's style: under the cells' own styles, or
        `over` them (the cursor row reads in one colour, as in a DataTable)."""
        width = self.scrollable_content_region.width
        if over:
            strip = Strip(Segment.apply_style(strip, self.rich_style, post_style=style))
        else:
            strip = strip.apply_style(style)
        return strip.extend_cell_length(width, style).crop(0, width)

    def render_line(self, y: int) -> Strip:
        if y < HEADER:
            style = self.get_component_rich_style("keyed-table--header")
            if self._header is None or self._header[0] != style:
                labels = [Text(c.label) for c in self._shown]
                self._header = (style, self._finish(self._render_cells(labels), style))
            return self._header[1]
        index = y - HEADER + self.scroll_offset.y
        if index >= len(self._keys):
            return Strip.blank(self.scrollable_content_region.width, self.rich_style)
        key = self._keys[index]
        if index == self.cursor_row:
            style = self.get_component_rich_style("keyed-table--cursor")
        elif index % 2:
            style = self.get_component_rich_style("keyed-table--odd-row")
        else:
            style = self.get_component_rich_style("keyed-table--even-row")
        styled = self._styled.get(key)
        if styled is None or styled[0] != style:
            line = self._lines.get(key)
            if line is None:
                line = self._lines[key] = self._render_cells(self.get_row(key))
            over = index == self.cursor_row
            styled = self._styled[key] = (style, self._finish(line, style, over=over))
        return styled[1]

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- the cursor -----------------------------------------------------------------------

    def move_cursor(self, *, row: int, scroll: bool = True) -> None:
        """Put the cursor on `row` (clamped), repainting only the old and new lines."""
        row = max(0, min(row, len(self._keys) - 1))
        old = self.cursor_row
        self.cursor_row = row
        if row != old:
            self.refresh_lines(HEADER + old)
            self.refresh_lines(HEADER + row)
        if scroll:
            self._scroll_to_cursor()
        self._highlight()

    def select_key(self, key: str) -> bool:
        """Put the cursor on `key`'s row; False if there is none."""
        if key not in self._index:
            return False
        self.move_cursor(row=self._index[key])
        return True

    def _scroll_to_cursor(self) -> None:
        rows = max(1, self.scrollable_content_region.height - HEADER)
        top = round(self.scroll_offset.y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + rows:
            self.scroll_to(y=self.cursor_row - rows + 1, animate=False)

    def _highlight(self) -> None:
        key = self.selected_key
        if key != self._highlighted:
            self._highlighted = key
            self.post_message(self.RowHighlighted(self, key))

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(row=self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        rows = max(1, self.scrollable_content_region.height - HEADER)
        self.move_cursor(row=self.cursor_row + direction * rows)

    def action_cursor_to(self, row: int) -> None:
        self.move_cursor(row=row if row >= 0 else len(self._keys) - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y >= HEADER:
            self.move_cursor(row=offset.y - HEADER + self.scroll_offset.y)


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
        r.protocol,
        r.carp,
        r.auth,
    )


class RoutersTable(KeyedTable):
    """One row per (interface, family, protocol, VRID / group / VHID)."""

    COLUMNS = ROUTER_COLUMNS
    sort_by = "vrid"

    def show(self, routers: Sequence[RouterRow], *, prune: bool = True) -> None:
        """Show `routers`: every router, or (without `prune`) only those that changed."""
        self.sync(
            [
                (r.key, _router_sig(r), lambda r=r: router_cells(r), r.sort_key(self.sort_by))  # type: ignore[misc]
                for r in routers
            ],
            prune=prune,
        )

    def set_sort(self, by: str, routers: Sequence[RouterRow]) -> None:
        self.sort_by = by
        self._order.update({r.key: r.sort_key(by) for r in routers if r.key in self._cells})
        self._resort()


class NodePanel(KeyedTable):
    """The node's own instances (serve and attach modes)."""

    COLUMNS = NODE_COLUMNS

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._instances: tuple[InstanceRow, ...] = ()

    def show(self, instances: Sequence[InstanceRow]) -> None:
        self.sync([(i.name, i, lambda i=i: node_cells(i), (i.vrid, i.name)) for i in instances])  # type: ignore[misc]
        self._instances = tuple(instances)
        self._title()

    def on_resize(self, event: events.Resize) -> None:
        # Textual runs KeyedTable's handler too (it fits the columns): this one only titles.
        self._title()

    def _title(self) -> None:
        """Where the rows do not all fit (255 instances at 80x24), the title line counts
        them by state, so what scrolls out of sight is still summed up."""
        shown = self.size.height - HEADER
        if shown <= 0 or len(self._instances) <= shown:
            self.border_title = NODE_TITLE
            return
        summary = node_summary(self._instances)
        # The title line keeps a few columns for its border; the name goes first.
        if len(NODE_TITLE) + 2 + summary.cell_len <= self.size.width - 4:
            summary = Text(f"{NODE_TITLE}: ").append_text(summary)
        self.border_title = summary
