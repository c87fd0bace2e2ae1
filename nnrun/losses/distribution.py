"""Losses between distributions: kl_div."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from nnrun.autograd.tensor import Tensor
from nnrun.losses.base import (
    Loss,
    check_same_shape,
    check_target_kind,
    prediction_tensor,
    raw_target,
    target_array,
)
from nnrun.ops import losses as ops
from nnrun.registry import LOSSES


@LOSSES.register("kl_div", "kl_divergence", "kld")
class KLDiv(Loss):
    """Kullback-Leibler divergence KL(target ‖ prediction), as torch.nn.functional.kl_div.

    The prediction is log-probabilities (a log_softmax output); the target is probabilities
    of the same shape, or log-probabilities with `log_target: true`. Per element
    y·(log y − x). As in torch, "mean" divides by the number of elements; "batchmean"
    divides the sum by the batch size N and is the true KL divergence per example.
    """

    name = "kl_div"
    output = "log_probabilities"

    def __init__(
        self,
        log_target: bool = False,
        reduction: Literal["mean", "batchmean", "sum", "none"] = "mean",
    ):
        super().__init__()
        self.reduction = reduction
        self.log_target = log_target

    def check_targets(self, prediction_shape: tuple[int, ...], target: np.ndarray) -> None:
        check_target_kind(self.name, target, "f")
        check_same_shape(self.name, prediction_shape, target)

    def __call__(self, prediction: Any, target: Any) -> Tensor:
        log_probs = prediction_tensor(prediction)
        target = raw_target(target)
        if self.checks_targets:
            self.check_targets(log_probs.shape, target)
        target = target_array(target, log_probs, "f")
        return ops.KLDivergence.apply(
            log_probs,
            Tensor._wrap(target, False),
            log_target=self.log_target,
            reduction=self.reduction,
        )
