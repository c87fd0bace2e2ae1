"""Charts as inline SVG text: line charts, scatter plots, a heatmap, sparklines and the
model graph. Pure string building (no plotting library), escaped for HTML."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TypeGuard

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563")


@dataclass
class Series:
    """One line: points (x, y) with y None where there is no value (a gap)."""

    name: str
    xs: Sequence[float]
    ys: Sequence[float | None]
    color: str = PALETTE[0]
    dashed: bool = False


def fmt(value: float) -> str:
    """A short tick label: 0.001, 1e-05, 12.5, 3k."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e4 or magnitude < 1e-3:
        return f"{value:.0e}".replace("e-0", "e-").replace("e+0", "e")
    return f"{value:.3g}"


def tick_labels(ticks: list[float], log: bool) -> list[str]:
    """Labels for an axis: as many decimals as the spacing of linear ticks needs."""
    if log or len(ticks) < 2:
        return [fmt(t) for t in ticks]
    step = min(b - a for a, b in itertools.pairwise(ticks))
    if step <= 0 or not all(1e-3 <= abs(t) < 1e4 or t == 0 for t in ticks):
        return [fmt(t) for t in ticks]
    decimals = max(0, math.ceil(-math.log10(step) - 1e-9))
    if round(step * 10**decimals, 6) % 1:  # steps like 0.25
        decimals += 1
    return [f"{t:.{decimals}f}" for t in ticks]


def _finite(value: float | None) -> TypeGuard[float]:
    return value is not None and math.isfinite(value)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] on a linear axis."""
    if high <= low:
        return [low]
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= step * factor:
            step *= factor
            break
    start = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def log_ticks(low: float, high: float) -> list[float]:
    """Powers of ten in [low, high] on a log axis (every other one when there are many)."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    exponents = list(range(first, last + 1))
    stride = max(1, len(exponents) // 6)
    ticks = [10.0**e for e in exponents[::stride]]
    if len(exponents) <= 3:  # a short axis also gets 2× and 5× ticks
        ticks = sorted(t * m for t in ticks for m in (1, 2, 5))
    return [t for t in ticks if low / 1.0001 <= t <= high * 1.0001] or [low, high]


@dataclass
class Axis:
    """Maps data values to pixels along [start, end] on a linear or log scale."""

    low: float
    high: float
    start: float
    end: float
    log: bool = False
    ticks: list[float] = field(default_factory=list)

    @classmethod
    def fit(
        cls, values: list[float], start: float, end: float, log: bool = False, pad: float = 0.0
    ) -> Axis:
        """An axis covering `values`, widened by `pad` (a share of the range) on each side
        so points do not sit on the frame."""
        values = [v for v in values if _finite(v) and (v > 0 or not log)]
        if not values:
            return cls(0.0, 1.0, start, end, False, [0.0, 1.0])
        low, high = min(values), max(values)
        if log:
            low_exp, high_exp = math.log10(low), math.log10(high)
            if low_exp == high_exp:
                low_exp, high_exp = low_exp - 1, high_exp + 1
            margin = (high_exp - low_exp) * pad
            low, high = 10 ** (low_exp - margin), 10 ** (high_exp + margin)
            if not pad:
                low, high = 10 ** math.floor(low_exp), 10 ** math.ceil(high_exp)
            return cls(low, high, start, end, True, log_ticks(low, high))
        if low == high:
            low, high = low - (abs(low) or 1) * 0.5, high + (abs(high) or 1) * 0.5
        margin = (high - low) * pad
        low, high = low - margin, high + margin
        ticks = nice_ticks(low, high)
        if not pad:
            low, high = min(low, ticks[0]), max(high, ticks[-1])
        return cls(low, high, start, end, False, [t for t in ticks if low <= t <= high])

    def __call__(self, value: float) -> float:
        if self.log:
            share = (math.log10(value) - math.log10(self.low)) / (
                math.log10(self.high) - math.log10(self.low)
            )
        else:
            share = (value - self.low) / (self.high - self.low)
        return self.start + share * (self.end - self.start)


def wants_log(values: list[float]) -> bool:
    """A log axis helps when positive values span more than two orders of magnitude."""
    positive = [v for v in values if _finite(v) and v > 0]
    if len(positive) < 2 or len(positive) < len([v for v in values if _finite(v)]):
        return False
    return max(positive) / min(positive) > 100


WIDTH, HEIGHT = 440, 250
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 28, 40


def _frame(x_axis: Axis, y_axis: Axis, title: str, x_label: str, y_label: str) -> list[str]:
    parts = [
        f'<text x="{LEFT}" y="16" class="title">{escape(title)}</text>',
        (
            f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
            f'height="{HEIGHT - TOP - BOTTOM}" class="plot"/>'
        ),
    ]
    for tick, text in zip(y_axis.ticks, tick_labels(y_axis.ticks, y_axis.log), strict=True):
        y = y_axis(tick)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{LEFT - 4}" y="{y + 3:.1f}" class="tick" text-anchor="end">{text}</text>'
        )
    for tick, text in zip(x_axis.ticks, tick_labels(x_axis.ticks, x_axis.log), strict=True):
        x = x_axis(tick)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" class="tick" text-anchor="middle">'
            f"{text}</text>"
        )
    parts.append(
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 6}" class="label" '
        f'text-anchor="middle">{escape(x_label)}</text>'
    )
    parts.append(
        f'<text x="12" y="{(TOP + HEIGHT - BOTTOM) / 2}" class="label" text-anchor="middle" '
        f'transform="rotate(-90 12 {(TOP + HEIGHT - BOTTOM) / 2})">{escape(y_label)}</text>'
    )
    return parts


def _svg(parts: list[str], width: int = WIDTH, height: int = HEIGHT, label: str = "") -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(label)}">' + "".join(parts) + "</svg>"
    )


def line_chart(
    series: list[Series],
    title: str,
    x_label: str,
    y_label: str,
    log_y: bool | None = None,
    mark_x: float | None = None,
    mark_label: str = "",
    legend: bool = True,
) -> str:
    """Lines over a shared x axis; `log_y=None` picks a log axis when it helps; `mark_x`
    draws a vertical marker (the best epoch)."""
    all_x = [x for s in series for x in s.xs]
    all_y = [y for s in series for y in s.ys if _finite(y)]
    log = wants_log(all_y) if log_y is None else log_y
    x_axis = Axis.fit(all_x, LEFT, WIDTH - RIGHT)
    y_axis = Axis.fit(all_y, HEIGHT - BOTTOM, TOP, log=log)
    parts = _frame(x_axis, y_axis, title + (" (log scale)" if y_axis.log else ""), x_label, y_label)
    if mark_x is not None:
        x = x_axis(mark_x)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" class="mark"/>'
        )
        anchor, shift = ("end", -3) if x > (LEFT + WIDTH - RIGHT) / 2 else ("start", 3)
        parts.append(
            f'<text x="{x + shift:.1f}" y="{TOP + 10}" class="tick" text-anchor="{anchor}">'
            f"{escape(mark_label)}</text>"
        )
    legend_x = WIDTH - RIGHT  # legend entries go right to left in the title row
    for s in series:
        points = [
            (x_axis(x), y_axis(y))
            for x, y in zip(s.xs, s.ys, strict=True)
            if _finite(y) and (y > 0 or not y_axis.log)
        ]
        if not points:
            continue
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="1.8"{dash}/>'
        )
        if len(points) == 1:
            parts.append(
                f'<circle cx="{points[0][0]:.1f}" cy="{points[0][1]:.1f}" r="3" fill="{s.color}"/>'
            )
        if legend:
            legend_x -= 22 + 6 * len(s.name)
            parts.append(
                f'<line x1="{legend_x:.0f}" x2="{legend_x + 14:.0f}" y1="12" y2="12" '
                f'stroke="{s.color}" stroke-width="2"{dash}/>'
                f'<text x="{legend_x + 17:.0f}" y="16" class="tick">{escape(s.name)}</text>'
            )
    return _svg(parts, label=title)


@dataclass
class Point:
    """A scatter point: x may be a number or a category; `href` links it."""

    x: float | str
    y: float
    label: str
    href: str | None = None
    best: bool = False


def scatter_chart(
    points: list[Point], title: str, x_label: str, y_label: str, log_x: bool = False
) -> str:
    """y against x; categorical x values (text, booleans) are spread evenly in given order."""
    numeric = all(isinstance(p.x, (int, float)) and not isinstance(p.x, bool) for p in points)
    categories: list[str] = []
    if not numeric:
        for p in points:
            if str(p.x) not in categories:
                categories.append(str(p.x))
    xs = (
        [float(p.x) for p in points]
        if numeric
        else [float(categories.index(str(p.x))) for p in points]
    )
    ys = [p.y for p in points]
    if numeric:
        x_axis = Axis.fit(xs, LEFT, WIDTH - RIGHT, log=log_x, pad=0.06)
    else:
        x_axis = Axis(-0.5, len(categories) - 0.5, LEFT, WIDTH - RIGHT, False, [])
    y_axis = Axis.fit(ys, HEIGHT - BOTTOM, TOP, pad=0.06)
    parts = _frame(x_axis, y_axis, title + (" (log x)" if x_axis.log else ""), x_label, y_label)
    for index, name in enumerate(categories):
        parts.append(
            f'<text x="{x_axis(index):.1f}" y="{HEIGHT - BOTTOM + 14}" class="tick" '
            f'text-anchor="middle">{escape(name)}</text>'
        )
    for p, x in zip(points, xs, strict=True):
        if not _finite(p.y) or (x_axis.log and x <= 0):
            continue
        dot = (
            f'<circle cx="{x_axis(x):.1f}" cy="{y_axis(p.y):.1f}" r="{5 if p.best else 4}" '
            f'class="{"dot best" if p.best else "dot"}"><title>{escape(p.label)}</title></circle>'
        )
        parts.append(f'<a href="{escape(p.href)}">{dot}</a>' if p.href else dot)
    return _svg(parts, label=title)


def sparkline(
    values: list[float | None],
    log: bool = False,
    bounds: tuple[float, float] | None = None,
    width: int = 100,
    height: int = 34,
) -> str:
    """A tiny line with its last value, for small multiples (None values are gaps).
    `bounds` (low, high) shares one vertical scale among the cells of a column."""
    finite = [v for v in values if _finite(v) and (v > 0 or not log)]
    if not finite:
        return '<span class="muted">–</span>'
    y_axis = Axis.fit(list(bounds) if bounds else finite, height - 4, 4, log=log)
    x_axis = Axis(0, max(len(values) - 1, 1), 2, width - 2)
    points = [
        f"{x_axis(i):.1f},{y_axis(v):.1f}"
        for i, v in enumerate(values)
        if _finite(v) and (v > 0 or not log)
    ]
    line = " ".join(points)
    parts = [f'<polyline points="{line}" fill="none" stroke="{PALETTE[0]}" stroke-width="1.5"/>']
    if len(points) == 1:
        x, y = points[0].split(",")
        parts.append(f'<circle cx="{x}" cy="{y}" r="2" fill="{PALETTE[0]}"/>')
    label = f"min {fmt(min(finite))}, max {fmt(max(finite))}, last {fmt(finite[-1])}"
    return (
        _svg(parts, width, height, label=label)
        + f'<div class="spark-value">{fmt(finite[-1])}</div>'
    )


def heatmap(matrix: list[list[int]], names: list[str], title: str) -> str:
    """A confusion matrix: rows true classes, columns predicted, shade by row share."""
    size = len(matrix)
    cell = max(14, min(36, 360 // max(size, 1)))
    left, top = 70, 40
    width, height = left + cell * size + 10, top + cell * size + 34
    parts = [f'<text x="{left}" y="14" class="title">{escape(title)}</text>']
    parts.append(
        f'<text x="{left + cell * size / 2}" y="30" class="label" text-anchor="middle">'
        "predicted</text>"
    )
    parts.append(
        f'<text x="14" y="{top + cell * size / 2}" class="label" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + cell * size / 2})">true</text>'
    )
    parts.append(
        f'<rect x="{left}" y="{top}" width="{cell * size}" height="{cell * size}" class="plot"/>'
    )
    for i, row in enumerate(matrix):
        total = sum(row) or 1
        for j, count in enumerate(row):
            if not count and i != j:
                continue  # an empty cell is the white background: big matrices stay small
            share = count / total
            shade = (
                f"rgba(37,99,235,{share:.3f})"
                if i == j
                else f"rgba(220,38,38,{min(1, share * 3):.3f})"
            )
            x, y = left + j * cell, top + i * cell
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{shade}" class="cell">'
                f"<title>true {escape(names[i])}, predicted {escape(names[j])}: {count}</title>"
                "</rect>"
            )
            if cell >= 20 and count:
                ink = ' style="fill:#fff"' if i == j and share > 0.5 else ""
                parts.append(
                    f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" class="tick"{ink} '
                    f'text-anchor="middle">{count}</text>'
                )
        parts.append(
            f'<text x="{left - 4}" y="{top + i * cell + cell / 2 + 4}" class="tick" '
            f'text-anchor="end">{escape(names[i])}</text>'
        )
    for j, name in enumerate(names):
        parts.append(
            f'<text x="{left + j * cell + cell / 2}" y="{top + size * cell + 14}" class="tick" '
            f'text-anchor="middle">{escape(name)}</text>'
        )
    return _svg(parts, width, height, label=title)


@dataclass
class GraphNode:
    name: str
    kind: str
    shape: str
    params: int


def graph_diagram(nodes: list[GraphNode], edges: list[tuple[str, str]]) -> str:
    """The model graph top to bottom: each node a box (name, op, output shape, parameter
    count) on the row of its longest path from an input; arrows along the edges."""
    depth: dict[str, int] = {}
    inputs: dict[str, list[str]] = {}
    for source, target in edges:
        inputs.setdefault(target, []).append(source)
    for node in nodes:  # nodes come in topological order
        depth[node.name] = max((depth.get(s, 0) + 1 for s in inputs.get(node.name, [])), default=0)
    rows: dict[int, list[GraphNode]] = {}
    for node in nodes:
        rows.setdefault(depth[node.name], []).append(node)
    box_w, box_h, gap_x, gap_y = 190, 54, 24, 30
    widest = max(len(r) for r in rows.values()) if rows else 1
    width = widest * (box_w + gap_x) + gap_x
    height = len(rows) * (box_h + gap_y) + gap_y
    where: dict[str, tuple[float, float]] = {}
    for level, row in rows.items():
        offset = (width - len(row) * (box_w + gap_x) + gap_x) / 2
        for index, node in enumerate(row):
            where[node.name] = (offset + index * (box_w + gap_x), gap_y + level * (box_h + gap_y))
    parts = [
        (
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
            'fill="#6b7280"/></marker></defs>'
        )
    ]
    for source, target in edges:
        if source in where and target in where:
            (x1, y1), (x2, y2) = where[source], where[target]
            parts.append(
                f'<line x1="{x1 + box_w / 2:.1f}" y1="{y1 + box_h:.1f}" x2="{x2 + box_w / 2:.1f}" '
                f'y2="{y2:.1f}" class="edge" marker-end="url(#arrow)"/>'
            )
    for node in nodes:
        x, y = where[node.name]
        kind_class = "node input" if node.kind == "input" else "node"
        params = f" · {node.params:,} params" if node.params else ""
        parts.append(
            f'<g class="{kind_class}">'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{box_w}" height="{box_h}" rx="6"/>'
            f'<text x="{x + 8:.1f}" y="{y + 17:.1f}" class="node-name">{escape(node.name)}</text>'
            f'<text x="{x + 8:.1f}" y="{y + 32:.1f}" class="tick">'
            f"{escape(node.kind)}{escape(params)}</text>"
            f'<text x="{x + 8:.1f}" y="{y + 46:.1f}" class="tick">{escape(node.shape)}</text></g>'
        )
    return _svg(parts, int(width), int(height), label="model graph")
