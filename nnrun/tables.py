"""Tables that fit the terminal by showing fewer columns, never by cutting a value.

Names, paths and parameter keys are things a user copies or types: a table that cuts them
to ``breast_ca…`` or wraps them mid-word is wrong, not just ugly. `fitted_table` keeps
every cell whole on one line (free-text columns such as descriptions wrap at spaces) and,
when the table is wider than the console, leaves out the least important columns and says
so in the caption. At 80 columns, in a pipe (Rich then assumes ``COLUMNS`` or 80) and on a
wide terminal alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import JustifyMethod, RenderableType
from rich.table import Table
from rich.text import Text

# A bordered table spends one character on the left edge and 3 per column (2 padding + 1
# border); a borderless one with padding (0, 1) spends 2 per column and none at the edges.
_BORDERED = (1, 3)
_BORDERLESS = (-2, 2)


@dataclass(frozen=True)
class Col:
    """One column: `priority` orders what is left out when space runs short (lowest
    first; `math.inf` never); `wrap` marks free text that may wrap at spaces down to
    `min_width`."""

    header: str
    justify: JustifyMethod = "left"
    priority: float = math.inf
    wrap: bool = False
    min_width: int = 24


def _cell_width(cell: RenderableType) -> int:
    text = cell.plain if isinstance(cell, Text) else str(cell)
    return max((len(line) for line in text.splitlines()), default=0)


def fitted_table(
    columns: Sequence[Col],
    rows: Sequence[Sequence[RenderableType]],
    width: int,
    *,
    title: str | None = None,
    bordered: bool = True,
    **options: Any,
) -> Table:
    """A Rich table of `rows` no wider than `width` where it can be: columns join in
    priority order while they fit whole, the others are left out (the `math.inf` columns
    are always shown; alone they may still be wider, and then overflow rather than cut)."""
    naturals, needs = [], []
    for index, column in enumerate(columns):
        natural = max([len(column.header), *(_cell_width(row[index]) for row in rows)])
        floor = max(column.min_width, len(column.header))
        naturals.append(natural)
        needs.append(min(natural, floor) if column.wrap else natural)
    edge, per_column = _BORDERED if bordered else _BORDERLESS
    # Most important first; a column that does not fit is left out and the next one tried.
    used = edge + sum(
        needs[i] + per_column for i, c in enumerate(columns) if c.priority == math.inf
    )
    shown = [i for i, column in enumerate(columns) if column.priority == math.inf]
    for i in sorted(set(range(len(columns))) - set(shown), key=lambda i: -columns[i].priority):
        if used + needs[i] + per_column <= width:
            used += needs[i] + per_column
            shown.append(i)
    # Free-text columns share what is left, the more important first, up to their width.
    widths = dict(enumerate(needs))
    for i in sorted((i for i in shown if columns[i].wrap), key=lambda i: -columns[i].priority):
        extra = min(naturals[i] - needs[i], max(width - used, 0))
        widths[i], used = needs[i] + extra, used + extra
    shown.sort()
    hidden = [columns[i].header for i in range(len(columns)) if i not in shown]
    caption = f"not shown at this width: {', '.join(hidden)}" if hidden else None
    table = Table(title=title, caption=caption, **options)
    if not bordered:
        table.box, table.padding, table.pad_edge = None, (0, 1), False
    for i in shown:
        column = columns[i]
        if column.wrap:
            table.add_column(
                column.header, justify=column.justify, overflow="fold", width=widths[i]
            )
        else:
            table.add_column(
                column.header, justify=column.justify, no_wrap=True, min_width=needs[i]
            )
    for row in rows:
        # Plain strings are shown as written, never read as Rich markup (user text).
        cells = (row[i] for i in shown)
        table.add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in cells))
    return table
