"""Adagrad with learning-rate decay and an initial accumulator value."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from nnrun.constraints import NonNegative
from nnrun.optim.optimizer import Optimizer
from nnrun.registry import OPTIMIZERS


@OPTIMIZERS.register("adagrad")
class Adagrad(Optimizer):
    """`torch.optim.Adagrad`: g ← ∇ + weight_decay·θ; s ← s + g² (s starts at
    `initial_accumulator_value`); θ ← θ − lr/(1 + (t−1)·lr_decay) · g / (√s + eps).

    Defaults as torch: lr 0.01, lr_decay 0, weight_decay 0, initial_accumulator_value 0,
    eps 1e-10.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: NonNegative = 1e-2,
        lr_decay: NonNegative = 0.0,
        weight_decay: NonNegative = 0.0,
        initial_accumulator_value: NonNegative = 0.0,
        eps: NonNegative = 1e-10,
        maximize: bool = False,
        param_groups: list[dict] | None = None,
    ):
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
            "maximize": maximize,
        }
        super().__init__(params, defaults, param_groups)

    def _state_arrays(
        self, state: dict[str, Any], data: np.ndarray, group: dict[str, Any]
    ) -> list[np.ndarray | None]:
        if "step" not in state:
            state.update(step=0, sum=np.full_like(data, group["initial_accumulator_value"]))
        return [state["sum"]]

    def step(self) -> None:
        for group in self.param_groups:
            lr = group["lr"]
            lr_decay = group["lr_decay"]
            weight_decay = group["weight_decay"]
            eps = group["eps"]
            for binding, blocks in self.bound(group, 2):
                state = binding.state
                state["step"] = step = state["step"] + 1
                clr = lr / (1 + (step - 1) * lr_decay)
                for change, (value, accumulator), (decayed, work) in blocks:
                    if weight_decay:
                        np.multiply(value, weight_decay, out=decayed)
                        change = np.add(change, decayed, out=decayed)
                    accumulator += np.multiply(change, change, out=work)
                    std = np.sqrt(accumulator, out=work)
                    std += eps
                    value -= np.multiply(np.divide(change, std, out=work), clr, out=work)
