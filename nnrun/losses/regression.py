"""Regression losses on prediction − target: mse, l1, smooth_l1, huber (one fused op each)."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np

from nnrun.autograd.tensor import Tensor
from nnrun.constraints import Above, NonNegative
from nnrun.losses.base import (
    Loss,
    Reduction,
    check_same_shape,
    check_target_kind,
    prediction_tensor,
    raw_target,
    target_tensor,
)
from nnrun.ops import losses as ops
from nnrun.registry import LOSSES


class _Pointwise(Loss):
    """A loss of the elementwise difference; prediction and target need the same shape
    (no broadcasting). The target may be a Tensor that requires a gradient."""

    output = "values"
    kind: str

    def _threshold(self) -> float:
        return 0.0

    def check_targets(self, prediction_shape: tuple[int, ...], target: np.ndarray) -> None:
        check_target_kind(self.name, target, "fiub")
        check_same_shape(self.name, prediction_shape, target)

    def __call__(self, prediction: Any, target: Any) -> Tensor:
        prediction = prediction_tensor(prediction)
        if self.checks_targets:
            self.check_targets(prediction.shape, raw_target(target))
        target = target_tensor(target, prediction)
        return ops.Pointwise.apply(
            prediction,
            target,
            kind=self.kind,
            beta=self._threshold(),
            reduction=self.reduction,
        )


@LOSSES.register("mse", "mse_loss", "l2", "mean_squared_error")
class MSE(_Pointwise):
    """Squared error (x − y)², as torch.nn.functional.mse_loss."""

    name = "mse"
    kind = "mse"


@LOSSES.register("l1", "l1_loss", "mae", "mean_absolute_error")
class L1(_Pointwise):
    """Absolute error |x − y|, as torch.nn.functional.l1_loss."""

    name = "l1"
    kind = "l1"


@LOSSES.register("smooth_l1", "smooth_l1_loss")
class SmoothL1(_Pointwise):
    """0.5·d²/beta where |d| < beta, else |d| − 0.5·beta (d = x − y), as
    torch.nn.functional.smooth_l1_loss. beta = 0 is l1."""

    name = "smooth_l1"
    kind = "smooth_l1"

    def __init__(self, beta: NonNegative = 1.0, reduction: Reduction = "mean"):
        super().__init__(reduction)
        self.beta = beta

    def _threshold(self) -> float:
        return self.beta


@LOSSES.register("huber", "huber_loss")
class Huber(_Pointwise):
    """0.5·d² where |d| < delta, else delta·(|d| − 0.5·delta) (d = x − y), as
    torch.nn.functional.huber_loss: smooth_l1 times delta, quadratic near 0, linear outside."""

    name = "huber"
    kind = "huber"

    def __init__(self, delta: Annotated[float, Above(0)] = 1.0, reduction: Reduction = "mean"):
        super().__init__(reduction)
        self.delta = delta

    def _threshold(self) -> float:
        return self.delta
