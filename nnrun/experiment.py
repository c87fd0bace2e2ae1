"""A config file → everything a run needs: validated config, data, model, loss, optimizer,
schedule and metrics. The CLI commands (train, eval, predict, validate, graph, gradcheck)
all start here."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nnrun import (
    components,  # noqa: F401  (fills the registries)
    random,
)
from nnrun.autograd.grad_mode import no_grad
from nnrun.autograd.tensor import Tensor
from nnrun.config.builder import GraphView, instantiate
from nnrun.config.paths import describe, did_you_mean, format_path
from nnrun.config.resolve import ResolvedConfig, resolve_config
from nnrun.config.sections import Located, located
from nnrun.data import DataBundle, Split, load_data
from nnrun.errors import ConfigError, NnrunError, Problem
from nnrun.init_from import apply_init_from
from nnrun.losses.base import Loss
from nnrun.losses.targets import check_data_targets
from nnrun.metrics import BoundMetric, compute_metrics, resolve_metrics
from nnrun.nn.model import NodeError, TraceRecord
from nnrun.nn.module import Module
from nnrun.optim.optimizer import Optimizer
from nnrun.registry import LOSSES, OPTIMIZERS, SCHEDULES
from nnrun.schedules import Schedule
from nnrun.spec import SECTIONS, ExperimentSpec, parse_spec
from nnrun.tasks import Task
from nnrun.train.options import TrainSpec

__all__ = ["SECTIONS", "Experiment", "build_experiment", "resolve", "validate"]


@dataclass(kw_only=True)
class Experiment:
    """Everything built from one config: its typed `spec`, the data, the model (sized by a
    dry run), loss, optimizer, schedule and the metrics bound to the data's task."""

    spec: ExperimentSpec
    base_dir: Path
    data: DataBundle
    model: Module
    view: GraphView
    trace: list[TraceRecord]
    loss: Loss
    optimizer: Optimizer | None  # None for a model without parameters (not trainable)
    schedule: Schedule | None
    metrics: list[BoundMetric]
    metric_keys: list[str] = field(default_factory=list)  # metrics.csv's metric columns
    frozen: list[str] = field(default_factory=list)

    @property
    def cfg(self) -> ResolvedConfig:
        return self.spec.config

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def seed(self) -> int:
        return self.spec.seed

    @property
    def train(self) -> TrainSpec:
        return self.spec.train

    @property
    def task(self) -> Task:
        return self.data.info.task

    @functools.cached_property
    def config_text(self) -> str:
        """The fully resolved config as YAML (saved with the run and in each checkpoint)."""
        return self.cfg.to_yaml()

    @property
    def config_hash(self) -> str:
        return hashlib.sha256(self.config_text.encode()).hexdigest()[:16]


def resolve(
    path: str | Path, overrides: list[str] | None = None, seed: int | None = None
) -> ResolvedConfig:
    """Load a config file with its `extends` and `--set` overrides (and a `--seed`)."""
    cfg = resolve_config(path, list(overrides or []))
    if seed is not None:
        cfg.data["seed"] = seed
    return cfg


def validate(cfg: ResolvedConfig) -> ExperimentSpec:
    """Check every section and the model structure; raise one ConfigError with everything.
    `cfg.data` becomes the normalized config (defaults filled in)."""
    return parse_spec(cfg)


def dataset_properties(data: DataBundle) -> dict[str, Any]:
    """What `${dataset.<key>}` in a model section refers to."""
    info = data.info
    return {
        "num_classes": info.num_classes,
        "vocab_size": len(info.vocab) if info.vocab else None,
        "num_features": int(np.prod(info.input_shape)) if info.input_shape else None,
        "output_size": info.output_size,
    }


def sample_batch(split: Split, size: int = 2) -> tuple[Any, np.ndarray]:
    """A few examples for the dry run that infers sizes (a graph is always whole)."""
    if split.is_graph:
        return split.inputs, split.targets
    if isinstance(split.inputs, dict):
        return {k: v[:size] for k, v in split.inputs.items()}, split.targets[:size]
    return split.inputs[:size], split.targets[:size]


def as_input(x: Any, dtype: Any = np.float32) -> Any:
    """Batch arrays → Tensors: floats in the model's dtype, integers (tokens, edges) as is."""
    if isinstance(x, dict):
        return {k: as_input(v, dtype) for k, v in x.items()}
    if isinstance(x, Tensor):
        return x
    array = np.asarray(x)
    return Tensor(array, dtype=dtype if array.dtype.kind == "f" else None)


def loss_arguments(outputs: Any, targets: Any, loss: Any) -> tuple[Any, ...]:
    """A model's outputs (one tensor or a tuple) and the targets, as the loss takes them."""
    args = tuple(outputs) if isinstance(outputs, tuple) else (outputs,)
    if "target" in getattr(loss, "inputs", ("prediction", "target")):
        args = (*args, targets)
    return args


def dry_run(
    experiment_cfg: ResolvedConfig, model: Module, data: DataBundle, loss: Any
) -> tuple[list[TraceRecord], Any]:
    """Run a couple of real examples through the model: this creates the lazily sized
    parameters and finds shape mistakes, reported at the YAML entry that caused them.
    Returns the trace of layer calls and the outputs (NumPy)."""
    inputs, targets = sample_batch(data.splits["train"])
    model.trace = []
    model.eval()
    try:
        with no_grad():
            outputs = model(as_input(inputs))
            loss(*loss_arguments(outputs, targets, loss))
    except NodeError as error:
        raise ConfigError(
            Problem(str(error), format_path(error.path), experiment_cfg.where(error.path))
        ) from None
    except (NnrunError, ValueError, IndexError, TypeError) as error:
        shapes = describe(getattr(outputs, "shape", None)) if "outputs" in locals() else "?"
        raise ConfigError(
            Problem(
                f"the loss cannot take the model's output: {error}",
                "loss",
                experiment_cfg.where(("loss",)) or experiment_cfg.where(("model",)),
                expected=f"an output that fits targets of shape {np.shape(targets)[1:]} per "
                f"example ({data.info.task}, {data.info.num_classes or 'no'} classes)",
                found=f"model output {shapes}",
            )
        ) from None
    finally:
        trace, model.trace = model.trace, None
        model.train()
    if isinstance(outputs, tuple):
        return trace, tuple(o.data for o in outputs)
    return trace, outputs.data


def logged_metric_keys(specs: list[Any], outputs: Any, data: DataBundle) -> list[str]:
    """The metric columns a run logs, found by computing the metrics on sample outputs."""
    info = data.info
    scores = info.task.metric_outputs(outputs)
    if scores is None:
        return []
    targets = sample_batch(data.splits["train"])[1]
    return list(compute_metrics(specs, scores, targets, info.task, info.num_classes))


def check_monitors(spec: ExperimentSpec, keys: list[str], has_val: bool, schedule: Any) -> None:
    """Every monitored name must be something the run logs — found now, not after an epoch."""
    splits = ["train", "val"] if has_val else ["train"]
    logged = [f"{split}_{key}" for split in splits for key in ["loss", *keys]]
    train = spec.train
    watched = [
        (train.at, ("monitor",), train.monitor),
        (train.at, ("early_stopping", "monitor"), getattr(train.early_stopping, "monitor", None)),
        (
            spec.schedule.at if spec.schedule else None,
            ("monitor",),
            getattr(schedule, "monitor", None),
        ),
    ]
    problems = [
        Problem(
            f"cannot monitor {name!r}{did_you_mean(name, logged)}",
            at.key_path(*keys),
            at.where(*keys),
            expected="one of " + ", ".join(logged),
            found=repr(name),
        )
        for at, keys, name in watched
        if name is not None and at is not None and name not in logged
    ]
    if problems:
        raise ConfigError(problems)


def _check_output_width(at: Located, outputs: Any, data: DataBundle) -> None:
    info = data.info
    if isinstance(outputs, tuple) or info.num_classes is None:
        return
    if info.task.class_scores:
        width = outputs.shape[-1]
        if width != info.num_classes:
            raise ConfigError(
                Problem(
                    f"the model ends with {width} outputs but the data has "
                    f"{info.num_classes} classes; set the last layer's units to "
                    f"{info.num_classes}",
                    at.key_path(),
                    at.where(),
                    expected=f"{info.num_classes} outputs",
                    found=f"output shape {outputs.shape}",
                )
            )


def bind_metrics(spec: ExperimentSpec, task: Task) -> list[BoundMetric]:
    """The run's metrics, built and checked against the data's task; a metric that does
    not fit is reported at its own entry of `metrics:`."""
    specs = spec.metrics_for(task)
    for item in specs:
        located(item.at, lambda item=item: resolve_metrics([item], task))
    return located(Located(("metrics",), spec.config), lambda: resolve_metrics(specs, task))


def build_experiment(
    cfg: ResolvedConfig,
    base_dir: Path | None = None,
    data: DataBundle | None = None,
    pretrained: bool = True,
) -> Experiment:
    """Validate `cfg` and build the run: data, model (sized by a dry run), loss, optimizer,
    schedule and metrics. Raises ConfigError/DataError with located, complete messages.
    `pretrained=False` skips loading `model.init_from` weights (only freezes), for a run
    whose own checkpoint is loaded next."""
    spec = parse_spec(cfg)
    base_dir = Path(base_dir) if base_dir is not None else Path(cfg.path).resolve().parent
    if data is None:
        data = load_data(spec.data, spec.seed, base_dir)
    task = data.info.task
    loss = spec.loss_for(task).build(LOSSES)
    random.seed(spec.seed)
    # Built once, seeded: a reproducible initialization.
    model = instantiate(spec.model.plan, cfg, dataset_properties(data))
    metrics = bind_metrics(spec, task)
    trace, sample_outputs = dry_run(cfg, model, data, loss)
    _check_output_width(spec.model.at, sample_outputs, data)
    # Every split's targets, checked once here rather than by the loss at every step.
    examples = len(sample_batch(data.splits["train"])[1])
    check_data_targets(loss, data.splits, sample_outputs, examples, data.info.name or "the data")
    metric_keys = logged_metric_keys(metrics, sample_outputs, data)
    frozen = []
    if spec.model.init_from is not None:
        output_dir = Path(spec.output_dir)
        frozen = apply_init_from(spec.model.init_from, model, base_dir, output_dir, pretrained)
    # A model without parameters (a pure computation, e.g. the lecture's forward pass) can
    # be shown and checked but not trained: no optimizer, and `nnrun train` refuses it.
    optimizer = None
    if any(True for _ in model.parameters()):
        optimizer = spec.optimizer.build(OPTIMIZERS, list(model.named_parameters()))
    schedule = None
    if spec.schedule is not None and optimizer is not None:
        steps = len(data.loader("train", spec.seed))
        schedule = spec.schedule.build(SCHEDULES, optimizer, spec.train.epochs, steps)
    check_monitors(spec, metric_keys, "val" in data.splits, schedule)
    return Experiment(
        spec=spec,
        base_dir=base_dir,
        data=data,
        model=model,
        view=spec.model.plan.view,
        trace=trace,
        loss=loss,
        optimizer=optimizer,
        schedule=schedule,
        metrics=metrics,
        metric_keys=metric_keys,
        frozen=frozen,
    )
