"""The `train:` section of a config: every option the training loop reads, declared once as
typed, frozen dataclasses (the validator, `nnrun schema` and the loop all read these)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from nnrun.config.sections import ComponentSpec, Section, options_of, setting
from nnrun.config.validate import ComponentList
from nnrun.constraints import Min
from nnrun.diagnose.options import DIAGNOSE_DOC, Diagnose
from nnrun.registry import LOGGERS

Mode = Literal["min", "max"]


@dataclass(frozen=True)
class EarlyStopping(Section):
    """`train.early_stopping`: stop when the monitored value stalls."""

    monitor: str = setting("val_loss", "metric to watch, e.g. val_loss or val_accuracy")
    mode: Literal["auto", "min", "max"] = setting("auto", "min or max; auto picks from the metric")
    patience: Annotated[int, Min(0)] = setting(5, "epochs without improvement before stopping")
    min_delta: Annotated[float, Min(0)] = setting(0.0, "smallest change that counts as improvement")
    restore_best: bool = setting(True, "load the best weights when training stops")


@dataclass(frozen=True)
class CheckpointPolicy(Section):
    """`train.checkpoint`: periodic checkpoints besides `last` and `best`."""

    every: Annotated[int, Min(1)] | None = setting(None, "also keep a checkpoint every N epochs")
    keep: Annotated[int, Min(1)] | None = setting(None, "how many periodic checkpoints to keep")
    background: bool = setting(
        False, "write checkpoints on a background thread (the next save waits for it)"
    )


@dataclass(frozen=True)
class TrainSpec(Section):
    """The `train:` section."""

    epochs: Annotated[int, Min(1)] = setting(
        10, "number of passes over the training split", aliases=("max_epochs",)
    )
    early_stopping: EarlyStopping | None = setting(None, "stop when the monitored metric stalls")
    monitor: str | None = setting(
        None,
        "metric that picks the `best` checkpoint (default: early_stopping's, "
        "else val_loss when there is a validation split, else train_loss)",
    )
    clip_grad_norm: Annotated[float, Min(0)] | None = setting(
        None, "clip the global gradient norm to this"
    )
    clip_grad_value: Annotated[float, Min(0)] | None = setting(
        None, "clip each gradient element to ±this"
    )
    on_nan: Literal["stop", "skip_batch"] = setting(
        "stop", "what a NaN/Inf loss does: stop the run or skip the batch"
    )
    checkpoint: CheckpointPolicy = setting(CheckpointPolicy, "periodic checkpoints")
    eval_batch_size: Annotated[int, Min(1)] | None = setting(
        None, "batch size for evaluation (default: data.batch_size)"
    )
    compile: Literal["auto", "on", "off", True, False] = setting(
        "auto",
        "record the model's graph once per batch shape and replay it (bitwise equal); "
        "auto falls back to eager for a model that cannot be replayed, on refuses it",
    )
    # `None` is accepted (as off) so that leaving the key out keeps the default `false`
    # instead of filling in the sub-section's defaults.
    diagnose: bool | Diagnose | None = setting(False, DIAGNOSE_DOC)
    threads: Annotated[int, Min(1)] = setting(
        1, "BLAS threads (one thread holds up best on a shared machine)"
    )
    loggers: Annotated[tuple[ComponentSpec, ...], ComponentList(LOGGERS)] = setting(
        (ComponentSpec("csv"),),
        "where metrics go: csv (metrics.csv, always written), tensorboard, mlflow",
    )


TRAIN_SPEC = options_of(TrainSpec)
