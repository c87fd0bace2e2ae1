"""The typed experiment spec: a resolved config file → `ExperimentSpec`, checked as a whole.

`parse_spec` is where config dicts end. It validates every section (collecting every
problem, each at its file:line:col), checks the model's structure, and returns frozen
dataclasses built with keywords: `DataSpec`, `TrainSpec`, a `ModelSpec`, and a
`ComponentSpec` per loss/optimizer/schedule/metric. Everything downstream reads attributes;
every part keeps its YAML location (`.at`) for errors found later (a shape mismatch at build
time, a metric that does not fit the data's task).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from nnrun import components  # noqa: F401  (the registries must be complete to validate)
from nnrun.config.builder import ModelPlan, parse_model
from nnrun.config.paths import KeyPath
from nnrun.config.resolve import ResolvedConfig
from nnrun.config.sections import (
    ComponentSpec,
    Located,
    Section,
    build_section,
    component_spec,
    options_of,
    setting,
)
from nnrun.config.spec import Option
from nnrun.config.validate import (
    ComponentList,
    problem_position,
    validate_section,
    validate_top_level,
)
from nnrun.constraints import Min
from nnrun.data.options import DATA_SPEC, DataSpec
from nnrun.errors import ConfigError, Problem
from nnrun.registry import LAYERS, LOSSES, METRICS, OPTIMIZERS, SCHEDULES, Registry, type_name
from nnrun.tasks import Task
from nnrun.train.options import TRAIN_SPEC, TrainSpec

SECTIONS: dict[str, Any] = {
    "name": Option(str | None, None, "run name (default: the config file's name)"),
    "seed": Option(
        Annotated[int, Min(0)], 0, "seed for initialization, dropout, shuffling and splits"
    ),
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
"""How each top-level key is validated (see `nnrun.config.validate.Section`)."""


@dataclass(frozen=True)
class InitFrom(Section):
    """`model.init_from`: pre-trained weights for the built model."""

    checkpoint: str = setting(doc="checkpoint (directory or file) to read weights from")
    prefix: str = setting("", "use only the weights whose names start with this")
    rename: dict[str, str] = setting({}, "weight name prefixes to rename, old: new")
    freeze: list[str] = setting([], "parameters to freeze (patterns such as 'layers.0.*')")
    strict: bool = setting(True, "every loaded weight must have a place in the model")


INIT_FROM_SPEC = options_of(InitFrom)


@dataclass(frozen=True)
class ModelSpec:
    """The `model:` section, parsed: `plan` holds the structure the builder checked (nodes,
    references, blocks, shares), ready to instantiate; `init_from` the pre-trained weights."""

    plan: ModelPlan
    init_from: InitFrom | None = None
    at: Located = field(default=Located(), compare=False, repr=False)


@dataclass(frozen=True)
class ExperimentSpec:
    """A whole config, typed. `loss` and `metrics` are None where the data's task decides
    (see `loss_for` and `metrics_for`); `config` keeps the resolved file for locations,
    `--explain` and the saved config text."""

    name: str
    seed: int
    output_dir: str
    data: DataSpec
    model: ModelSpec
    optimizer: ComponentSpec
    train: TrainSpec
    loss: ComponentSpec | None = None
    schedule: ComponentSpec | None = None
    metrics: tuple[ComponentSpec, ...] | None = None
    config: ResolvedConfig = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    def loss_for(self, task: Task) -> ComponentSpec:
        """The configured loss, or the task's default."""
        if self.loss is not None:
            return self.loss
        return component_spec(task.default_loss, Located(("loss",), self.config))

    def metrics_for(self, task: Task) -> tuple[ComponentSpec, ...]:
        """The configured metrics, or the task's defaults."""
        if self.metrics:
            return self.metrics
        at = Located(("metrics",), self.config)
        return tuple(ComponentSpec(name, at=at) for name in task.default_metrics)


def parse_spec(cfg: ResolvedConfig) -> ExperimentSpec:
    """Validate `cfg` (every section and the model's structure) and build its typed spec;
    raise one ConfigError listing every problem, in file order."""
    problems: list[Problem] = []
    if cfg.data.get("schedule") is None:
        cfg.data.pop("schedule", None)
    try:
        values = validate_top_level(cfg, SECTIONS, required=("model",))
    except ConfigError as error:
        problems.extend(error.problems)
        values = {}
    plan, init_from = None, None
    if "model" in cfg.data:
        try:
            plan = parse_model(cfg)
        except ConfigError as error:
            problems.extend(error.problems)
        try:
            init_from = _init_from(cfg)
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(sorted(problems, key=problem_position))
    assert plan is not None

    def at(*path: Any) -> Located:
        return Located(path, cfg)

    if not values.get("name"):  # the saved config keeps the name the run got
        values["name"] = cfg.data["name"] = Path(cfg.path).stem
    optimizer = values.get("optimizer") or {"type": "adam"}
    return ExperimentSpec(
        name=values["name"],
        seed=values["seed"],
        output_dir=values["output_dir"],
        data=build_section(DataSpec, values["data"], at("data")),
        model=ModelSpec(plan=plan, init_from=init_from, at=at("model")),
        optimizer=component_spec(optimizer, at("optimizer")),
        train=build_section(TrainSpec, values["train"], at("train")),
        loss=component_spec(values["loss"], at("loss")) if values.get("loss") else None,
        schedule=(
            component_spec(values["schedule"], at("schedule")) if values.get("schedule") else None
        ),
        metrics=tuple(
            component_spec(item, at("metrics", index))
            for index, item in enumerate(values.get("metrics") or ())
        )
        or None,
        config=cfg,
    )


def _init_from(cfg: ResolvedConfig) -> InitFrom | None:
    model = cfg.data.get("model")
    if not isinstance(model, dict) or model.get("init_from") is None:
        return None
    path = ("model", "init_from")
    value = model["init_from"]
    if isinstance(value, str):
        value = {"checkpoint": value}
    values, problems = validate_section(value, INIT_FROM_SPEC, path, cfg)
    if problems:
        raise ConfigError(problems)
    return build_section(InitFrom, values, Located(path, cfg))


def declared(cfg: ResolvedConfig, path: KeyPath) -> str:
    """What the value at `path` may be, from its declaration (``int >= 1``, ``one of ...``):
    a section option, or an argument of the component written there ("" if undeclared)."""
    if not path or path[0] not in SECTIONS:
        return ""
    section, rest = SECTIONS[path[0]], tuple(path[1:])
    if isinstance(section, Option):
        return "" if rest else type_name(section.type)
    if isinstance(section, dict):
        return _declared_option(section, rest)
    if isinstance(section, ComponentList):
        section, rest = section.registry, rest[1:]
    if isinstance(section, Registry):
        return _declared_argument(section, _at(cfg.data, path[: len(path) - len(rest)]), rest)
    # model / blocks: the innermost written layer entry names the layer type.
    for cut in range(len(path) - 1, 0, -1):
        entry = _at(cfg.data, path[:cut])
        if isinstance(entry, dict) and entry.get("type") in LAYERS:
            return _declared_argument(LAYERS, entry, tuple(path[cut:]))
    return ""


def _declared_option(spec: dict[str, Option], rest: KeyPath) -> str:
    option = spec.get(rest[0]) if rest and isinstance(rest[0], str) else None
    if option is None:
        return ""
    if option.spec is not None and len(rest) > 1:
        return _declared_option(option.spec, rest[1:])
    return "" if len(rest) > 1 else type_name(option.type)


def _declared_argument(registry: Registry, entry: Any, rest: KeyPath) -> str:
    if len(rest) != 1 or not isinstance(rest[0], str):
        return ""
    if not isinstance(entry, dict) or entry.get("type") not in registry:
        return ""
    parameter = registry.parameters(entry["type"]).get(rest[0])
    return type_name(parameter.annotation) if parameter is not None else ""


def _at(data: Any, path: KeyPath) -> Any:
    for key in path:
        if (isinstance(data, dict) and key in data) or (
            isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data)
        ):
            data = data[key]  # type: ignore[index]  # key is an int whenever data is a list
        else:
            return None
    return data
