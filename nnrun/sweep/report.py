"""Sweep results: aggregation over repeats, the ranked table, summary.csv / summary.md,
best.yaml, parameter-vs-metric summaries and an optional scatter plot."""

from __future__ import annotations

import csv
import io
import json
import math
import shlex
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from nnrun.markup import safe
from nnrun.sweep.space import as_override, canonical_json
from nnrun.sweep.spec import SweepSpec
from nnrun.train.display import format_value

SUMMARY_CSV = "summary.csv"
SUMMARY_MD = "summary.md"
BEST_CONFIG = "best.yaml"
PLOT_FILE = "sweep_plot.png"


@dataclass
class PointRow:
    """One point of the space with its repeats aggregated. `std` is the sample standard
    deviation (n - 1) over finished repeats, None with fewer than two."""

    point: int
    params: dict[str, Any]
    values: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    trials: list[dict[str, Any]] = field(default_factory=list)
    others: dict[str, list[float]] = field(default_factory=dict)
    rank: int | None = None

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    @property
    def std(self) -> float | None:
        return statistics.stdev(self.values) if len(self.values) > 1 else None

    @property
    def status(self) -> str:
        return ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items()))

    def other_means(self) -> dict[str, float]:
        return {k: statistics.fmean(v) for k, v in self.others.items() if v}


def aggregate(spec: SweepSpec, latest: dict[str, dict[str, Any]]) -> list[PointRow]:
    """Trials' last events → one row per point, ranked best first (points without a value
    last, in point order)."""
    rows: dict[int, PointRow] = {}
    for event in latest.values():
        row = rows.setdefault(event["point"], PointRow(event["point"], event["params"]))
        row.statuses[event["status"]] = row.statuses.get(event["status"], 0) + 1
        row.trials.append(event)
        if event["status"] == "finished":
            if event.get("metric") is not None:
                row.values.append(event["metric"])
            for key, value in {**(event.get("final") or {}), **(event.get("test") or {})}.items():
                if key != spec.metric and value is not None and math.isfinite(value):
                    row.others.setdefault(key, []).append(value)
    sign = -1 if spec.maximize else 1
    ranked = sorted(rows.values(), key=lambda r: (r.mean is None, sign * (r.mean or 0), r.point))
    for rank, row in enumerate((r for r in ranked if r.mean is not None), start=1):
        row.rank = rank
    return ranked


def set_line(params: dict[str, Any]) -> str:
    """``--set k=v --set ...`` ready for the shell."""
    return " ".join(f"--set {shlex.quote(as_override(k, v))}" for k, v in params.items())


def format_params(params: dict[str, Any], keys: list[str]) -> str:
    return " ".join(f"{key.rsplit('.', 1)[-1]}={_short(params[key])}" for key in keys)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 24 else text[:21] + "..."


def mean_std(row: PointRow) -> str:
    if row.mean is None:
        return "-"
    return format_value(row.mean) + (f" ± {format_value(row.std)}" if row.std is not None else "")


def results_table(
    spec: SweepSpec, rows: list[PointRow], limit: int | None = None, width: int = 80
) -> Table:
    """The ranked results as a Rich table within `width` columns; the best row is
    highlighted. Parameter keys and values are never cut: a narrow console shows fewer
    parameters (the last ones first) and leaves out the point and runs columns."""
    from nnrun.tables import Col, fitted_table

    arrow = "↑" if spec.maximize else "↓"
    columns = [Col("rank", justify="right"), Col("point", justify="right", priority=1)]
    columns += [
        Col(key, justify="right", priority=3 + (len(spec.varying) - i) / 100)
        for i, key in enumerate(spec.varying)
    ]
    columns += [
        Col(spec.metric + (" (mean ± std)" if spec.repeats > 1 else ""), justify="right"),
        Col("runs", priority=2),
    ]
    cells = []
    for row in rows[:limit]:
        style = "bold green" if row.rank == 1 else ("dim" if row.mean is None else "")
        values = [str(row.rank or "-"), str(row.point)]
        values += [_short(row.params.get(key)) for key in spec.varying]
        values += [mean_std(row), row.status]
        cells.append([Text(value, style=style) for value in values])
    return fitted_table(
        columns,
        cells,
        width,
        title=f"{safe(spec.name)}: {safe(spec.metric)} {arrow}",
        title_justify="left",
    )


def write_summaries(spec: SweepSpec, sweep_dir: Path, rows: list[PointRow]) -> None:
    """summary.csv, summary.md and (when some point finished) best.yaml in `sweep_dir`."""
    (sweep_dir / SUMMARY_CSV).write_text(summary_csv(spec, rows), encoding="utf-8")
    (sweep_dir / SUMMARY_MD).write_text(summary_markdown(spec, rows), encoding="utf-8")
    best = rows[0] if rows and rows[0].rank == 1 else None
    if best is not None:
        (sweep_dir / BEST_CONFIG).write_text(best_config(spec, best), encoding="utf-8")


def summary_csv(spec: SweepSpec, rows: list[PointRow]) -> str:
    others = sorted({key for row in rows for key in row.others})
    keys = [p.key for p in spec.params]
    header = [
        "rank",
        "point",
        *keys,
        f"{spec.metric}_mean",
        f"{spec.metric}_std",
        "finished",
        "failed",
        "pruned",
        *(f"{key}_mean" for key in others),
        "trials",
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        means = row.other_means()
        writer.writerow(
            [
                row.rank or "",
                row.point,
                *(_csv_value(row.params.get(key)) for key in keys),
                _csv_value(row.mean),
                _csv_value(row.std),
                *(row.statuses.get(s, 0) for s in ("finished", "failed", "pruned")),
                *(_csv_value(means.get(key)) for key in others),
                " ".join(t["trial"] for t in row.trials),
            ]
        )
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return repr(value) if isinstance(value, float) else value


def summary_markdown(spec: SweepSpec, rows: list[PointRow]) -> str:
    arrow = "higher" if spec.maximize else "lower"
    column = spec.metric + (" (mean ± std)" if spec.repeats > 1 else "")
    lines = [
        f"# Sweep {spec.name}",
        "",
        f"- method: {spec.method}, {len(rows)} points x {spec.repeats} repeat(s), seed {spec.seed}",
        f"- metric: {spec.metric} ({spec.metric_summary} value; {arrow} is better)",
        f"- base config: {spec.base}",
        "",
        "| rank | point | " + " | ".join(f"`{k}`" for k in spec.varying) + f" | {column} | runs |",
        "|" + "---:|" * (3 + len(spec.varying)) + "---|",
    ]
    for row in rows:
        cells = [str(row.rank or "-"), str(row.point)]
        cells += [_short(row.params.get(k)).replace("|", "\\|") for k in spec.varying]
        cells += [mean_std(row), row.status]
        lines.append("| " + " | ".join(cells) + " |")
    best = rows[0] if rows and rows[0].rank == 1 else None
    if best is not None:
        lines += [
            "",
            "## Best",
            "",
            f"{spec.metric} = {mean_std(best)} at point {best.point}",
            "",
            "```",
            best_command(spec, best),
            "```",
            "",
            f"or `nnrun train {BEST_CONFIG}`: the same config ({best_note(spec, best)}).",
        ]
    failures = [t for row in rows for t in row.trials if t["status"] == "failed"]
    if failures:
        lines += ["", "## Failed trials", ""]
        lines += [
            f"- {t['trial']}: {(t.get('error') or 'unknown error').splitlines()[0]}"
            for t in failures
        ]
    return "\n".join(lines) + "\n"


def best_trial(best: PointRow) -> dict[str, Any]:
    """The ledger event of the best point's first finished repeat: the trial that
    `best_command` and best.yaml reproduce."""
    return min((t for t in best.trials if t["status"] == "finished"), key=lambda t: t["repeat"])


def best_command(spec: SweepSpec, best: PointRow) -> str:
    """The command that re-runs the best trial exactly: the ledger's, with its seed."""
    trial = best_trial(best)
    return trial.get("command") or (
        f"nnrun train {spec.base} {set_line(best.params)} --seed {trial['seed']}"
    )


def best_note(spec: SweepSpec, best: PointRow) -> str:
    """What the best command and best.yaml reproduce, when repeats average several seeds."""
    trial = best_trial(best)
    if spec.repeats == 1:
        return f"seed {trial['seed']}"
    return (
        f"repeat {trial['repeat']}, seed {trial['seed']}; the table shows the mean over "
        f"{spec.repeats} seeds"
    )


def best_config(spec: SweepSpec, best: PointRow) -> str:
    """The base config with the best point applied, resolved and with defaults filled in;
    its seed is the best point's first finished trial's, so it re-runs that trial."""
    from nnrun.experiment import resolve, validate

    first = best_trial(best)
    cfg = resolve(spec.base, [as_override(k, v) for k, v in best.params.items()], first["seed"])
    validate(cfg)
    header = (
        f"# Best point of sweep {spec.name}: {spec.metric} {mean_std(best)}\n"
        f"# base: {spec.base} (relative data paths are relative to its folder)\n"
        f"# {set_line(best.params)}\n"
    )
    return header + cfg.to_yaml()


# ------------------------------------------------------------------ parameter effects


@dataclass
class Effect:
    """How one parameter relates to the metric: per-value (or per-bin) means and, for a
    numeric parameter, the Spearman rank correlation."""

    key: str
    numeric: bool
    groups: list[tuple[str, float, int]]  # (value or bin label, mean metric, points)
    correlation: float | None = None


def parameter_effects(spec: SweepSpec, rows: list[PointRow], bins: int = 4) -> list[Effect]:
    """Per varying parameter: categorical → mean metric per value; numeric → Spearman
    correlation and mean metric per value (few values) or per quantile bin."""
    scored = [(row, row.mean) for row in rows if row.mean is not None]
    effects = []
    for key in spec.varying:
        pairs = [(row.params[key], mean) for row, mean in scored if key in row.params]
        if not pairs:
            continue
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v, _ in pairs)
        distinct = {canonical_json(v) for v, _ in pairs}
        if not numeric or len(distinct) <= 8:
            groups: dict[str, list[float]] = {}
            order = sorted(pairs, key=lambda p: p[0]) if numeric else pairs
            for value, metric in order:
                groups.setdefault(_short(value), []).append(metric)
            summary = [(label, statistics.fmean(v), len(v)) for label, v in groups.items()]
        else:
            summary = _binned(pairs, bins)
        correlation = _spearman([v for v, _ in pairs], [m for _, m in pairs]) if numeric else None
        effects.append(Effect(key, numeric, summary, correlation))
    return effects


def _binned(pairs: list[tuple[float, float]], bins: int) -> list[tuple[str, float, int]]:
    ordered = sorted(pairs)
    size = math.ceil(len(ordered) / bins)
    out = []
    for start in range(0, len(ordered), size):
        chunk = ordered[start : start + size]
        label = f"{_short(chunk[0][0])} .. {_short(chunk[-1][0])}"
        out.append((label, statistics.fmean(m for _, m in chunk), len(chunk)))
    return out


def _ranks(values: list[float]) -> list[float]:
    """Ranks with ties averaged (1-based)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for i in range(start, end + 1):
            ranks[order[i]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def _spearman(x: list[float], y: list[float]) -> float | None:
    if len(x) < 3:
        return None
    try:
        return statistics.correlation(_ranks(x), _ranks(y))
    except statistics.StatisticsError:  # a constant column
        return None


def effects_tables(spec: SweepSpec, effects: list[Effect]) -> list[Table]:
    tables = []
    for effect in effects:
        title = safe(effect.key)
        if effect.correlation is not None:
            title += f"  (Spearman ρ = {effect.correlation:+.2f})"
        table = Table(title=title, title_justify="left")
        table.add_column("value" if len(effect.groups[0][0].split(" .. ")) == 1 else "range")
        table.add_column(f"mean {safe(spec.metric)}", justify="right")
        table.add_column("points", justify="right")
        best = (max if spec.maximize else min)(m for _, m, _ in effect.groups)
        for label, metric, count in effect.groups:
            style = "bold green" if metric == best and len(effect.groups) > 1 else ""
            table.add_row(safe(label), Text(format_value(metric), style=style), str(count))
        tables.append(table)
    return tables


def plot_sweep(spec: SweepSpec, rows: list[PointRow], path: Path) -> Path | None:
    """Metric against each varying parameter (one dot per finished trial, the best point
    starred) as a PNG; None when matplotlib is not installed or nothing finished."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    keys = spec.varying
    finished = [(row, t) for row in rows for t in row.trials if t.get("metric") is not None]
    if not keys or not finished:
        return None
    columns = min(len(keys), 3)
    lines = math.ceil(len(keys) / columns)
    figure, axes = plt.subplots(lines, columns, figsize=(4.2 * columns, 3.4 * lines), squeeze=False)
    params = {p.key: p for p in spec.params}
    for axis, key in zip(axes.flat, keys, strict=False):
        values = [row.params[key] for row, _ in finished]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        labels = list(dict.fromkeys(_short(v) for v in values))
        xs = values if numeric else [labels.index(_short(v)) for v in values]
        colors = ["tab:green" if row.rank == 1 else "tab:blue" for row, _ in finished]
        axis.scatter(xs, [t["metric"] for _, t in finished], c=colors, s=22, alpha=0.8)
        if not numeric:
            axis.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        elif params[key].is_log or (min(values) > 0 and max(values) / min(values) >= 100):
            axis.set_xscale("log")
        axis.set_xlabel(key)
        axis.set_ylabel(spec.metric)
        axis.grid(alpha=0.3)
    for axis in list(axes.flat)[len(keys) :]:
        axis.set_visible(False)
    figure.suptitle(f"sweep {spec.name} (green: best point)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
