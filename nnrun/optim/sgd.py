"""Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from nnrun.optim.optimizer import Optimizer, check_nonnegative, gradients, require
from nnrun.registry import OPTIMIZERS


@OPTIMIZERS.register("sgd")
class SGD(Optimizer):
    """`torch.optim.SGD`: g ← ∇ + weight_decay·θ; with momentum μ the buffer starts as g and
    then b ← μ·b + (1 − dampening)·g; the step uses g + μ·b (Nesterov) or b; θ ← θ − lr·step.

    Defaults as torch: lr 1e-3, no momentum, no dampening, no weight decay.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        maximize: bool = False,
        param_groups: list[dict] | None = None,
    ):
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults, param_groups)

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_nonnegative(group, "SGD", "lr", "momentum", "weight_decay")
        group["dampening"] = float(group["dampening"])
        if group["nesterov"]:
            require(
                group["momentum"] > 0 and group["dampening"] == 0,
                "SGD",
                "nesterov",
                "used with momentum > 0 and dampening 0",
                f"momentum {group['momentum']}, dampening {group['dampening']}",
            )

    def step(self) -> None:
        for group in self.param_groups:
            lr = group["lr"]
            momentum = group["momentum"]
            dampening = group["dampening"]
            weight_decay = group["weight_decay"]
            nesterov = group["nesterov"]
            for param, data, grad in gradients(group):
                decayed, work = self.workspace(param, data, 2)
                if weight_decay:
                    grad = np.add(grad, np.multiply(data, weight_decay, out=decayed), out=decayed)
                if momentum:
                    state = self.state.setdefault(id(param), {})
                    buffer = state.get("momentum_buffer")
                    if buffer is None:
                        buffer = state["momentum_buffer"] = np.array(grad, dtype=data.dtype)
                    else:
                        buffer *= momentum
                        buffer += np.multiply(grad, 1 - dampening, out=work)
                    if nesterov:
                        grad = np.add(grad, np.multiply(buffer, momentum, out=work), out=work)
                    else:
                        grad = buffer
                data -= np.multiply(grad, lr, out=work)
