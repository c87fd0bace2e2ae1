"""The sweep file: schema, validation with file:line:column locations, and the `SweepSpec`.

Keys follow the W&B sweep layout::

    base: ../digits_mlp.yaml          # experiment config to vary, relative to this file
    method: grid                      # grid | random | bayes
    metric: {name: val_accuracy, goal: maximize}
    parameters:
      optimizer.lr: {values: [0.01, 0.001]}
      optimizer.weight_decay: {distribution: log_uniform, min: 1.0e-6, max: 1.0e-2}
    run_cap: 30                       # number of points (required for random and bayes)
    repeats: 1                        # seeds per point, aggregated as mean ± std
    workers: 2

Every problem is reported at once, each located like a config error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from nnrun.config.loader import load_file, parse_text
from nnrun.config.paths import KeyPath, describe, did_you_mean, format_path
from nnrun.config.resolve import ResolvedConfig
from nnrun.config.sections import Located, Section, build_section, options_of, setting
from nnrun.config.spec import REQUIRED, Option
from nnrun.config.validate import validate_section
from nnrun.constraints import Min
from nnrun.errors import ArgumentError, ConfigError, Location, Problem
from nnrun.limits import MAX_GRID_POINTS
from nnrun.sweep.space import (
    DISTRIBUTION_ALIASES,
    DISTRIBUTIONS,
    FINITE,
    Param,
    as_override,
    grid_size,
)

METHODS = ("grid", "random", "bayes")

METRIC_SPEC: dict[str, Option] = {
    "name": Option(
        str,
        "val_loss",
        "the run value to optimize: a train_/val_/test_ loss or metric, e.g. val_accuracy",
    ),
    "goal": Option(
        Literal["auto", "maximize", "minimize"],
        "auto",
        "maximize or minimize; auto picks from the metric",
    ),
    "summary": Option(
        Literal["last", "best"],
        "last",
        "last: the value after the final epoch; best: the best epoch's value",
    ),
}


@dataclass(frozen=True)
class EarlyTerminate(Section):
    """`early_terminate`: prune bad bayes trials early."""

    type: Literal["median"] = setting(
        "median",
        "median: stop a trial whose metric is worse than the "
        "median of earlier trials at the same epoch",
    )
    min_epochs: Annotated[int, Min(1)] = setting(
        3, "epochs every trial runs before it can be pruned"
    )
    min_trials: Annotated[int, Min(0)] = setting(3, "trials that must finish before any is pruned")


EARLY_TERMINATE_SPEC = options_of(EarlyTerminate)

SWEEP_SPEC: dict[str, Option] = {
    "name": Option(str | None, None, "sweep name (default: the sweep file's name)"),
    "base": Option(str, REQUIRED, "the experiment config to vary, relative to the sweep file"),
    "method": Option(Literal[*METHODS], "grid", "how points are chosen"),
    "metric": Option(dict, {}, "what to optimize", spec=METRIC_SPEC),
    "parameters": Option(dict, REQUIRED, "dotted config path -> distribution"),
    "run_cap": Option(
        Annotated[int, Min(1)] | None, None, "most points to try (required for random and bayes)"
    ),
    "repeats": Option(
        Annotated[int, Min(1)], 1, "runs per point with different seeds (mean ± std)"
    ),
    "workers": Option(Annotated[int, Min(1)], 1, "trials run at the same time"),
    "seed": Option(
        Annotated[int, Min(0)], 0, "sweep seed: sampling and every trial's seed derive from it"
    ),
    "output_dir": Option(str, "outputs/sweeps", "sweeps go to <output_dir>/<name>/<time>/"),
    "early_terminate": Option(
        dict | None, None, "prune bad bayes trials early", spec=EARLY_TERMINATE_SPEC
    ),
}


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file. `base` is absolute; `params` keep the file's order."""

    path: Path
    text: str
    name: str
    base: Path
    method: str
    metric: str
    goal: str  # "maximize" | "minimize"
    metric_summary: str  # "last" | "best"
    params: tuple[Param, ...]
    run_cap: int | None
    repeats: int
    workers: int
    seed: int
    output_dir: str
    early_terminate: EarlyTerminate | None
    cfg: ResolvedConfig = field(compare=False, repr=False)

    @property
    def maximize(self) -> bool:
        return self.goal == "maximize"

    @property
    def varying(self) -> list[str]:
        """Keys of parameters that take more than one value."""
        return [
            p.key
            for p in self.params
            if p.distribution != "constant"
            and not (p.distribution == "categorical" and len(p.values) == 1)
        ]


def load_sweep(
    path: str | Path,
    text: str | None = None,
    base_dir: Path | None = None,
    default_name: str | None = None,
) -> SweepSpec:
    """Read and validate a sweep file (or its saved `text`); raise one ConfigError listing
    every problem. `base_dir` is where a relative `base` is looked up (default: the file's
    folder; a resumed sweep passes the original file's folder); `default_name` names a
    sweep without a `name:` key (default: the file's name)."""
    path = Path(path)
    document = parse_text(text, str(path)) if text is not None else load_file(path)
    if text is None:  # load_file read it already (bounded, a regular UTF-8 file)
        text = path.read_text(encoding="utf-8-sig")
    cfg = ResolvedConfig(document.data, str(path), document.keys, document.values)
    if not isinstance(document.data, dict):
        raise ConfigError(
            Problem(
                "a sweep file must be a mapping",
                location=cfg.where(()),
                expected="keys base, method, metric, parameters, ...",
                found=describe(document.data),
            )
        )
    values, problems = validate_section(document.data, SWEEP_SPEC, (), cfg)
    if problems:
        raise ConfigError(problems)
    params = []
    for key, entry in values["parameters"].items():
        param, found = parse_param(key, entry, cfg)
        problems += found
        if param is not None:
            params.append(param)
    if not values["parameters"]:
        problems.append(
            _problem(
                cfg,
                ("parameters",),
                "no parameters to sweep",
                "at least one 'dotted.path: {values: [...]}'",
                "nothing",
            )
        )
    problems += _check_method(values, params, cfg)
    goal, found = _goal(values["metric"], cfg)
    problems += found
    base_dir = base_dir or path.resolve().parent
    base = (base_dir / values["base"]).resolve()
    if not base.is_file():
        problems.append(
            _problem(
                cfg,
                ("base",),
                "the base config does not exist",
                "a config file, relative to the sweep file",
                str(base),
            )
        )
    if problems:
        raise ConfigError(sorted(problems, key=_position))
    return SweepSpec(
        path=path,
        text=text,
        name=values["name"] or default_name or path.stem,
        base=base,
        method=values["method"],
        metric=values["metric"]["name"],
        goal=goal,
        metric_summary=values["metric"]["summary"],
        params=tuple(params),
        run_cap=values["run_cap"],
        repeats=values["repeats"],
        workers=values["workers"],
        seed=values["seed"],
        output_dir=values["output_dir"],
        early_terminate=(
            build_section(
                EarlyTerminate, values["early_terminate"], Located(("early_terminate",), cfg)
            )
            if values["early_terminate"] is not None
            else None
        ),
        cfg=cfg,
    )


def check_base(spec: SweepSpec) -> None:
    """Check the base config and that every parameter names a key it can take.

    A key the (validated, defaults filled) base config lacks is tried as an override; if
    the config layer then reports that very key, the mistake (a typo such as
    ``optimizer.lrr``) is reported at the parameter's line in the sweep file. Bad *values*
    are left to the trials, which fail one by one without stopping the sweep.
    """
    from nnrun.experiment import resolve, validate

    base = resolve(spec.base)
    validate(base)
    base_data = base.data
    problems = []
    for param in spec.params:
        if _has_path(base_data, param.key.split(".")):
            continue
        text = as_override(param.key, param.example())
        try:
            validate(resolve(spec.base, [text]))
        except ConfigError as error:
            own = [p for p in error.problems if p.location and p.location.file == f"--set {text}"]
            problems += [
                _problem(
                    spec.cfg,
                    ("parameters", param.key),
                    f"the base config {spec.base.name} cannot take this key: {p.message}",
                    p.expected or "a key of the base config",
                    p.found,
                    key=True,
                )
                for p in own
            ]
    if problems:
        raise ConfigError(problems)


def check_metric(spec: SweepSpec) -> None:
    """The sweep's metric must be one the base config's runs log (``train_``/``val_``
    values of each epoch, ``test_`` ones at the end): found before any trial trains. A
    sweep that varies the metrics themselves is left to its trials."""
    from nnrun.experiment import build_experiment, resolve

    if any(p.key.split(".")[0] == "metrics" for p in spec.params):
        return
    experiment = build_experiment(resolve(spec.base))
    splits = [split for split in ("train", "val", "test") if split in experiment.data.splits]
    logged = [f"{split}_{key}" for split in splits for key in ["loss", *experiment.metric_keys]]
    if spec.metric not in logged:
        raise ConfigError(
            [
                _problem(
                    spec.cfg,
                    ("metric", "name"),
                    f"the runs of {spec.base.name} do not log {spec.metric!r}"
                    + did_you_mean(spec.metric, logged),
                    "one of " + ", ".join(logged),
                    repr(spec.metric),
                )
            ]
        )


def _has_path(data: Any, parts: list[str]) -> bool:
    for part in parts:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False
    return True


def parse_param(key: Any, entry: Any, cfg: ResolvedConfig) -> tuple[Param | None, list[Problem]]:
    """One ``dotted.path: {distribution...}`` entry → a `Param`, or the problems with it."""
    here: KeyPath = ("parameters", key)
    shapes = "{values: [...]}, {value: x} or {distribution: NAME, min: .., max: ..}"
    if not isinstance(key, str) or not all(part.strip() for part in key.split(".")):
        return None, [
            _problem(
                cfg,
                here,
                "a parameter must be a dotted config path",
                "e.g. optimizer.lr or model.layers.0.units",
                repr(key),
                key=True,
            )
        ]
    if key.split(".")[0] == "seed":
        return None, [
            _problem(
                cfg,
                here,
                "the seed is set per trial by the sweep; use "
                "'repeats: N' to run each point with N seeds",
                "a config path other than seed",
                repr(key),
                key=True,
            )
        ]
    if not isinstance(entry, dict):
        return None, [
            _problem(cfg, here, "a parameter needs a distribution", shapes, describe(entry))
        ]
    name = entry.get("distribution")
    if name is None:
        if "values" in entry:
            name = "categorical"
        elif "value" in entry:
            name = "constant"
        elif "min" in entry and "max" in entry:
            both_int = all(
                isinstance(entry[k], int) and not isinstance(entry[k], bool) for k in ("min", "max")
            )
            name = "int_uniform" if both_int else "uniform"
        else:
            return None, [
                _problem(
                    cfg,
                    here,
                    "a parameter needs a distribution",
                    shapes,
                    "keys " + ", ".join(map(str, entry)) if entry else "{}",
                )
            ]
    if not isinstance(name, str) or DISTRIBUTION_ALIASES.get(name, name) not in DISTRIBUTIONS:
        names = [*DISTRIBUTIONS, *DISTRIBUTION_ALIASES]
        hint = did_you_mean(name, names) if isinstance(name, str) else ""
        return None, [
            _problem(
                cfg,
                (*here, "distribution"),
                f"unknown distribution{hint}",
                "one of " + ", ".join(DISTRIBUTIONS),
                describe(name),
            )
        ]
    name = DISTRIBUTION_ALIASES.get(name, name)
    allowed = DISTRIBUTIONS[name]
    problems = [
        _problem(
            cfg,
            (*here, extra),
            f"{name} takes no key {extra!r}",
            "keys distribution, " + ", ".join(allowed),
            repr(extra),
            key=True,
        )
        for extra in entry
        if extra != "distribution" and extra not in allowed
    ]
    missing = [k for k in allowed if k not in entry and not (name == "q_uniform" and k == "q")]
    problems += [
        _problem(cfg, here, f"{name} needs {k!r}", f"a '{k}:' key", "nothing") for k in missing
    ]
    if problems:
        return None, problems
    if name == "categorical":
        values = entry["values"]
        if not isinstance(values, list) or not values:
            return None, [
                _problem(
                    cfg,
                    (*here, "values"),
                    "values must be a non-empty list",
                    "a list such as [0.1, 0.01]",
                    describe(values),
                )
            ]
        return Param(key, name, tuple(values)), []
    if name == "constant":
        return Param(key, name, (entry["value"],)), []
    args = {k: entry[k] for k in allowed if k in entry}
    if name == "q_uniform":
        args.setdefault("q", 1)
    problems = [
        _problem(cfg, (*here, k), f"{k} must be a finite number", "a number", describe(v))
        for k, v in args.items()
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not _finite(v)
    ]
    if problems:
        return None, problems
    if name == "int_uniform":
        problems += [
            _problem(cfg, (*here, k), f"{k} must be an integer", "an integer", describe(v))
            for k, v in args.items()
            if not isinstance(v, int)
        ]
    if "min" in args and args["min"] > args["max"]:
        problems.append(
            _problem(
                cfg,
                (*here, "max"),
                "max is below min",
                f"a number >= {args['min']!r}",
                repr(args["max"]),
            )
        )
    if name == "log_uniform" and args["min"] <= 0:
        problems.append(
            _problem(
                cfg,
                (*here, "min"),
                "log_uniform needs a positive min "
                "(min and max are the values themselves, not their logs)",
                "a number > 0",
                repr(args["min"]),
            )
        )
    for k in ("q", "sigma"):
        if k in args and args[k] <= 0:
            problems.append(
                _problem(cfg, (*here, k), f"{k} must be positive", "a number > 0", repr(args[k]))
            )
    if problems:
        return None, problems
    return Param(key, name, (), {k: float(v) for k, v in args.items()}), []


def _finite(value: float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer beyond float range
        return False


def _check_method(
    values: dict[str, Any], params: list[Param], cfg: ResolvedConfig
) -> list[Problem]:
    method, problems = values["method"], []
    if method == "grid":
        problems += [
            _problem(
                cfg,
                ("parameters", p.key, "distribution"),
                f"a grid cannot enumerate a "
                f"{p.distribution} parameter; list its values or use method: random",
                "values: [...] or value: x",
                p.distribution,
            )
            for p in params
            if p.distribution not in FINITE
        ]
        size = grid_size(params) if not problems else 0
        if values["run_cap"] is None and size > MAX_GRID_POINTS:
            problems.append(
                _problem(
                    cfg,
                    ("parameters",),
                    f"the grid has {size:,} points; set run_cap to run only the first ones",
                    f"at most {MAX_GRID_POINTS:,} points, or a run_cap",
                    f"{size:,} points",
                )
            )
    elif values["run_cap"] is None:
        problems.append(
            _problem(
                cfg,
                ("method",),
                f"method {method} needs run_cap (how many points to try)",
                "a 'run_cap: N' key",
                "no run_cap",
            )
        )
    if method == "bayes":
        problems += [
            _problem(
                cfg,
                ("parameters", p.key, "distribution"),
                "bayes (Optuna TPE) has no normal distribution",
                "uniform, log_uniform, int_uniform, q_uniform or values",
                "normal",
            )
            for p in params
            if p.distribution == "normal"
        ]
    if values["early_terminate"] is not None:
        if method != "bayes":
            problems.append(
                _problem(
                    cfg,
                    ("early_terminate",),
                    "early_terminate works with method: bayes",
                    "method: bayes",
                    f"method: {method}",
                )
            )
        elif values["metric"]["name"].partition("_")[0] not in ("train", "val"):
            problems.append(
                _problem(
                    cfg,
                    ("metric", "name"),
                    "pruning needs a metric logged every epoch",
                    "a train_ or val_ metric",
                    repr(values["metric"]["name"]),
                )
            )
        elif values["repeats"] > 1:
            problems.append(
                _problem(
                    cfg,
                    ("early_terminate",),
                    "pruning compares single runs; it cannot be combined with repeats",
                    "repeats: 1",
                    f"repeats: {values['repeats']}",
                )
            )
    return problems


def _goal(metric: dict[str, Any], cfg: ResolvedConfig) -> tuple[str, list[Problem]]:
    if metric["goal"] != "auto":
        return metric["goal"], []
    from nnrun import components  # noqa: F401  (fills the metric registry)
    from nnrun.metrics import metric_mode

    try:
        return ("minimize" if metric_mode(metric["name"]) == "min" else "maximize"), []
    except ArgumentError as error:
        return "minimize", [
            _problem(
                cfg,
                ("metric", "name"),
                f"{error}; set metric.goal",
                "maximize or minimize in metric.goal",
                "",
            )
        ]


def _problem(
    cfg: ResolvedConfig, path: KeyPath, message: str, expected: str, found: str, key: bool = False
) -> Problem:
    location = cfg.where_key(path) if key else cfg.where(path)
    return Problem(message, format_path(path), location, expected, found)


def _position(problem: Problem) -> tuple[int, int]:
    location = problem.location or Location("")
    return location.line, location.column
