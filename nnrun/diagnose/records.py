"""`diagnostics.jsonl`: one strict-JSON record per recording pass, in training order.

A record: `{"epoch": E, "step": S, "loss": L, ("after": "non-finite loss" for the one taken
when training diverged,) "layers": [{"name", "type", "path",
"activation", grad_norm, grad_rms, grad_zero_fraction, param_norm, update_norm,
update_ratio (parameterised layers), shape, mean, std, zero_fraction, dead_fraction,
saturated_fraction, nonfinite_fraction (layers with a float output)}, ...]}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nnrun.errors import NnrunError
from nnrun.fileio import append_line, dumps, read_text_file, write_bytes_atomic

DIAGNOSTICS_FILE = "diagnostics.jsonl"
DIVERGED = "non-finite loss"  # `after` of the record taken when training diverged


@dataclass(frozen=True)
class Statistic:
    """A per-layer statistic of a record as tables and charts show it."""

    title: str
    key: str
    share: bool = False  # a fraction, shown as a percentage
    log: bool = False  # spans orders of magnitude: charted on a log scale


# Norms are L2 over the layer's trainable parameters together.
STATISTICS = (
    Statistic("‖grad‖", "grad_norm", log=True),
    Statistic("‖w‖", "param_norm"),
    Statistic("‖Δw‖/‖w‖", "update_ratio", log=True),
    Statistic("mean", "mean"),
    Statistic("std", "std"),
    Statistic("zero", "zero_fraction", share=True),
    Statistic("dead", "dead_fraction", share=True),
    Statistic("sat.", "saturated_fraction", share=True),
    Statistic("nan/inf", "nonfinite_fraction", share=True),
)


def append_record(run_dir: Path, record: dict[str, Any]) -> None:
    append_line(Path(run_dir) / DIAGNOSTICS_FILE, dumps(record) + "\n")


def read_records(run_dir: Path) -> list[dict[str, Any]]:
    """The run's records in order (a torn last line from a crash is dropped); [] if none."""
    path = Path(run_dir) / DIAGNOSTICS_FILE
    if not path.is_file():
        return []
    records = []
    for number, line in enumerate(read_text_file(path, "diagnostics").splitlines(True), 1):
        if line.endswith("\n") and line.strip():
            try:
                record = json.loads(line)
            except ValueError as error:
                raise NnrunError(f"{path}, line {number}: not a JSON record ({error})") from None
            if not isinstance(record, dict) or not isinstance(record.get("step"), int):
                raise NnrunError(f"{path}, line {number}: not a diagnostics record")
            records.append(record)
    return records


def truncate_after(run_dir: Path, step: int) -> list[dict[str, Any]]:
    """Keep the records up to optimizer step `step` (a resumed run continues from there;
    the record a divergence left is dropped); returns them."""
    path = Path(run_dir) / DIAGNOSTICS_FILE
    kept = [r for r in read_records(run_dir) if r["step"] <= step and r.get("after") != DIVERGED]
    if path.exists():
        write_bytes_atomic(path, "".join(dumps(r) + "\n" for r in kept).encode())
    return kept


def select_record(records: list[dict[str, Any]], epoch: int | None) -> dict[str, Any]:
    """The last record, or the last one of `epoch`."""
    if not records:
        raise NnrunError(
            "this run has no diagnostics: train it with --diagnose (or train.diagnose: true)"
        )
    if epoch is None:
        return records[-1]
    chosen = [r for r in records if r["epoch"] == epoch]
    if not chosen:
        epochs = sorted({r["epoch"] for r in records})
        raise NnrunError(
            f"no diagnostics record for epoch {epoch}; recorded epochs: "
            + ", ".join(map(str, epochs))
        )
    return chosen[-1]
