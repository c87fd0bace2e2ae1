"""Reading finished and running run directories, for ``nnrun runs`` and ``nnrun plot``.

A run directory holds ``config.yaml`` and ``metrics.csv`` or ``summary.json`` (see
`nnrun.train.rundir`); the summary keys read here are listed in `nnrun.train.display`.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console, RenderableType
from rich.text import Text

from nnrun.config.resolve import load_resolved_dict
from nnrun.config.sections import build_section
from nnrun.config.validate import validate_section
from nnrun.errors import ArgumentError, DataError, NnrunError
from nnrun.limits import BOOKKEEPING_BYTES, MAX_CONFIG_BYTES, read_bounded
from nnrun.metrics import metric_mode
from nnrun.train.display import format_duration, format_value
from nnrun.train.options import TRAIN_SPEC, TrainSpec
from nnrun.train.rundir import METRICS_CSV, complete_lines

CONFIG = "config.yaml"
SUMMARY = "summary.json"
# A run without a summary whose metrics.csv changed this recently is taken to be running.
RUNNING_WINDOW_SECONDS = 300.0
# Columns of metrics.csv that are not numbers.
_TEXT_COLUMNS = ("split",)
_INT_COLUMNS = ("epoch", "step")


@dataclass(frozen=True)
class RunRecord:
    """One run as ``nnrun runs`` lists it. `path` is absolute; `name` is the path
    relative to the listed directory (``mnist/20250101-120000``, ``sweeps/lr/trial-3``)."""

    path: Path
    name: str
    started: datetime | None
    status: str
    epochs: int | None
    best_metric: str | None
    best_value: float | None
    wall_time: float | None


def list_runs(directory: Path = Path("outputs")) -> list[RunRecord]:
    """All run directories under `directory` (sweep trials included), newest first.

    Status comes from ``summary.json``; a run without one is ``running`` if its
    metrics.csv changed in the last `RUNNING_WINDOW_SECONDS`, else ``failed``.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ArgumentError(
            f"cannot list runs: {directory} is not a directory",
            expected="a directory of runs, e.g. outputs/",
            found=str(directory),
        )
    records = [_read_record(run_dir, directory) for run_dir in _find_run_dirs(directory)]
    oldest = datetime.min
    return sorted(records, key=lambda r: (r.started or oldest, r.name), reverse=True)


def is_run_dir(path: Path) -> bool:
    return (path / CONFIG).is_file() and (
        (path / METRICS_CSV).is_file() or (path / SUMMARY).is_file()
    )


def _find_run_dirs(directory: Path) -> list[Path]:
    """Run directories at or below `directory`; `latest` symlinks are not followed (no
    duplicates) and run directories are not searched further (checkpoints/ etc.)."""
    found = []
    for root, subdirs, _ in os.walk(directory):
        path = Path(root)
        if is_run_dir(path):
            found.append(path)
            subdirs.clear()
        else:
            subdirs.sort()
    return found


def _read_record(run_dir: Path, directory: Path) -> RunRecord:
    summary = _read_summary(run_dir)
    metrics_path = run_dir / METRICS_CSV
    try:
        metrics = read_metrics(run_dir) if metrics_path.is_file() else {}
    except DataError:  # a damaged log should not stop the listing
        metrics = {}
    started = _started(run_dir, summary)
    epochs = summary.get("epochs")
    if not isinstance(epochs, int):
        epochs = max(
            (max(cols["epoch"]) for cols in metrics.values() if cols["epoch"]), default=None
        )
    best_metric, best_value = _best(summary, metrics, run_dir)
    wall_time = summary.get("wall_time")
    if not isinstance(wall_time, (int, float)) and started and metrics_path.is_file():
        wall_time = max(metrics_path.stat().st_mtime - started.timestamp(), 0.0)
    name = run_dir.relative_to(directory).as_posix()
    return RunRecord(
        path=run_dir.resolve(),
        name=name if name != "." else run_dir.resolve().name,
        started=started,
        status=_status(summary, metrics_path),
        epochs=epochs,
        best_metric=best_metric,
        best_value=best_value,
        wall_time=wall_time,
    )


def _read_summary(run_dir: Path) -> dict[str, Any]:
    """summary.json as a dict; {} when missing, and {"status": "unknown"} when unreadable
    (a listing should not stop at one damaged run)."""
    path = run_dir / SUMMARY
    if not path.is_file():
        return {}
    try:
        summary = json.loads(read_bounded(path, BOOKKEEPING_BYTES, "summary"))
    except (OSError, ValueError, NnrunError):
        return {"status": "unknown"}
    return summary if isinstance(summary, dict) else {"status": "unknown"}


def _status(summary: dict[str, Any], metrics_path: Path) -> str:
    if summary:
        return str(summary.get("status", "unknown"))
    if metrics_path.is_file():
        age = time.time() - metrics_path.stat().st_mtime
        return "running" if age < RUNNING_WINDOW_SECONDS else "failed"
    return "unknown"


def _started(run_dir: Path, summary: dict[str, Any]) -> datetime | None:
    """Start time from the directory name (``YYYYMMDD-HHMMSS[-n]``), else the summary's
    ISO ``started``, else the modification time of config.yaml."""
    try:
        return datetime.strptime(run_dir.name[:15], "%Y%m%d-%H%M%S")
    except ValueError:
        pass
    if isinstance(summary.get("started"), str):
        try:
            return datetime.fromisoformat(summary["started"])
        except ValueError:
            pass
    return datetime.fromtimestamp((run_dir / CONFIG).stat().st_mtime)


def _best(
    summary: dict[str, Any], metrics: dict[str, dict[str, list]], run_dir: Path
) -> tuple[str | None, float | None]:
    """The summary's best, else the best logged value of the metric the loop monitors:
    config ``train.monitor``, else ``train.early_stopping.monitor``, else val_loss when a
    validation split was logged, else train_loss."""
    best = summary.get("best")
    if isinstance(best, dict) and best.get("metric"):
        return str(best["metric"]), best.get("value")
    if not metrics:
        return None, None
    monitor = _configured_monitor(run_dir) or ("val_loss" if "val" in metrics else "train_loss")
    split, _, column = monitor.partition("_")
    values = [v for v in metrics.get(split, {}).get(column, []) if not math.isnan(v)]
    if not values:
        return None, None
    try:
        mode = metric_mode(monitor)
    except ArgumentError:
        return None, None
    return monitor, (max(values) if mode == "max" else min(values))


def _configured_monitor(run_dir: Path) -> str | None:
    """The monitor a run's saved config names (None when unreadable or not set)."""
    try:
        saved = yaml.safe_load(read_bounded(run_dir / CONFIG, MAX_CONFIG_BYTES, "config"))
    except (OSError, ValueError, yaml.YAMLError, NnrunError):
        return None
    if not isinstance(saved, dict):
        return None
    cfg = load_resolved_dict(saved, str(run_dir / CONFIG))
    values, problems = validate_section(cfg.data.get("train"), TRAIN_SPEC, ("train",), cfg)
    if problems:
        return None
    train = build_section(TrainSpec, values)
    return train.monitor or (train.early_stopping.monitor if train.early_stopping else None)


def render_runs_table(records: list[RunRecord], console: Console) -> None:
    """Print `records` as a table: run, started, status, epochs, best metric, wall time.
    Run names are never cut or wrapped; a narrow console gets fewer columns."""
    from nnrun.tables import Col, fitted_table

    if not records:
        console.print("no runs found")
        return
    styles = {"finished": "green", "stopped": "green", "running": "cyan", "failed": "red"}
    rows: list[list[RenderableType]] = []
    for record in records:
        best = (
            f"{record.best_metric} {format_value(record.best_value)}" if record.best_metric else "-"
        )
        rows.append(
            [
                record.name,
                record.started.strftime("%Y-%m-%d %H:%M") if record.started else "-",
                Text(str(record.status), style=styles.get(record.status, "yellow")),
                "-" if record.epochs is None else str(record.epochs),
                best,
                format_duration(record.wall_time),
            ]
        )
    columns = [
        Col("run"),
        Col("started", priority=2),
        Col("status", priority=5),
        Col("epochs", justify="right", priority=3),
        Col("best", priority=4),
        Col("time", justify="right", priority=1),
    ]
    console.print(fitted_table(columns, rows, console.width, header_style="bold"))


def runs_json(records: list[RunRecord]) -> list[dict[str, Any]]:
    """`records` as plain data for `nnrun runs --json`."""
    return [
        {
            "run": record.name,
            "path": str(record.path),
            "started": record.started.isoformat(timespec="seconds") if record.started else None,
            "status": record.status,
            "epochs": record.epochs,
            "best_metric": record.best_metric,
            "best_value": record.best_value,
            "wall_time": record.wall_time,
        }
        for record in records
    ]


def read_metrics(run_dir: Path) -> dict[str, dict[str, list]]:
    """metrics.csv of `run_dir` by split, then column: ``{"train": {"epoch": [1, 2],
    "step": [...], "loss": [...], "accuracy": [...], "lr": [...], "seconds": [...]}}``.

    `epoch` holds ints; `step` ints or None; other columns floats, NaN where empty. A torn
    last line (a crash mid-write) is dropped.
    """
    path = Path(run_dir) / METRICS_CSV
    if not path.is_file():
        raise ArgumentError(
            f"{run_dir} has no {METRICS_CSV}: is it a run directory?",
            expected="a run directory with metrics.csv",
            found=str(run_dir),
        )
    reader = csv.reader(complete_lines(path))
    header = next(reader, None)
    if not header or "epoch" not in header or "split" not in header:
        raise DataError(f"{path}: the first line must be a header with epoch and split columns")
    by_split: dict[str, dict[str, list]] = {}
    for row_number, cells in enumerate(reader, start=2):
        if len(cells) != len(header):
            raise DataError(
                f"{path}, row {row_number}: expected {len(header)} cells, found {len(cells)}"
            )
        row = dict(zip(header, cells, strict=True))
        columns = by_split.setdefault(
            row["split"], {key: [] for key in header if key not in _TEXT_COLUMNS}
        )
        for key, cell in row.items():
            if key not in _TEXT_COLUMNS:
                columns[key].append(_parse_cell(cell, key, path, row_number))
    return by_split


def _parse_cell(cell: str, column: str, path: Path, row_number: int) -> int | float | None:
    try:
        if column in _INT_COLUMNS:
            return int(cell) if cell else None
        return float(cell) if cell else math.nan
    except ValueError:
        kind = "an integer" if column in _INT_COLUMNS else "a number"
        raise DataError(
            f"{path}, row {row_number}, column {column!r}: expected {kind}, found {cell!r}"
        ) from None
