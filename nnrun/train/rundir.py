"""Run directories: ``outputs/<name>/<YYYYMMDD-HHMMSS>/``, a ``latest`` pointer, metric logs.

Layout of one config's outputs::

    outputs/<name>/
        latest -> 20250101-120000-1     symlink (a text file holding the name where symlinks fail)
        20250101-120000/
        20250101-120000-1/              a second run started in the same second
            metrics.csv  metrics.jsonl  checkpoints/  summary.json ...
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from nnrun.errors import ArgumentError, ConfigError, NnrunError
from nnrun.fileio import append_line, dumps, replace_symlink, write_bytes_atomic
from nnrun.limits import read_bounded, regular_file

LATEST = "latest"
METRICS_CSV = "metrics.csv"
METRICS_JSONL = "metrics.jsonl"
_RUN_NAME = re.compile(r"(\d{8}-\d{6})(?:-(\d+))?\Z")


def create_run_dir(output_dir: Path, name: str, now: datetime | None = None) -> Path:
    """Create and return ``output_dir/name/<YYYYMMDD-HHMMSS>`` (local time of `now`).

    Runs started in the same second get ``-1``, ``-2``, ... suffixes; each candidate is
    created with ``mkdir(exist_ok=False)``, so concurrent processes never share one.
    """
    if not name or name in (".", "..", LATEST) or "/" in name or os.sep in name:
        raise ArgumentError(
            f"run name {name!r} cannot be used as a directory name",
            key="name",
            expected=f"a non-empty name without path separators, not {LATEST!r}",
            found=repr(name),
        )
    parent = Path(output_dir) / name
    parent.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    suffix = 0
    while True:
        run_dir = parent / (f"{stamp}-{suffix}" if suffix else stamp)
        try:
            run_dir.mkdir()
            return run_dir
        except FileExistsError:
            suffix += 1


def update_latest(output_dir: Path, name: str, run_dir: Path) -> None:
    """Point ``output_dir/name/latest`` at `run_dir`, atomically replacing the old pointer."""
    link = Path(output_dir) / name / LATEST
    target = os.path.relpath(Path(run_dir).resolve(), link.parent.resolve())
    try:
        replace_symlink(link, target)
    except OSError:  # filesystems without symlinks (some Windows / network mounts)
        write_bytes_atomic(link, (target + "\n").encode())


def resolve_run(path: Path) -> Path:
    """The run directory meant by `path`: a run directory, a ``latest`` pointer, or
    ``outputs/<name>`` (its ``latest``, or the newest run if there is no pointer)."""
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise ArgumentError(
            f"{path} points to {os.readlink(path)}, which no longer exists",
            expected="an existing run directory",
            found=str(path),
        )
    if path.is_file():
        target = path.parent / _pointer_target(path)
        if not target.is_dir():
            raise ArgumentError(
                f"{path} points to {target}, which is not a run directory",
                expected="an existing run directory",
                found=str(target),
            )
        return target.resolve()
    if not path.is_dir():
        raise ArgumentError(
            f"no run at {path}: no such directory",
            expected="a run directory, a latest pointer, or outputs/<name>",
            found=str(path),
        )
    pointer = path / LATEST
    if pointer.exists() or pointer.is_symlink():
        return resolve_run(pointer)
    runs = [child for child in path.iterdir() if _RUN_NAME.match(child.name) and child.is_dir()]
    if runs:
        return max(runs, key=_run_order).resolve()
    return path.resolve()


def _pointer_target(path: Path) -> str:
    """The run name in a ``latest`` pointer file (written where symlinks fail); any other
    file (a config, a binary) is refused without echoing its contents."""
    not_a_run = ArgumentError(
        f"{path} is a file, not a run directory or a latest pointer",
        expected="a run directory, a latest pointer, or outputs/<name>",
        found=str(path),
    )
    try:
        text = read_bounded(path, 4096, "run pointer").decode("utf-8").strip()
    except (UnicodeDecodeError, NnrunError):
        raise not_a_run from None
    if not text or "\n" in text or "\0" in text or not _RUN_NAME.match(Path(text).name):
        raise not_a_run
    return text


def _run_order(run_dir: Path) -> tuple[str, int]:
    match = _RUN_NAME.match(run_dir.name)
    assert match is not None, "only run directories are ordered"
    stamp, suffix = match.groups()
    return stamp, int(suffix or 0)


class MetricsLogger:
    """Appends one row per (epoch, split) to ``metrics.csv`` and ``metrics.jsonl``.

    Columns: epoch, step, split, loss, then `columns` (metric keys), then lr, seconds.
    Each row is flushed as written. An existing log (a resumed run) must have the same
    columns; call `truncate_after(epoch)` on resume so the logs match a straight run.
    """

    LEADING = ("epoch", "step", "split", "loss")
    TRAILING = ("lr", "seconds")

    def __init__(self, run_dir: Path, columns: Sequence[str]):
        self.header = [*self.LEADING, *columns, *self.TRAILING]
        repeated = sorted({c for c in self.header if self.header.count(c) > 1})
        if repeated:
            raise ValueError(f"metric columns repeat or shadow fixed columns: {repeated}")
        self.columns = list(columns)
        self.csv_path = Path(run_dir) / METRICS_CSV
        self.jsonl_path = Path(run_dir) / METRICS_JSONL
        header_line = _csv_line(self.header)
        if self.csv_path.exists() and self.csv_path.stat().st_size:
            with open(self.csv_path, newline="", errors="replace") as handle:
                found = handle.readline()
            if found != header_line:
                raise ConfigError(
                    f"{self.csv_path} has columns {found.strip()!r} but this run logs "
                    f"{header_line.strip()!r}: resume with the same metrics, or start a new run"
                )
        else:
            write_bytes_atomic(self.csv_path, header_line.encode())
        self.jsonl_path.touch()

    def log(
        self,
        epoch: int,
        split: str,
        *,
        step: int | None = None,
        loss: float | None = None,
        metrics: dict[str, float] | None = None,
        lr: float | None = None,
        seconds: float | None = None,
    ) -> None:
        """Append one row; metrics not given are left empty (CSV) / null (JSONL)."""
        metrics = metrics or {}
        unknown = [key for key in metrics if key not in self.columns]
        if unknown:
            raise ValueError(f"metrics {unknown} are not columns of {self.csv_path}")
        values = [epoch, step, split, loss, *(metrics.get(k) for k in self.columns), lr, seconds]
        row = {key: _plain(value) for key, value in zip(self.header, values, strict=True)}
        cells = [_csv_cell(value) for value in row.values()]
        append_line(self.csv_path, _csv_line(cells))
        append_line(self.jsonl_path, dumps(row) + "\n")

    def truncate_after(self, epoch: int) -> None:
        """Drop rows of epochs after `epoch` (and any torn last line) from both logs."""
        lines = complete_lines(self.csv_path)
        kept = lines[:1] + [line for line in lines[1:] if _csv_epoch(line) <= epoch]
        write_bytes_atomic(self.csv_path, "".join(kept).encode())
        kept = [line for line in complete_lines(self.jsonl_path) if _jsonl_epoch(line) <= epoch]
        write_bytes_atomic(self.jsonl_path, "".join(kept).encode())


def _plain(value: Any) -> Any:
    """Python int/float/str/None from NumPy scalars, so CSV and JSONL spell numbers alike."""
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value)
    return value


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else repr(value)


def _csv_line(cells: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def complete_lines(path: Path) -> list[str]:
    """Lines of `path` ending in a newline: a line torn by a crash is dropped."""
    regular_file(path, "metrics log")  # not /dev/zero: that has no end of line
    with open(path, newline="", errors="replace") as handle:  # bad bytes: a dropped row
        return [line for line in handle if line.endswith("\n")]


def _csv_epoch(line: str) -> float:
    try:
        return int(next(csv.reader([line]))[0])
    except (ValueError, IndexError, StopIteration):
        return float("inf")  # unreadable rows are dropped with the truncated ones


def _jsonl_epoch(line: str) -> float:
    try:
        return int(json.loads(line)["epoch"])
    except (ValueError, KeyError, TypeError):
        return float("inf")
