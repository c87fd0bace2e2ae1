"""Adam (L2 weight decay) and AdamW (decoupled weight decay), with optional AMSGrad."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Annotated, Any

import numpy as np

from nnrun.constraints import NonNegative, Range
from nnrun.optim.optimizer import Optimizer
from nnrun.registry import OPTIMIZERS

Beta = Annotated[float, Range(0, 1, open_high=True)]
"""A moment's decay rate: [0, 1)."""


@OPTIMIZERS.register("adam")
class Adam(Optimizer):
    """`torch.optim.Adam`: g ← ∇ + weight_decay·θ; m ← β1·m + (1−β1)·g;
    v ← β2·v + (1−β2)·g²; θ ← θ − lr/(1−β1ᵗ) · m / (√v̂/√(1−β2ᵗ) + eps), where v̂ is v or,
    with `amsgrad`, the running maximum of v.

    Defaults as torch: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0.
    """

    decoupled_weight_decay = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: NonNegative = 1e-3,
        betas: tuple[Beta, Beta] = (0.9, 0.999),
        eps: NonNegative = 1e-8,
        weight_decay: NonNegative = 0.0,
        amsgrad: bool = False,
        maximize: bool = False,
        param_groups: list[dict] | None = None,
    ):
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
        }
        super().__init__(params, defaults, param_groups)

    def _state_arrays(
        self, state: dict[str, Any], data: np.ndarray, group: dict[str, Any]
    ) -> list[np.ndarray | None]:
        if "step" not in state:
            state.update(step=0, exp_avg=np.zeros_like(data), exp_avg_sq=np.zeros_like(data))
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros_like(data)
        return [state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq")]

    def _layout(self, group: dict[str, Any]) -> tuple:
        return (group["amsgrad"],)

    def step(self) -> None:
        for group in self.param_groups:
            lr = group["lr"]
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            amsgrad = group["amsgrad"]
            decoupled = self.decoupled_weight_decay
            for binding, blocks in self.bound(group, 2):
                state = binding.state
                state["step"] = step = state["step"] + 1
                step_size = lr / (1 - beta1**step)
                correction = math.sqrt(1 - beta2**step)
                for change, (value, exp_avg, exp_avg_sq, max_exp_avg_sq), (work, update) in blocks:
                    if weight_decay:
                        if decoupled:
                            value *= 1 - lr * weight_decay
                        else:
                            np.multiply(value, weight_decay, out=work)
                            change = np.add(change, work, out=work)
                    # m + (1-β1)(g - m): the same interpolation torch's lerp_ computes
                    exp_avg += np.multiply(
                        np.subtract(change, exp_avg, out=update), 1 - beta1, out=update
                    )
                    exp_avg_sq *= beta2
                    squared = np.multiply(change, 1 - beta2, out=update)
                    squared *= change
                    exp_avg_sq += squared
                    second_moment = exp_avg_sq
                    if amsgrad:
                        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                        second_moment = max_exp_avg_sq
                    denom = np.sqrt(second_moment, out=work)
                    denom /= correction
                    denom += eps
                    np.divide(exp_avg, denom, out=update)
                    value -= np.multiply(update, step_size, out=update)


@OPTIMIZERS.register("adamw")
class AdamW(Adam):
    """`torch.optim.AdamW`: Adam whose weight decay shrinks θ ← θ·(1 − lr·weight_decay)
    before the update instead of adding to the gradient. Default weight_decay 0.01."""

    decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: NonNegative = 1e-3,
        betas: tuple[Beta, Beta] = (0.9, 0.999),
        eps: NonNegative = 1e-8,
        weight_decay: NonNegative = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
        param_groups: list[dict] | None = None,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize, param_groups)
