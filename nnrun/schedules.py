"""Learning-rate schedules, registered in `nnrun.registry.SCHEDULES`.

Every schedule takes the injected `optimizer`, `epochs` (of the run) and `steps_per_epoch`
(batches per epoch), then its own options. It sets the lr for the first step when built,
as torch does, and the trainer calls `step()` every `interval` ("step": after each batch;
"epoch": after each epoch). `reduce_on_plateau` is stepped with the monitored metric:
`step(value)` (`monitor` names the metric).

    schedule:
      name: cosine
      warmup_epochs: 1      # linear warmup from warmup_start_factor·lr, then cosine to min_lr
      min_lr: 1.0e-5
"""

from __future__ import annotations

import bisect
import math
from abc import ABC, abstractmethod
from typing import Annotated, Any, ClassVar, Literal

from nnrun.constraints import (
    Above,
    Fraction,
    Min,
    MinItems,
    NonNegative,
    Positive,
    Probability,
    Range,
)
from nnrun.errors import ArgumentError, CheckpointError
from nnrun.optim.optimizer import Optimizer
from nnrun.registry import SCHEDULES

Rate = Annotated[float, Above(0)]
"""A decay factor: a number > 0."""


class Schedule(ABC):
    """Base of every schedule: the optimizer, the run's length and the last lrs set.

    `interval` says when the trainer calls `step()` ("step": after each batch, "epoch": after
    each epoch); `ReduceOnPlateauSchedule` is stepped as `step(metric_value)`.
    """

    interval: ClassVar[Literal["step", "epoch"]] = "epoch"

    def __init__(self, optimizer: Optimizer, epochs: int, steps_per_epoch: int):
        owner = type(self).__name__
        for key, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
            _require(isinstance(value, int) and value >= 1, owner, key, "an integer >= 1", value)
        self.optimizer = optimizer
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.base_lrs = [float(group["lr"]) for group in optimizer.param_groups]
        self.last_step = 0
        self._last_lr = list(self.base_lrs)

    @property
    def total_steps(self) -> int:
        """Number of `step()` calls in the whole run at this schedule's interval."""
        return self.epochs * (self.steps_per_epoch if self.interval == "step" else 1)

    def get_last_lr(self) -> list[float]:
        """The lr of each parameter group as last set by this schedule."""
        return list(self._last_lr)

    @abstractmethod
    def step(self) -> None:
        """Advance one interval and write the new lr into every parameter group."""

    @abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Plain Python values that `load_state_dict` resumes from."""

    @abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume from `state_dict()` and set the groups' lr as it was when saved."""


class ClosedFormSchedule(Schedule):
    """A schedule whose lr is a function of `last_step` (the number of `step()` calls so
    far) and the group's base lr: subclasses implement `lr_at(t, base_lr)` and call
    `_apply()` at the end of `__init__` to set the first step's lr."""

    @abstractmethod
    def lr_at(self, t: int, base_lr: float) -> float:
        """The lr after `t` calls to `step()`, for a group that started at `base_lr`."""

    def step(self) -> None:
        self.last_step += 1
        self._apply()

    def _apply(self) -> None:
        self._last_lr = [self.lr_at(self.last_step, base) for base in self.base_lrs]
        for group, lr in zip(self.optimizer.param_groups, self._last_lr, strict=True):
            group["lr"] = lr

    def state_dict(self) -> dict[str, Any]:
        return {"last_step": self.last_step, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        base_lrs = state.get("base_lrs", [])
        if len(base_lrs) != len(self.optimizer.param_groups) or "last_step" not in state:
            raise CheckpointError(
                f"{type(self).__name__} state does not fit: it has {len(base_lrs)} base lr(s) "
                f"for {len(self.optimizer.param_groups)} parameter group(s)"
            )
        self.last_step = int(state["last_step"])
        self.base_lrs = [float(lr) for lr in base_lrs]
        self._apply()


@SCHEDULES.register("step", "step_lr")
class StepSchedule(ClosedFormSchedule):
    """`torch.optim.lr_scheduler.StepLR`: lr = base·gamma^⌊epoch / step_size⌋."""

    interval = "epoch"

    def __init__(
        self,
        optimizer: Optimizer,
        epochs: int,
        steps_per_epoch: int,
        step_size: Positive,
        gamma: Rate = 0.1,
    ):
        super().__init__(optimizer, epochs, steps_per_epoch)
        self.step_size = step_size
        self.gamma = float(gamma)
        self._apply()

    def lr_at(self, t: int, base_lr: float) -> float:
        return base_lr * self.gamma ** (t // self.step_size)


@SCHEDULES.register("multistep", "multi_step")
class MultiStepSchedule(ClosedFormSchedule):
    """`torch.optim.lr_scheduler.MultiStepLR`: lr = base·gamma^(milestones passed)."""

    interval = "epoch"

    def __init__(
        self,
        optimizer: Optimizer,
        epochs: int,
        steps_per_epoch: int,
        milestones: Annotated[list[Positive], MinItems(1)],
        gamma: Rate = 0.1,
    ):
        super().__init__(optimizer, epochs, steps_per_epoch)
        self.milestones = sorted(milestones)
        self.gamma = float(gamma)
        self._apply()

    def lr_at(self, t: int, base_lr: float) -> float:
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, t)


@SCHEDULES.register("exponential")
class ExponentialSchedule(ClosedFormSchedule):
    """`torch.optim.lr_scheduler.ExponentialLR`: lr = base·gamma^epoch."""

    interval = "epoch"

    def __init__(self, optimizer: Optimizer, epochs: int, steps_per_epoch: int, gamma: Rate):
        super().__init__(optimizer, epochs, steps_per_epoch)
        self.gamma = float(gamma)
        self._apply()

    def lr_at(self, t: int, base_lr: float) -> float:
        return base_lr * self.gamma**t


class WarmupSchedule(ClosedFormSchedule):
    """Per-batch schedule with an optional linear warmup: over `warmup` steps the lr rises
    from base·warmup_start_factor to base, then `after_warmup(t, base)` takes over (t counts
    from the end of the warmup). Give `warmup_steps` or `warmup_epochs`, not both."""

    interval = "step"

    def __init__(
        self,
        optimizer: Optimizer,
        epochs: int,
        steps_per_epoch: int,
        warmup_steps: int,
        warmup_epochs: float,
        warmup_start_factor: float,
    ):
        super().__init__(optimizer, epochs, steps_per_epoch)
        owner = f"{type(self).__name__}"
        if warmup_steps and warmup_epochs:
            raise ArgumentError(
                f"{owner}: give warmup_steps or warmup_epochs, not both",
                key="warmup_epochs",
                expected="only one of warmup_steps, warmup_epochs",
                found=f"warmup_steps {warmup_steps}, warmup_epochs {warmup_epochs}",
            )
        self.warmup = warmup_steps or round(warmup_epochs * steps_per_epoch)
        key = "warmup_steps" if warmup_steps else "warmup_epochs"
        _require(
            self.warmup <= self.total_steps,
            owner,
            key,
            f"at most the run's {self.total_steps} steps",
            warmup_steps or warmup_epochs,
        )
        self.warmup_start_factor = float(warmup_start_factor)

    def lr_at(self, t: int, base_lr: float) -> float:
        if t < self.warmup:
            start = self.warmup_start_factor
            return base_lr * (start + (1 - start) * t / self.warmup)
        return self.after_warmup(t - self.warmup, base_lr)

    @abstractmethod
    def after_warmup(self, t: int, base_lr: float) -> float:
        """The lr `t` steps after the warmup ended."""

    def _decay_progress(self, t: int) -> float:
        """Fraction of the post-warmup part of the run done after `t` of its steps, in [0, 1]."""
        decay_steps = self.total_steps - self.warmup
        return min(t / decay_steps, 1.0) if decay_steps else 1.0


@SCHEDULES.register("constant")
class ConstantSchedule(WarmupSchedule):
    """The optimizer's lr throughout, after an optional linear warmup (none by default)."""

    def __init__(
        self,
        optimizer: Optimizer,
        epochs: int,
        steps_per_epoch: int,
        warmup_steps: Annotated[int, Min(0)] = 0,
        warmup_epochs: NonNegative = 0,
        warmup_start_factor: Fraction = 0.0,
    ):
        super().__init__(
            optimizer, epochs, steps_per_epoch, warmup_steps, warmup_epochs, warmup_start_factor
        )
        self._apply()

    def after_warmup(self, t: int, base_lr: float) -> float:
        return base_lr


@SCHEDULES.register("cosine", arg_aliases={"eta_min": "min_lr"})
class CosineSchedule(WarmupSchedule):
    """Optional linear warmup, then half a cosine from the lr down to `min_lr` (alias
    `eta_min`), reached after the run's last batch. Without warmup it is
    `CosineAnnealingLR(T_max=epochs·steps_per_epoch)` stepped per batch."""

    def __init__(
        self,
        optimizer: Optimizer,
        epochs: int,
        steps_per_epoch: int,
        min_lr: NonNegative = 0.0,
        warmup_steps: Annotated[int, Min(0)] = 0,
        warmup_epochs: NonNegative = 0,
        warmup_start_factor: Fraction = 0.0,
    ):
        super().__init__(
            optimizer, epochs, steps_per_epoch, warmup_steps, warmup_epochs, warmup_start_factor
        )
        self.min_lr = float(min_lr)
        self._apply()

    def after_warmup(self, t: int, base_lr: float) -> float:
        progress = self._decay_progress(t)
        return self.min_lr + (base_lr - self.min_lr) * (1 + math.cos(math.pi * progress)) / 2


@SCHEDULES.register("linear")
class LinearSchedule(WarmupSchedule):
    """Optional linear warmup, then a straight line from the lr to lr·`end_factor`
    (default 0), reached after the run's last batch."""

    def __init__(
        self,
        optimizer: Optimizer,
        epochs: int,
        steps_per_epoch: int,
        end_factor: NonNegative = 0.0,
        warmup_steps: Annotated[int, Min(0)] = 0,
        warmup_epochs: NonNegative = 0,
        warmup_start_factor: Fraction = 0.0,
    ):
        super().__init__(
            optimizer, epochs, steps_per_epoch, warmup_steps, warmup_epochs, warmup_start_factor
        )
        self.end_factor = float(end_factor)
        self._apply()

    def after_warmup(self, t: int, base_lr: float) -> float:
        return base_lr * (1 + (self.end_factor - 1) * self._decay_progress(t))


@SCHEDULES.register("one_cycle", "onecycle")
class OneCycleSchedule(ClosedFormSchedule):
    """`torch.optim.lr_scheduler.OneCycleLR` over epochs·steps_per_epoch batches.

    The lr rises from max_lr/div_factor to `max_lr` over the first `pct_start` of the run and
    anneals (`anneal_strategy` "cos" or "linear") to max_lr/(div_factor·final_div_factor);
    `three_phase` comes back to the start lr before the final anneal. With `cycle_momentum`,
    momentum (or Adam's beta1) moves inversely between `max_momentum` and `base_momentum`.
    `max_lr` defaults to each group's lr; a list gives one per group. Past the end of the
    run the final values are held.
    """

    interval = "step"

    def __init__(
        self,
        optimizer: Optimizer,
        epochs: int,
        steps_per_epoch: int,
        max_lr: float | list[float] | None = None,
        pct_start: Probability = 0.3,
        anneal_strategy: Literal["cos", "linear"] = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: Rate = 25.0,
        final_div_factor: Rate = 1e4,
        three_phase: bool = False,
    ):
        super().__init__(optimizer, epochs, steps_per_epoch)
        owner = "one_cycle schedule"
        groups = optimizer.param_groups
        if max_lr is not None:
            self.base_lrs = _per_group(max_lr, len(groups), owner, "max_lr")
        for lr in self.base_lrs:
            _require(lr > 0, owner, "max_lr", "> 0", lr)
        if three_phase:
            _require(pct_start <= 0.5, owner, "pct_start", "<= 0.5 with three_phase", pct_start)
        self.div_factor = float(div_factor)
        self.final_div_factor = float(final_div_factor)
        self.anneal = _anneal_cos if anneal_strategy == "cos" else _anneal_linear
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            defaults = optimizer.defaults
            _require(
                "momentum" in defaults or "betas" in defaults,
                owner,
                "cycle_momentum",
                "false for an optimizer without momentum or betas",
                cycle_momentum,
            )
            self.use_beta1 = "betas" in defaults
            self.max_momenta = _per_group(max_momentum, len(groups), owner, "max_momentum")
            self.base_momenta = _per_group(base_momentum, len(groups), owner, "base_momentum")
        # phases as torch: (last step of the phase, start lr, end lr, start/end momentum), with
        # lr names "initial" = max/div, "max", "min" = initial/final_div
        total = self.total_steps
        if three_phase:
            self.phases = [
                (pct_start * total - 1, "initial", "max", "max", "base"),
                (2 * pct_start * total - 2, "max", "initial", "base", "max"),
                (total - 1, "initial", "min", "max", "max"),
            ]
        else:
            self.phases = [
                (pct_start * total - 1, "initial", "max", "max", "base"),
                (total - 1, "max", "min", "base", "max"),
            ]
        self._apply()

    def _phase(self, t: int) -> tuple[float, str, str, str, str]:
        """The phase holding step `t` and the fraction of it done."""
        start_step = 0.0
        for i, phase in enumerate(self.phases):
            end_step = phase[0]
            if t <= end_step or i == len(self.phases) - 1:
                return ((t - start_step) / (end_step - start_step), *phase[1:])
            start_step = end_step
        raise AssertionError("unreachable: the last phase takes every step")

    def lr_at(self, t: int, base_lr: float) -> float:
        pct, start, end, _, _ = self._phase(min(t, self.total_steps - 1))
        initial = base_lr / self.div_factor
        lrs = {"initial": initial, "max": base_lr, "min": initial / self.final_div_factor}
        return self.anneal(lrs[start], lrs[end], pct)

    def _apply(self) -> None:
        super()._apply()
        if not self.cycle_momentum:
            return
        pct, _, _, start, end = self._phase(min(self.last_step, self.total_steps - 1))
        for group, high, low in zip(
            self.optimizer.param_groups, self.max_momenta, self.base_momenta, strict=True
        ):
            momenta = {"max": high, "base": low}
            momentum = self.anneal(momenta[start], momenta[end], pct)
            if self.use_beta1:
                group["betas"] = (momentum, *group["betas"][1:])
            else:
                group["momentum"] = momentum


def _anneal_cos(start: float, end: float, pct: float) -> float:
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _anneal_linear(start: float, end: float, pct: float) -> float:
    return (end - start) * pct + start


def _per_group(value: float | list[float], groups: int, owner: str, key: str) -> list[float]:
    """A scalar option repeated per parameter group, or a list with one value per group."""
    if isinstance(value, (list, tuple)):
        _require(len(value) == groups, owner, key, f"one value per group ({groups})", value)
        return [float(v) for v in value]
    return [float(value)] * groups


@SCHEDULES.register("reduce_on_plateau", "plateau")
class ReduceOnPlateauSchedule(Schedule):
    """`torch.optim.lr_scheduler.ReduceLROnPlateau`: multiply the lr by `factor` when the
    metric `monitor` has not improved (by `threshold`, relative or absolute) for more than
    `patience` epochs, then wait `cooldown` epochs; never below `min_lr`. Stepped once per
    epoch as `step(metric_value)`."""

    interval = "epoch"

    def __init__(
        self,
        optimizer: Optimizer,
        epochs: int,
        steps_per_epoch: int,
        monitor: str = "val_loss",
        mode: Literal["min", "max"] = "min",
        factor: Annotated[float, Range(0, 1, open_low=True, open_high=True)] = 0.1,
        patience: Annotated[int, Min(0)] = 10,
        threshold: NonNegative = 1e-4,
        threshold_mode: Literal["rel", "abs"] = "rel",
        cooldown: Annotated[int, Min(0)] = 0,
        min_lr: NonNegative | list[NonNegative] = 0.0,
        eps: NonNegative = 1e-8,
    ):
        super().__init__(optimizer, epochs, steps_per_epoch)
        owner = "reduce_on_plateau schedule"
        self.monitor = monitor
        self.mode = mode
        self.factor = float(factor)
        self.patience = patience
        self.threshold = float(threshold)
        self.threshold_mode = threshold_mode
        self.cooldown = cooldown
        self.min_lrs = _per_group(min_lr, len(optimizer.param_groups), owner, "min_lr")
        self.eps = float(eps)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def _is_better(self, value: float) -> bool:
        if self.threshold_mode == "rel":
            scale = 1 - self.threshold if self.mode == "min" else 1 + self.threshold
            bound = self.best * scale
        else:
            bound = self.best - self.threshold if self.mode == "min" else self.best + self.threshold
        return value < bound if self.mode == "min" else value > bound

    def step(self, metric: float) -> None:  # type: ignore[override]
        """Record one epoch's metric value and reduce the lr if it has plateaued."""
        value = float(metric)
        self.last_step += 1
        if self._is_better(value):
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
                old_lr = float(group["lr"])
                new_lr = max(old_lr * self.factor, min_lr)
                if old_lr - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [float(group["lr"]) for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Plain values: counters, best metric so far and the current lrs."""
        return {
            "last_step": self.last_step,
            "base_lrs": list(self.base_lrs),
            # None for "nothing seen yet" (±inf), which strict JSON cannot hold
            "best": self.best if math.isfinite(self.best) else None,
            "num_bad_epochs": self.num_bad_epochs,
            "cooldown_counter": self.cooldown_counter,
            "last_lr": list(self._last_lr),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume from `state_dict()`, restoring the groups' lr as it was when saved."""
        last_lr = state.get("last_lr", [])
        if len(last_lr) != len(self.optimizer.param_groups):
            raise CheckpointError(
                f"reduce_on_plateau state has {len(last_lr)} lr(s) for "
                f"{len(self.optimizer.param_groups)} parameter group(s)"
            )
        self.last_step = int(state["last_step"])
        self.base_lrs = [float(lr) for lr in state["base_lrs"]]
        best = state["best"]
        self.best = (
            float(best) if best is not None else math.inf if self.mode == "min" else -math.inf
        )
        self.num_bad_epochs = int(state["num_bad_epochs"])
        self.cooldown_counter = int(state["cooldown_counter"])
        self._last_lr = [float(lr) for lr in last_lr]
        for group, lr in zip(self.optimizer.param_groups, self._last_lr, strict=True):
            group["lr"] = lr


def _require(ok: bool, owner: str, key: str, expected: str, value: Any) -> None:
    """A check across arguments or of the run's size, beyond what one argument declares."""
    if not ok:
        raise ArgumentError(
            f"{owner}: {key} must be {expected}, got {value!r}",
            key=key,
            expected=expected,
            found=repr(value),
        )
