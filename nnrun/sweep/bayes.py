"""Bayesian search with Optuna's TPE sampler through its ask/tell interface.

The study lives in the sweep's own process (in-memory storage, sampler seeded with the
sweep seed); the ledger is its record. On resume the finished points are told to a fresh
study again (`restore`), so nothing but the sweep directory is needed. Categorical values
are offered to Optuna as indices, so any YAML value (a list of layers, a mapping) can be a
choice. With several workers the points depend on the order trials finish.
"""

from __future__ import annotations

import math
from typing import Any

from nnrun.errors import NnrunError
from nnrun.sweep.space import Param, canonical_json, round_sig
from nnrun.sweep.spec import SweepSpec


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise NnrunError(
            "method: bayes needs Optuna: pip install 'nnrun[sweep]' (or 'optuna')"
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


class BayesSearch:
    """Proposes points, takes per-epoch reports (for pruning) and final values."""

    def __init__(self, spec: SweepSpec):
        optuna = _optuna()
        self.optuna = optuna
        self.params = [p for p in spec.params if p.distribution != "constant"]
        self.constants = {p.key: p.values[0] for p in spec.params if p.distribution == "constant"}
        self.order = [p.key for p in spec.params]
        self.distributions = {p.key: self._distribution(p) for p in self.params}
        early = spec.early_terminate
        pruner = (
            optuna.pruners.MedianPruner(
                n_startup_trials=early.min_trials, n_warmup_steps=early.min_epochs
            )
            if early
            else optuna.pruners.NopPruner()
        )
        self.pruning = early is not None
        self.study = optuna.create_study(
            direction="maximize" if spec.maximize else "minimize",
            sampler=optuna.samplers.TPESampler(seed=spec.seed),
            pruner=pruner,
        )
        self.live: dict[int, Any] = {}  # point -> optuna Trial

    def _distribution(self, param: Param) -> Any:
        dist, args = self.optuna.distributions, param.args
        kind = param.distribution
        if kind == "categorical":
            return dist.CategoricalDistribution(tuple(range(len(param.values))))
        if kind == "int_uniform":
            return dist.IntDistribution(int(args["min"]), int(args["max"]))
        if kind == "q_uniform" and all(float(args[k]).is_integer() for k in ("min", "max", "q")):
            return dist.IntDistribution(int(args["min"]), int(args["max"]), step=int(args["q"]))
        step = args["q"] if kind == "q_uniform" else None
        return dist.FloatDistribution(args["min"], args["max"], log=param.is_log, step=step)

    def _values(self, internal: dict[str, Any]) -> dict[str, Any]:
        """Optuna's parameters → config values, in the sweep file's order."""
        values = dict(self.constants)
        for param in self.params:
            raw = internal[param.key]
            if param.distribution == "categorical":
                values[param.key] = param.values[raw]
            elif isinstance(raw, float):
                dist = self.distributions[param.key]
                values[param.key] = min(max(round_sig(raw), dist.low), dist.high)
            else:
                values[param.key] = raw
        return {key: values[key] for key in self.order}

    def _internal(self, values: dict[str, Any]) -> dict[str, Any]:
        """Config values → Optuna's parameters (categorical values → their index)."""
        internal = {}
        for param in self.params:
            value = values[param.key]
            if param.distribution == "categorical":
                wanted = canonical_json(value)
                value = next(i for i, v in enumerate(param.values) if canonical_json(v) == wanted)
            internal[param.key] = value
        return internal

    def ask(self, point: int) -> dict[str, Any]:
        """A new point's parameter values (all of the sweep's parameters)."""
        trial = self.study.ask(self.distributions)
        self.live[point] = trial
        return self._values(trial.params)

    def enqueue(self, values: dict[str, Any]) -> None:
        """Make the next `ask` return `values` (an interrupted point run again)."""
        self.study.enqueue_trial(self._internal(values))

    def report(self, point: int, epoch: int, value: float) -> bool:
        """Record a running point's metric after `epoch`; True when it should be pruned."""
        trial = self.live.get(point)
        if trial is None or not self.pruning or not math.isfinite(value):
            return False
        trial.report(value, epoch)
        return bool(trial.should_prune())

    def tell(self, point: int, status: str, value: float | None) -> None:
        """Finish a point: its (mean) metric, or that it failed or was pruned."""
        trial = self.live.pop(point)
        state = self.optuna.trial.TrialState
        if status == "finished" and value is not None and math.isfinite(value):
            self.study.tell(trial, value)
        elif status == "pruned":
            self.study.tell(trial, state=state.PRUNED)
        else:
            self.study.tell(trial, state=state.FAIL)

    def restore(
        self, values: dict[str, Any], status: str, value: float | None, curve: list[float | None]
    ) -> None:
        """Tell the study about a point that ended in an earlier session of the sweep."""
        state = self.optuna.trial.TrialState
        intermediate = {epoch: v for epoch, v in enumerate(curve, start=1) if v is not None}
        finished = status == "finished" and value is not None and math.isfinite(value)
        trial_state = (
            state.COMPLETE if finished else (state.PRUNED if status == "pruned" else state.FAIL)
        )
        self.study.add_trial(
            self.optuna.trial.create_trial(
                state=trial_state,
                value=value if finished else None,
                params=self._internal(values),
                distributions=self.distributions,
                intermediate_values=intermediate,
            )
        )
