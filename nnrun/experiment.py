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
from nnrun.config.builder import BuiltModel, GraphView, build_model
from nnrun.config.init_from import apply_init_from
from nnrun.config.paths import describe, did_you_mean, format_path
from nnrun.config.resolve import ResolvedConfig, resolve_config
from nnrun.config.spec import Option
from nnrun.config.validate import ComponentList, problem_position, validate_top_level
from nnrun.data import DATA_SPEC, DataBundle, Split, load_data
from nnrun.errors import ArgumentError, ConfigError, NnrunError, Problem
from nnrun.nn.model import NodeError, TraceRecord
from nnrun.nn.module import Module
from nnrun.registry import LOSSES, METRICS, OPTIMIZERS, SCHEDULES
from nnrun.train.metrics import compute_metrics, metric_outputs, resolve_metrics
from nnrun.train.options import TRAIN_SPEC

SECTIONS: dict[str, Any] = {
    "name": Option(str | None, None, "run name (default: the config file's name)"),
    "seed": Option(int, 0, "seed for initialization, dropout, shuffling and splits", min=0),
    "data": DATA_SPEC,
    "model": None,  # checked by the builder
    "blocks": None,  # checked by the builder where blocks are used
    "loss": LOSSES,
    "optimizer": OPTIMIZERS,
    "schedule": SCHEDULES,
    "train": TRAIN_SPEC,
    "metrics": ComponentList(METRICS),
    "output_dir": Option(str, "outputs", "where run directories go"),
}

DEFAULT_LOSS = {
    "classification": {"type": "cross_entropy"},
    "node_classification": {"type": "cross_entropy"},
    "sequence": {"type": "cross_entropy", "class_dim": -1},
    "binary": {"type": "bce_with_logits"},
    "regression": {"type": "mse"},
    "ranking": {"type": "margin_ranking", "margin": 1.0},
}
DEFAULT_METRICS = {"regression": ["mae", "r2"], "ranking": ["pairwise_accuracy"]}


@dataclass
class Experiment:
    """Everything built from one config."""

    cfg: ResolvedConfig
    config: dict[str, Any]
    name: str
    seed: int
    base_dir: Path
    data: DataBundle
    model: Module
    view: GraphView
    trace: list[TraceRecord]
    loss: Any
    optimizer: Any
    schedule: Any
    metrics: list[Any]
    metric_keys: list[str] = field(default_factory=list)  # metrics.csv's metric columns
    frozen: list[str] = field(default_factory=list)

    @property
    def task(self) -> str:
        return self.data.info.task

    @functools.cached_property
    def config_text(self) -> str:
        """The fully resolved config as YAML (saved with the run and in each checkpoint)."""
        return self.cfg.to_yaml()

    @property
    def config_hash(self) -> str:
        return hashlib.sha256(self.config_text.encode()).hexdigest()[:16]

    @property
    def train(self) -> dict[str, Any]:
        return self.config["train"]


def resolve(
    path: str | Path, overrides: list[str] | None = None, seed: int | None = None
) -> ResolvedConfig:
    """Load a config file with its `extends` and `--set` overrides (and a `--seed`)."""
    cfg = resolve_config(path, list(overrides or []))
    if seed is not None:
        cfg.data["seed"] = seed
    return cfg


def validate(cfg: ResolvedConfig) -> tuple[dict[str, Any], BuiltModel | None]:
    """Check every section and the model structure; raise one ConfigError with everything.

    Returns the normalized config and the (not yet shape-checked) model.
    """
    problems: list[Problem] = []
    if cfg.data.get("schedule") is None:
        cfg.data.pop("schedule", None)
    try:
        config = validate_top_level(cfg, SECTIONS, required=("model",))
    except ConfigError as error:
        problems.extend(error.problems)
        config = cfg.data
    built = None
    if "model" in cfg.data:
        try:
            built = build_model(cfg)
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(sorted(problems, key=problem_position))
    if not config.get("name"):
        config["name"] = Path(cfg.path).stem
    return config, built


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
    _check_output_width(experiment_cfg, outputs, data)
    if isinstance(outputs, tuple):
        return trace, tuple(o.data for o in outputs)
    return trace, outputs.data


def logged_metric_keys(specs: list[Any], outputs: Any, data: DataBundle) -> list[str]:
    """The metric columns a run logs, found by computing the metrics on sample outputs."""
    info = data.info
    scores = metric_outputs(outputs, info.task)
    if scores is None:
        return []
    targets = sample_batch(data.splits["train"])[1]
    return list(compute_metrics(specs, scores, targets, info.task, info.num_classes))


def check_monitors(
    cfg: ResolvedConfig, config: dict[str, Any], keys: list[str], has_val: bool, schedule: Any
) -> None:
    """Every monitored name must be something the run logs — found now, not after an epoch."""
    splits = ["train", "val"] if has_val else ["train"]
    logged = [f"{split}_{key}" for split in splits for key in ["loss", *keys]]
    train = config["train"]
    watched = [
        (("train", "monitor"), train["monitor"]),
        (("train", "early_stopping", "monitor"), (train["early_stopping"] or {}).get("monitor")),
        (("schedule", "monitor"), getattr(schedule, "monitor", None)),
    ]
    problems = [
        Problem(
            f"cannot monitor {name!r}{did_you_mean(name, logged)}",
            format_path(path),
            cfg.where(path),
            expected="one of " + ", ".join(logged),
            found=repr(name),
        )
        for path, name in watched
        if name is not None and name not in logged
    ]
    if problems:
        raise ConfigError(problems)


def _check_output_width(cfg: ResolvedConfig, outputs: Any, data: DataBundle) -> None:
    info = data.info
    if isinstance(outputs, tuple) or info.num_classes is None:
        return
    if info.task in ("classification", "node_classification", "sequence"):
        width = outputs.shape[-1]
        if width != info.num_classes:
            raise ConfigError(
                Problem(
                    f"the model ends with {width} outputs but the data has "
                    f"{info.num_classes} classes; set the last layer's units to "
                    f"{info.num_classes}",
                    "model",
                    cfg.where(("model",)),
                    expected=f"{info.num_classes} outputs",
                    found=f"output shape {outputs.shape}",
                )
            )


def build_loss(cfg: ResolvedConfig, config: dict[str, Any], task: str) -> Any:
    spec = config.get("loss") or DEFAULT_LOSS.get(task, {"type": "mse"})
    if isinstance(spec, str):
        spec = {"type": spec}
    args = {k: v for k, v in spec.items() if k != "type"}
    return _build(cfg, ("loss",), lambda: LOSSES.build(spec["type"], **args))


def _build(cfg: ResolvedConfig, path: tuple, make: Any) -> Any:
    """Construct a component; constructor range checks become located config errors."""
    try:
        return make()
    except ArgumentError as error:
        here = (*path, error.key) if error.key else path
        raise ConfigError(
            Problem(str(error), format_path(here), cfg.where(here), error.expected, error.found)
        ) from None


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
    config, built = validate(cfg)
    assert built is not None
    base_dir = Path(base_dir) if base_dir is not None else Path(cfg.path).resolve().parent
    seed = config["seed"]
    if data is None:
        data = load_data(config["data"], seed, base_dir)
    task = data.info.task
    loss = build_loss(cfg, config, task)
    random.seed(seed)
    model = build_model(cfg, dataset_properties(data)).model  # seeded: reproducible init
    metric_specs = config.get("metrics") or DEFAULT_METRICS.get(task, ["accuracy"])
    _build(cfg, ("metrics",), lambda: resolve_metrics(metric_specs, task))
    trace, sample_outputs = dry_run(cfg, model, data, loss)
    metric_keys = logged_metric_keys(metric_specs, sample_outputs, data)
    frozen = []
    init_from = (
        (cfg.data.get("model") or {}).get("init_from")
        if isinstance(cfg.data.get("model"), dict)
        else None
    )
    if init_from is not None:
        output_dir = Path(config["output_dir"])
        frozen = apply_init_from(cfg, init_from, model, base_dir, output_dir, pretrained)
    optimizer_spec = config.get("optimizer") or {"type": "adam"}
    if isinstance(optimizer_spec, str):
        optimizer_spec = {"type": optimizer_spec}
    # A model without parameters (a pure computation, e.g. the lecture's forward pass) can
    # be shown and checked but not trained: no optimizer, and `nnrun train` refuses it.
    optimizer = None
    if any(True for _ in model.parameters()):
        optimizer = _build(
            cfg,
            ("optimizer",),
            lambda: OPTIMIZERS.build(
                optimizer_spec["type"],
                list(model.named_parameters()),
                **{k: v for k, v in optimizer_spec.items() if k != "type"},
            ),
        )
    schedule = None
    if config.get("schedule") and optimizer is not None:
        spec = config["schedule"]
        steps = len(data.loader("train", seed))
        schedule = _build(
            cfg,
            ("schedule",),
            lambda: SCHEDULES.build(
                spec["type"],
                optimizer,
                config["train"]["epochs"],
                steps,
                **{k: v for k, v in spec.items() if k != "type"},
            ),
        )
    check_monitors(cfg, config, metric_keys, "val" in data.splits, schedule)
    return Experiment(
        cfg,
        config,
        config["name"],
        seed,
        base_dir,
        data,
        model,
        built.view,
        trace,
        loss,
        optimizer,
        schedule,
        metric_specs,
        metric_keys,
        frozen,
    )
