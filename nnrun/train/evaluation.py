"""`nnrun eval`: a trained model's loss, metrics and confusion matrix on a split or file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from nnrun.data.predict import read_labeled
from nnrun.errors import DataError
from nnrun.experiment import sample_batch
from nnrun.fileio import write_json_atomic
from nnrun.losses.targets import check_data_targets
from nnrun.markup import safe
from nnrun.metrics import confusion_matrix
from nnrun.train.loop import evaluate_split, predict_outputs
from nnrun.train.session import open_run

EVAL_FILE = "eval.json"
DATA_PREFIX = "data"  # metric prefix for a labelled file given with --data


def evaluate_run(
    target: Path, split: str, data_path: Path | None, batch_size: int
) -> dict[str, Any]:
    """Evaluate; metrics are named as everywhere else (``test_accuracy``, ``val_loss``;
    ``data_accuracy`` for a --data file). The result is also stored in the run's
    `eval.json`, which keeps one entry per split or file (re-evaluating replaces it)."""
    opened = open_run(target)
    exp = opened.experiment
    if data_path is not None:
        part = read_labeled(data_path, exp.spec.data, opened.preprocessor)
        label, prefix = str(data_path), DATA_PREFIX
        # The run's own splits were checked when the experiment was built; a new file too,
        # once, against the outputs of its first examples.
        first_inputs, first_targets = sample_batch(part)
        first_outputs = predict_outputs(exp, first_inputs, batch_size=0)
        check_data_targets(exp.loss, {"eval": part}, first_outputs, len(first_targets), label)
    else:
        if split not in exp.data.splits:
            raise DataError(
                f"this run's data has no {split!r} split; it has " + ", ".join(exp.data.splits)
            )
        part, label, prefix = exp.data.splits[split], split, split
    metrics, outputs, targets = evaluate_split(exp, split, batch_size, data_split=part)
    info = exp.data.info
    result: dict[str, Any] = {
        "run": str(opened.run_dir or opened.checkpoint.path),
        "checkpoint": str(opened.checkpoint.path),
        "split": label,
        "examples": len(part),
        "metrics": {f"{prefix}_{key}": value for key, value in metrics.items()},
    }
    if info.task.has_classes and outputs is not None and targets is not None:
        matrix = confusion_matrix(outputs, targets, info.task, info.num_classes)
        result["confusion_matrix"] = matrix.tolist()
        names = opened.preprocessor.classes or [str(i) for i in range(len(matrix))]
        result["class_names"] = [str(n) for n in names][: len(matrix)]
    if opened.run_dir is not None:
        path = opened.run_dir / EVAL_FILE
        write_json_atomic(path, {**read_evaluations(path), label: result})
    return result


def read_evaluations(path: Path) -> dict[str, Any]:
    """`eval.json` as {split or file: result}; {} when missing or in an older layout."""
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(stored, dict) or "metrics" in stored:
        return {}
    return {k: v for k, v in stored.items() if isinstance(v, dict) and "metrics" in v}


def render_evaluation(result: dict[str, Any], console: Console) -> None:
    table = Table(title=f"{safe(result['split'])} — {result['examples']} examples")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result["metrics"].items():
        table.add_row(safe(key), f"{value:.4f}")
    console.print(table)
    matrix = result.get("confusion_matrix")
    if matrix and len(matrix) <= 30:
        grid = Table(title="confusion matrix (rows: true, columns: predicted)")
        names = result["class_names"]
        grid.add_column("")
        for name in names:
            grid.add_column(safe(name), justify="right")
        for name, row in zip(names, matrix, strict=False):
            grid.add_row(safe(name), *(str(v) for v in row))
        console.print(grid)
