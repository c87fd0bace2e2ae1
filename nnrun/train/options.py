"""The `train:` section of a config: every option the training loop reads."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from nnrun.config.spec import Option
from nnrun.constraints import Min

EARLY_STOPPING_SPEC: dict[str, Option] = {
    "monitor": Option(str, "val_loss", "metric to watch, e.g. val_loss or val_accuracy"),
    "mode": Option(Literal["auto", "min", "max"], "auto", "min or max; auto picks from the metric"),
    "patience": Option(Annotated[int, Min(0)], 5, "epochs without improvement before stopping"),
    "min_delta": Option(
        Annotated[float, Min(0)], 0.0, "smallest change that counts as improvement"
    ),
    "restore_best": Option(bool, True, "load the best weights when training stops"),
}

CHECKPOINT_SPEC: dict[str, Option] = {
    "every": Option(Annotated[int, Min(1)] | None, None, "also keep a checkpoint every N epochs"),
    "keep": Option(Annotated[int, Min(1)] | None, None, "how many periodic checkpoints to keep"),
}

TRAIN_SPEC: dict[str, Option] = {
    "epochs": Option(
        Annotated[int, Min(1)],
        10,
        "number of passes over the training split",
        aliases=("max_epochs",),
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
    "clip_grad_norm": Option(
        Annotated[float, Min(0)] | None, None, "clip the global gradient norm to this"
    ),
    "clip_grad_value": Option(
        Annotated[float, Min(0)] | None, None, "clip each gradient element to ±this"
    ),
    "on_nan": Option(
        Literal["stop", "skip_batch"],
        "stop",
        "what a NaN/Inf loss does: stop the run or skip the batch",
    ),
    "checkpoint": Option(dict, {}, "periodic checkpoints", spec=CHECKPOINT_SPEC),
    "eval_batch_size": Option(
        Annotated[int, Min(1)] | None, None, "batch size for evaluation (default: data.batch_size)"
    ),
    "threads": Option(
        Annotated[int, Min(1)], 1, "BLAS threads (one thread holds up best on a shared machine)"
    ),
}

Mode = Literal["min", "max"]


def train_defaults() -> dict[str, Any]:
    return {key: option.default for key, option in TRAIN_SPEC.items()}
