"""RMSprop, optionally centered and with momentum."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from nnrun.constraints import NonNegative
from nnrun.optim.optimizer import Optimizer
from nnrun.registry import OPTIMIZERS


@OPTIMIZERS.register("rmsprop")
class RMSprop(Optimizer):
    """`torch.optim.RMSprop`: g ← ∇ + weight_decay·θ; v ← α·v + (1−α)·g²;
    centered: ḡ ← α·ḡ + (1−α)·g and v̄ = v − ḡ², else v̄ = v; d = g / (√v̄ + eps);
    with momentum μ: b ← μ·b + d (b starts at 0) and θ ← θ − lr·b, else θ ← θ − lr·d.

    Defaults as torch: lr 0.01, alpha 0.99, eps 1e-8, no weight decay, no momentum.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: NonNegative = 1e-2,
        alpha: NonNegative = 0.99,
        eps: NonNegative = 1e-8,
        weight_decay: NonNegative = 0.0,
        momentum: NonNegative = 0.0,
        centered: bool = False,
        maximize: bool = False,
        param_groups: list[dict] | None = None,
    ):
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        super().__init__(params, defaults, param_groups)

    def _state_arrays(
        self, state: dict[str, Any], data: np.ndarray, group: dict[str, Any]
    ) -> list[np.ndarray | None]:
        if "step" not in state:
            state.update(step=0, square_avg=np.zeros_like(data))
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = np.zeros_like(data)
        if group["momentum"] > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros_like(data)
        return [state["square_avg"], state.get("grad_avg"), state.get("momentum_buffer")]

    def _layout(self, group: dict[str, Any]) -> tuple:
        return (group["centered"], group["momentum"] > 0)

    def step(self) -> None:
        for group in self.param_groups:
            lr = group["lr"]
            alpha = group["alpha"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            momentum = group["momentum"]
            centered = group["centered"]
            for binding, blocks in self.bound(group, 2):
                binding.state["step"] += 1
                for change, (value, square_avg, grad_avg, buffer), (decayed, work) in blocks:
                    if weight_decay:
                        np.multiply(value, weight_decay, out=decayed)
                        change = np.add(change, decayed, out=decayed)
                    square_avg *= alpha
                    squared = np.multiply(change, 1 - alpha, out=work)
                    squared *= change
                    square_avg += squared
                    if centered:
                        grad_avg += np.multiply(
                            np.subtract(change, grad_avg, out=work), 1 - alpha, out=work
                        )
                        variance = np.subtract(
                            square_avg, np.multiply(grad_avg, grad_avg, out=work), out=work
                        )
                        avg = np.sqrt(variance, out=work)
                    else:
                        avg = np.sqrt(square_avg, out=work)
                    avg += eps
                    ratio = np.divide(change, avg, out=work)
                    if momentum > 0:
                        buffer *= momentum
                        buffer += ratio
                        value -= np.multiply(buffer, lr, out=work)
                    else:
                        value -= np.multiply(ratio, lr, out=work)
