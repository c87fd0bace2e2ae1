"""Search spaces: parameter distributions, grid expansion, seeded sampling and trial seeds.

A parameter is a dotted config path (``optimizer.lr``) with one distribution:

- ``values: [...]`` — categorical (any YAML value, e.g. a whole layer list)
- ``value: x`` — constant
- ``uniform`` / ``log_uniform`` (``min``, ``max``; log_uniform takes the values themselves,
  like W&B's ``log_uniform_values`` and Optuna's ``log=True``), ``int_uniform`` (inclusive),
  ``q_uniform`` (``min``, ``max``, ``q``: uniform rounded to a multiple of q),
  ``normal`` (``mu``, ``sigma``)

Sampled floats are rounded to 6 significant digits, so commands and tables stay readable;
the rounded value is the one applied, recorded and hashed into the trial seed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnrun.config.loader import parse_text
from nnrun.errors import ConfigError

# distribution name -> the keys it takes (besides `distribution`)
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "categorical": ("values",),
    "constant": ("value",),
    "uniform": ("min", "max"),
    "log_uniform": ("min", "max"),
    "int_uniform": ("min", "max"),
    "q_uniform": ("min", "max", "q"),
    "normal": ("mu", "sigma"),
}
DISTRIBUTION_ALIASES = {"log_uniform_values": "log_uniform", "int": "int_uniform"}
FINITE = ("categorical", "constant")  # the distributions a grid can enumerate


@dataclass(frozen=True)
class Param:
    """One swept config path and its distribution (`args` holds min/max/q/mu/sigma)."""

    key: str
    distribution: str
    values: tuple[Any, ...] = ()
    args: dict[str, float] = field(default_factory=dict)

    @property
    def is_log(self) -> bool:
        return self.distribution == "log_uniform"

    def grid(self) -> list[Any]:
        """Every value a grid visits (categorical and constant parameters only)."""
        if self.distribution not in FINITE:
            raise ValueError(f"{self.key}: a {self.distribution} parameter cannot be gridded")
        return list(self.values)

    def example(self) -> Any:
        """A representative value (the first choice, min or mu) for checking the key."""
        if self.values:
            return self.values[0]
        if self.distribution == "normal":
            return self.args["mu"]
        low = self.args["min"]
        return int(low) if self.distribution == "int_uniform" else low

    def sample(self, rng: np.random.Generator) -> Any:
        """One draw from the distribution."""
        kind, args = self.distribution, self.args
        if kind == "constant":
            return self.values[0]
        if kind == "categorical":
            return self.values[int(rng.integers(len(self.values)))]
        if kind == "int_uniform":
            return int(rng.integers(int(args["min"]), int(args["max"]) + 1))
        if kind == "uniform":
            return round_sig(rng.uniform(args["min"], args["max"]))
        if kind == "log_uniform":
            return round_sig(math.exp(rng.uniform(math.log(args["min"]), math.log(args["max"]))))
        if kind == "q_uniform":
            q = args["q"]
            value = round(rng.uniform(args["min"], args["max"]) / q) * q
            value = min(max(value, args["min"]), args["max"])
            if all(float(args[k]).is_integer() for k in ("min", "max", "q")):
                return round(value)
            return round_sig(value)
        if kind == "normal":
            return round_sig(rng.normal(args["mu"], args["sigma"]))
        raise ValueError(f"unknown distribution {kind!r}")


def round_sig(value: float, digits: int = 6) -> float:
    """`value` rounded to `digits` significant digits, as a plain float."""
    return float(f"{float(value):.{digits}g}")


def as_override(key: str, value: Any) -> str:
    """``key=value`` with the value as YAML that reads back to exactly `value` (what
    ``--set`` takes): bare words and numbers stay bare, other strings are quoted."""
    if isinstance(value, str):
        try:
            if parse_text(value, "--set").data == value and "\n" not in value:
                return f"{key}={value}"
        except ConfigError:
            pass
    return f"{key}={json.dumps(value, ensure_ascii=False)}"


def grid_points(params: list[Param], limit: int | None = None) -> list[dict[str, Any]]:
    """The first `limit` (default: all) points of the Cartesian product of every parameter's
    values, the first parameter varying slowest. Enumerated lazily: a huge grid with a small
    `limit` costs `limit` points, not the product."""
    keys = [p.key for p in params]
    combos = itertools.islice(itertools.product(*(p.grid() for p in params)), limit)
    return [dict(zip(keys, combo, strict=True)) for combo in combos]


def grid_size(params: list[Param]) -> int:
    """How many points the full grid has (without building it)."""
    return math.prod(len(p.grid()) for p in params)


def random_points(params: list[Param], count: int, seed: int) -> list[dict[str, Any]]:
    """`count` independent draws. Point i uses its own generator seeded by (seed, i), so the
    first points are the same whatever `count` (raising run_cap only adds points)."""
    points = []
    for index in range(count):
        rng = np.random.default_rng([seed, index])
        points.append({p.key: p.sample(rng) for p in params})
    return points


def canonical_json(value: Any) -> str:
    """Key-sorted compact JSON: the same parameters always give the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def trial_seed(params: dict[str, Any], repeat: int, sweep_seed: int) -> int:
    """The training seed of one trial: a hash of its parameters, repeat index and the sweep
    seed, in [0, 2**31). Re-running ``nnrun train ... --seed <it>`` gives the same run."""
    text = canonical_json({"params": params, "repeat": repeat, "sweep_seed": sweep_seed})
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) & 0x7FFFFFFF


@dataclass(frozen=True)
class Trial:
    """One training run of a sweep: a point of the space, one of its repeats."""

    point: int
    repeat: int
    params: dict[str, Any]
    seed: int

    @property
    def id(self) -> str:
        return trial_id(self.point, self.repeat)


def trial_id(point: int, repeat: int) -> str:
    """``0007-r1``: point 7, second repeat (sorts in sweep order)."""
    return f"{point:04d}-r{repeat}"


def make_trials(point: int, params: dict[str, Any], repeats: int, sweep_seed: int) -> list[Trial]:
    """The `repeats` trials of one point, each with its own derived seed."""
    return [Trial(point, r, params, trial_seed(params, r, sweep_seed)) for r in range(repeats)]
