"""``nnrun plot``: loss, metric and learning-rate curves of a run over epochs.

With matplotlib (``pip install 'nnrun[plot]'``) the curves go to a PNG; without it they
are drawn in the terminal as Braille line charts, one per quantity, legible in 80 columns.
Train and validation (and other per-epoch splits) are lines; a test result is one value.
"""

from __future__ import annotations

import importlib.util
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from rich.text import Text

from nnrun.errors import ArgumentError
from nnrun.metrics import metric_mode
from nnrun.train.history import read_metrics
from nnrun.train.rundir import resolve_run

DEFAULT_PNG = "curves.png"
# Columns that are bookkeeping, not curves; lr is plotted separately (train split only).
_NOT_CURVES = ("epoch", "step", "seconds", "lr")
_TEST_SPLIT = "test"
_SPLIT_STYLES = {"train": "cyan", "val": "magenta"}
# Without colour (pipes, NO_COLOR) series differ by line: solid, dashed, dots at the epochs.
_LINE_GLYPHS = ("━", "┅", "•")
_OTHER_STYLES = ("green", "yellow", "blue")
_OVERLAP_STYLE = "bold white"
# Bit of each dot in a Braille cell (U+2800 + bits), by [dot row][dot column].
_BRAILLE_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


@dataclass
class Curve:
    """One quantity (``loss``, ``accuracy``, ``lr``): per-split (epochs, values) series,
    the test value if one was logged, and whether to draw it on a log scale."""

    name: str
    series: dict[str, tuple[list[int], list[float]]] = field(default_factory=dict)
    test: float | None = None
    log_scale: bool = False

    def mode(self) -> str | None:
        """ "min" / "max" when lower / higher is better, None for lr and unknown columns."""
        if self.name == "lr":
            return None
        try:
            return metric_mode(self.name)
        except ArgumentError:
            return None


def collect_curves(metrics: dict[str, dict[str, list]]) -> list[Curve]:
    """Curves from `read_metrics` output: loss, then each metric column in log order
    (per-class columns left out: one line per class would bury the rest), then lr when
    it changes over the run."""
    order = list(_SPLIT_STYLES)  # train, val, then other splits as logged
    splits = sorted(
        (s for s in metrics if s != _TEST_SPLIT),
        key=lambda s: order.index(s) if s in order else len(order),
    )
    columns: list[str] = []
    for split_columns in metrics.values():
        columns += [c for c in split_columns if c not in _NOT_CURVES and c not in columns]
    columns = [c for c in columns if "_class_" not in c]
    curves = []
    for name in columns:
        curve = Curve(name)
        for split in splits:
            epochs, values = _finite_points(metrics[split], name)
            if values:
                curve.series[split] = (epochs, values)
        test = _finite_points(metrics.get(_TEST_SPLIT, {}), name)[1]
        curve.test = test[-1] if test else None
        if name == "loss" and curve.series:
            curve.log_scale = _spans_decades([v for _, vs in curve.series.values() for v in vs])
        if curve.series:
            curves.append(curve)
    lr_split = next((s for s in splits if _finite_points(metrics[s], "lr")[1]), None)
    if lr_split is not None:
        epochs, rates = _finite_points(metrics[lr_split], "lr")
        if min(rates) != max(rates):
            positive = min(rates) > 0
            curves.append(
                Curve("lr", {"lr": (epochs, rates)}, log_scale=positive and _spans_decades(rates))
            )
    return curves


def _spans_decades(values: list[float], decades: float = 2) -> bool:
    """Whether positive `values` span more than `decades` powers of ten (log axis then)."""
    return bool(values) and min(values) > 0 and max(values) / min(values) > 10**decades


def _finite_points(columns: dict[str, list], name: str) -> tuple[list[int], list[float]]:
    pairs = [
        (epoch, value)
        for epoch, value in zip(columns.get("epoch", []), columns.get(name, []), strict=False)
        if value is not None and math.isfinite(value)
    ]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def plot_run(
    run: Path, out: Path | None = None, *, text: bool = False, width: int = 80
) -> Path | Text:
    """Plot the run at `run` (a run directory, ``latest`` pointer or ``outputs/<name>``).

    Writes a PNG to `out` (default ``RUN/curves.png``) and returns its path when
    matplotlib is importable and `text` is False; otherwise returns the terminal charts
    as Rich `Text` `width` characters wide (``str()`` of it is the plain text).
    """
    run_dir = resolve_run(Path(run))
    curves = collect_curves(read_metrics(run_dir))
    if not curves:
        raise ArgumentError(
            f"{run_dir} has no finished epochs to plot yet",
            expected="metrics.csv with at least one logged epoch",
            found="no loss or metric values",
        )
    if not text:
        if importlib.util.find_spec("matplotlib") is not None:
            return write_png(
                curves, Path(out) if out else run_dir / DEFAULT_PNG, run_title(run_dir)
            )
        if out is not None:
            raise ArgumentError(
                f"writing {out} needs matplotlib, which is not installed: install it with "
                "pip install 'nnrun[plot]' (or leave out --out to draw in the terminal)",
                expected="matplotlib",
                found="no matplotlib",
            )
    return render_text(curves, width)


# ---------------------------------------------------------------- PNG


def run_title(run_dir: Path) -> str:
    """``<config name> · <run>``, e.g. ``digits_mlp · 20261126-091500``: what a reader of
    the picture recognises, unlike an absolute path."""
    try:
        name = json.loads((run_dir / "summary.json").read_text()).get("name")
    except (OSError, ValueError, AttributeError):
        name = None
    name = name or run_dir.parent.name
    return f"{name} · {run_dir.name}" if name != run_dir.name else name


def write_png(curves: list[Curve], out: Path, title: str) -> Path:
    """Draw one panel per curve (up to 3 per row) to the PNG `out`; returns `out`."""
    # The object API with the Agg canvas: no pyplot global state, no GUI backend.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    ncols = min(len(curves), 3)
    nrows = math.ceil(len(curves) / ncols)
    figure = Figure(figsize=(4.2 * ncols, 3.2 * nrows), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    for axis, curve in zip(axes, curves, strict=False):
        for split, (epochs, values) in curve.series.items():
            marker = "o" if len(epochs) <= 30 else None
            axis.plot(epochs, values, label=split, marker=marker, markersize=3)
        if curve.test is not None:
            axis.axhline(curve.test, linestyle="--", color="gray", label=f"test {curve.test:.4g}")
        best = _best_point(curve)
        if best is not None:
            axis.axvline(best[1], linestyle=":", color="gray", linewidth=1)
        if curve.log_scale:
            axis.set_yscale("log")
        axis.set_title(curve.name)
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(alpha=0.3)
        if len(curve.series) > 1 or curve.test is not None:
            axis.legend(fontsize="small")
    for axis in axes[len(curves) :]:
        axis.set_visible(False)
    figure.suptitle(title, fontsize="small")
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    return out


def _best_point(curve: Curve) -> tuple[str, int, float] | None:
    """(split, epoch, value) of the best validation value (train when there is none)."""
    mode = curve.mode()
    if mode is None:
        return None
    split = "val" if "val" in curve.series else next(iter(curve.series))
    epochs, values = curve.series[split]
    pick = max if mode == "max" else min
    value = pick(values)
    return split, epochs[values.index(value)], value


# ---------------------------------------------------------------- terminal


def render_text(curves: list[Curve], width: int = 80, height: int = 8) -> Text:
    """Braille line charts, one per curve, each `height` rows plus title and axis."""
    charts = Text()
    for index, curve in enumerate(curves):
        if index:
            charts.append("\n\n")
        charts.append_text(_chart(curve, width, height))
    return charts


def _split_style(split: str, index: int) -> str:
    return _SPLIT_STYLES.get(split, _OTHER_STYLES[index % len(_OTHER_STYLES)])


def _title(curve: Curve) -> Text:
    """Two lines: ``loss (lower is better)  test 0.26``, then the legend with each
    series' last and best value: ``━ train 0.2314 (best 0.2290 @ 28)  ━ val ...``."""
    mode = curve.mode()
    title = Text()
    title.append(curve.name, style="bold")
    notes = ["log scale"] if curve.log_scale else []
    if mode is not None:
        notes.append("higher is better" if mode == "max" else "lower is better")
    if notes:
        title.append(f" ({', '.join(notes)})", style="dim")
    if curve.test is not None:
        title.append(f"  test {curve.test:.4g}")
    title.append("\n")
    for index, (split, (epochs, values)) in enumerate(curve.series.items()):
        glyph = _LINE_GLYPHS[min(index, len(_LINE_GLYPHS) - 1)]
        title.append(f"{'  ' if index else ''}{glyph} ", style=_split_style(split, index))
        title.append(f"{split} {values[-1]:.4g}")
        if mode is not None:
            best = (max if mode == "max" else min)(values)
            title.append(f" (best {best:.4g} @ {epochs[values.index(best)]})", style="dim")
    return title


def _drawn(line: int, step: int, steps: int) -> bool:
    """Whether dot `step` of a segment is drawn: every one for the first series, dashes
    (two dots in every four) for the second, only the epochs' points for the others."""
    if line == 0:
        return True
    if line == 1:
        return step % 4 < 2 or step == steps
    return step in (0, steps)


def _chart(curve: Curve, width: int, height: int) -> Text:
    def scale(value: float) -> float:
        return math.log10(value) if curve.log_scale else value

    all_values = [v for _, values in curve.series.values() for v in values]
    all_epochs = [e for epochs, _ in curve.series.values() for e in epochs]
    low, high = min(all_values), max(all_values)
    labels = [f"{high:.4g}", f"{low:.4g}"]
    label_width = max(len(label) for label in labels)
    columns = max(width - label_width - 2, 10)
    first, last = min(all_epochs), max(all_epochs)
    scaled_low, scaled_high = scale(low), scale(high)
    if scaled_high == scaled_low:  # a flat line sits in the middle
        scaled_low, scaled_high = scaled_low - 1, scaled_high + 1
    dots_x, dots_y = 2 * columns - 1, 4 * height - 1

    masks = []
    for line, (epochs, values) in enumerate(curve.series.values()):
        mask = [[0] * columns for _ in range(height)]
        points = [
            (
                round((epoch - first) / (last - first) * dots_x) if last > first else dots_x // 2,
                round((scaled_high - scale(value)) / (scaled_high - scaled_low) * dots_y),
            )
            for epoch, value in zip(epochs, values, strict=True)
        ]
        for (x0, y0), (x1, y1) in zip(points, points[1:] or points, strict=False):
            steps = max(abs(x1 - x0), abs(y1 - y0), 1)
            for step in range(steps + 1):
                if not _drawn(line, step, steps):
                    continue
                x = round(x0 + (x1 - x0) * step / steps)
                y = round(y0 + (y1 - y0) * step / steps)
                mask[y // 4][x // 2] |= _BRAILLE_BITS[y % 4][x % 2]
        masks.append(mask)

    styles = [_split_style(split, i) for i, split in enumerate(curve.series)]
    chart = _title(curve)
    for row in range(height):
        label = labels[0] if row == 0 else labels[1] if row == height - 1 else ""
        chart.append(f"\n{label:>{label_width}} {'┤' if label else '│'}", style="dim")
        for column in range(columns):
            present = [i for i, mask in enumerate(masks) if mask[row][column]]
            bits = 0
            for i in present:
                bits |= masks[i][row][column]
            style = styles[present[0]] if len(present) == 1 else _OVERLAP_STYLE
            chart.append(chr(0x2800 + bits) if bits else " ", style=style if bits else "")
    axis_pad = " " * (label_width + 1)
    chart.append(f"\n{axis_pad}└{'─' * columns}", style="dim")
    first_label, last_label = str(first), f"{last} epoch"
    gap = max(columns + 1 - len(first_label) - len(last_label), 1)
    chart.append(f"\n{axis_pad}{first_label}{' ' * gap}{last_label}", style="dim")
    return chart
