"""Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from nnrun.constraints import NonNegative
from nnrun.errors import ArgumentError
from nnrun.optim.optimizer import Optimizer, gradients
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
        lr: NonNegative = 1e-3,
        momentum: NonNegative = 0.0,
        dampening: float = 0.0,
        weight_decay: NonNegative = 0.0,
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
        super()._validate_group(group)
        if group["nesterov"] and not (group["momentum"] > 0 and group["dampening"] == 0):
            raise ArgumentError(
                "SGD: nesterov must be used with momentum > 0 and dampening 0",
                key="nesterov",
                expected="momentum > 0 and dampening 0",
                found=f"momentum {group['momentum']}, dampening {group['dampening']}",
            )

    def step(self) -> None:
        for group in self.param_groups:
            lr = group["lr"]
            momentum = group["momentum"]
            dampening = group["dampening"]
            weight_decay = group["weight_decay"]
            nesterov = group["nesterov"]
            for param, data, grad in gradients(group):
                buffer, first = None, False
                if momentum:
                    state = self.state.setdefault(id(param), {})
                    buffer = state.get("momentum_buffer")
                    first = buffer is None
                    if first:
                        buffer = state["momentum_buffer"] = np.empty_like(data)
                for (value, change, velocity), (decayed, work) in self.blocks(
                    [data, grad, buffer], 2
                ):
                    if weight_decay:
                        np.multiply(value, weight_decay, out=decayed)
                        change = np.add(change, decayed, out=decayed)
                    if momentum:
                        if first:
                            np.copyto(velocity, change)
                        else:
                            velocity *= momentum
                            velocity += np.multiply(change, 1 - dampening, out=work)
                        if nesterov:
                            np.multiply(velocity, momentum, out=work)
                            change = np.add(change, work, out=work)
                        else:
                            change = velocity
                    value -= np.multiply(change, lr, out=work)
