"""The page around a report's sections: one HTML document with its CSS and JavaScript
inline (sortable tables, nothing else), so it needs no network access."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from nnrun import __version__

CSS = """
:root { color-scheme: light; --ink: #111827; --muted: #6b7280; --line: #e5e7eb; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink);
  margin: 0 auto; padding: 16px 24px 48px; max-width: 1200px; background: #fff; }
h1 { font-size: 22px; margin: 4px 0 2px; } h2 { font-size: 17px; margin: 28px 0 8px;
  padding-bottom: 4px; border-bottom: 1px solid var(--line); }
nav a { margin-right: 12px; color: #2563eb; text-decoration: none; }
.muted { color: var(--muted); } .status { font-weight: 600; padding: 1px 8px; border-radius: 9px;
  background: #e5e7eb; } .status.finished { background: #dcfce7; } .status.failed,
.status.diverged { background: #fee2e2; } .status.interrupted, .status.stopped,
.status.pruned { background: #fef9c3; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 6px 12px; min-width: 120px; }
.card b { display: block; font-size: 18px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: right; }
th { background: #f9fafb; } th:first-child, td:first-child { text-align: left; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[data-order="asc"]::after { content: " ▲"; }
table.sortable th[data-order="desc"]::after { content: " ▼"; }
pre { background: #f9fafb; border: 1px solid var(--line); padding: 10px; overflow: auto;
  font-size: 12px; }
details summary { cursor: pointer; color: #2563eb; }
.finding { border-left: 4px solid #f59e0b; background: #fffbeb; padding: 6px 10px; margin: 6px 0; }
.finding code { font-weight: 600; } .ok { border-left: 4px solid #16a34a; background: #f0fdf4;
  padding: 6px 10px; }
.spark-value { font-size: 11px; color: var(--muted); text-align: right; }
td.spark { padding: 2px 6px; }
svg { font-family: system-ui, sans-serif; }
svg .title { font-size: 13px; font-weight: 600; fill: var(--ink); }
svg .tick { font-size: 10px; fill: #374151; } svg .label { font-size: 11px; fill: var(--muted); }
svg .plot { fill: #fff; stroke: #d1d5db; } svg .grid { stroke: #f3f4f6; }
svg .mark { stroke: #f59e0b; stroke-dasharray: 4 3; stroke-width: 1.5; }
svg .dot { fill: #2563eb; fill-opacity: 0.75; } svg .dot.best { fill: #dc2626; }
svg .edge { stroke: #6b7280; stroke-width: 1.3; }
svg .node rect { fill: #eff6ff; stroke: #93c5fd; } svg .node.input rect { fill: #f3f4f6;
  stroke: #d1d5db; } svg .node-name { font-size: 12px; font-weight: 600; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
"""

# Click a header to sort by that column (numbers numerically, blanks last), again to reverse.
SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, column) {
    th.addEventListener("click", function () {
      var order = th.dataset.order === "asc" ? "desc" : "asc";
      table.querySelectorAll("th").forEach(function (other) { delete other.dataset.order; });
      th.dataset.order = order;
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      function key(row) {
        var cell = row.cells[column];
        var text = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent;
        var number = parseFloat(text);
        return text.trim() === "" ? null : (isNaN(number) ? text.trim() : number);
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === null || y === null) { return x === y ? 0 : (x === null ? 1 : -1); }
        var result = typeof x === "number" && typeof y === "number" ? x - y :
          String(x).localeCompare(String(y));
        return order === "asc" ? result : -result;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
document.body.dataset.ready = "true";
"""


@dataclass
class Section:
    """One part of the page; `id` is stable (`summary`, `curves`, ...) for links and tests."""

    id: str
    title: str
    body: str


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    sortable: bool = False,
    values: Sequence[Sequence[str | None]] | None = None,
) -> str:
    """An HTML table; cells are HTML already. `values` gives sort keys for cells whose text
    is not the value (links, formatted numbers)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for r, row in enumerate(rows):
        cells = []
        for c, cell in enumerate(row):
            key = values[r][c] if values is not None else None
            attribute = f' data-value="{escape(key)}"' if key is not None else ""
            cells.append(f"<td{attribute}>{cell}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    kind = ' class="sortable"' if sortable else ""
    return f"<table{kind}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def page(title: str, subtitle: str, sections: list[Section]) -> str:
    """The whole document."""
    nav = "".join(f'<a href="#{s.id}">{escape(s.title)}</a>' for s in sections)
    body = "".join(
        f'<section id="{s.id}"><h2>{escape(s.title)}</h2>{s.body}</section>' for s in sections
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f'<body><header><h1>{escape(title)}</h1><div class="muted">{subtitle}</div>'
        f"<nav>{nav}</nav></header>{body}"
        f"<footer>written by nnrun {escape(__version__)}; self-contained: no network "
        f"access needed</footer><script>{SCRIPT}</script></body></html>\n"
    )
