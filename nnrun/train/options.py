"""The `train:` section of a config: every option the training loop reads."""

from __future__ import annotations

from typing import Any, Literal

from nnrun.config.spec import Option
from nnrun.config.validate import ComponentList
from nnrun.diagnose.options import DIAGNOSE_OPTION
from nnrun.registry import LOGGERS

EARLY_STOPPING_SPEC: dict[str, Option] = {
    "monitor": Option(str, "val_loss", "metric to watch, e.g. val_loss or val_accuracy"),
    "mode": Option(
        str, "auto", "min or max; auto picks from the metric", choices=("auto", "min", "max")
    ),
    "patience": Option(int, 5, "epochs without improvement before stopping", min=0),
    "min_delta": Option(float, 0.0, "smallest change that counts as improvement", min=0),
    "restore_best": Option(bool, True, "load the best weights when training stops"),
}

CHECKPOINT_SPEC: dict[str, Option] = {
    "every": Option(int | None, None, "also keep a checkpoint every N epochs", min=1),
    "keep": Option(int | None, None, "how many periodic checkpoints to keep", min=1),
    "background": Option(
        bool, False, "write checkpoints on a background thread (the next save waits for it)"
    ),
}

TRAIN_SPEC: dict[str, Option] = {
    "epochs": Option(
        int, 10, "number of passes over the training split", min=1, aliases=("max_epochs",)
    ),
    "early_stopping": Option(
        dict | None, None, "stop when the monitored metric stalls", spec=EARLY_STOPPING_SPEC
    ),
    "monitor": Option(
        str | None,
        None,
        "metric that picks the `best` checkpoint (default: early_stopping's, "
        "else val_loss when there is a validation split, else train_loss)",
    ),
    "clip_grad_norm": Option(float | None, None, "clip the global gradient norm to this", min=0),
    "clip_grad_value": Option(float | None, None, "clip each gradient element to ±this", min=0),
    "on_nan": Option(
        str,
        "stop",
        "what a NaN/Inf loss does: stop the run or skip the batch",
        choices=("stop", "skip_batch"),
    ),
    "checkpoint": Option(dict, {}, "periodic checkpoints", spec=CHECKPOINT_SPEC),
    "eval_batch_size": Option(
        int | None, None, "batch size for evaluation (default: data.batch_size)", min=1
    ),
    "compile": Option(
        bool | str,
        "auto",
        "record the model's graph once per batch shape and replay it (bitwise equal); "
        "auto falls back to eager for a model that cannot be replayed, on refuses it",
        choices=("auto", "on", "off", True, False),
    ),
    "diagnose": DIAGNOSE_OPTION,
    "threads": Option(int, 1, "BLAS threads (one thread holds up best on a shared machine)", min=1),
    "loggers": Option(
        ComponentList(LOGGERS),
        [{"type": "csv"}],
        "where metrics go: csv (metrics.csv, always written), tensorboard, mlflow",
    ),
}

Mode = Literal["min", "max"]


def train_defaults() -> dict[str, Any]:
    return {key: option.default for key, option in TRAIN_SPEC.items()}
