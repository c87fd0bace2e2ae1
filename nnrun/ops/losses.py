"""Fused loss ops with hand-written backward: each computes a whole loss, reduction included,
in one graph node (losses run every training step, so per-op overhead matters).

Reductions follow torch: "none" keeps the per-element losses, "sum" adds them, "mean" divides
by their number, "batchmean" (kl_div) by the batch size. Sums accumulate in float64 and the
result is cast back to the prediction's dtype.
"""

from __future__ import annotations

import numpy as np

from nnrun.autograd.function import Function, Grads


class _Reduced(Function):
    """Shared reduction: `_reduce` in forward, `_upstream` gives each element's output grad."""

    def _reduce(self, losses: np.ndarray, reduction: str, dtype: np.dtype) -> np.ndarray:
        if reduction == "none":
            self.scale = None
            return losses.astype(dtype, copy=False)
        count = {"sum": 1, "mean": losses.size, "batchmean": losses.shape[0] if losses.ndim else 1}
        self.scale = 1.0 / max(count[reduction], 1)
        return np.asarray(losses.sum(dtype=np.float64) * self.scale, dtype=dtype)

    def _upstream(self, grad: np.ndarray) -> np.ndarray:
        """The output gradient per element: `grad` itself, or the scaled scalar."""
        return grad if self.scale is None else grad * self.scale


class Pointwise(_Reduced):
    """mse, l1, smooth_l1 (`beta`) or huber (`delta` as `beta`) of prediction − target.

    Both inputs must have the same shape; the target may require a gradient too.
    """

    def forward(
        self, prediction: np.ndarray, target: np.ndarray, kind: str, beta: float, reduction: str
    ) -> np.ndarray:
        diff = prediction - target
        if kind == "mse":
            losses = diff * diff
            self.slope = 2 * diff
        else:
            size = np.abs(diff)
            sign = np.sign(diff)
            if kind == "l1" or beta == 0:
                losses, self.slope = size, sign
            else:
                inside = size < beta
                if kind == "smooth_l1":
                    losses = np.where(inside, 0.5 * diff * diff / beta, size - 0.5 * beta)
                    self.slope = np.where(inside, diff / beta, sign)
                else:  # huber: smooth_l1 scaled by delta
                    losses = np.where(inside, 0.5 * diff * diff, beta * (size - 0.5 * beta))
                    self.slope = np.where(inside, diff, beta * sign)
        return self._reduce(losses, reduction, prediction.dtype)

    def backward(self, grad: np.ndarray) -> Grads:
        grad_prediction = self.slope * self._upstream(grad)
        need_prediction, need_target = self.needs_input_grad
        return (
            grad_prediction if need_prediction else None,
            -grad_prediction if need_target else None,
        )


def _softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) without overflow."""
    out: np.ndarray = np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)
    return out


class BinaryCrossEntropyWithLogits(_Reduced):
    """−w·[pw·y·log σ(x) + (1 − y)·log(1 − σ(x))] from logits x, in the stable form
    (1 − y)·x + (1 + (pw − 1)·y)·softplus(−x). `weight` and `pos_weight` broadcast against
    x (pos_weight along the last axis, one per class); both may be None."""

    def forward(
        self,
        logits: np.ndarray,
        target: np.ndarray,
        weight: np.ndarray | None,
        pos_weight: np.ndarray | None,
        reduction: str,
    ) -> np.ndarray:
        softplus_neg = _softplus(-logits)
        if pos_weight is None:
            losses = (1 - target) * logits + softplus_neg
            self.slope = 0.5 * (np.tanh(0.5 * logits) + 1) - target  # σ(x) − y
        else:
            log_weight = 1 + (pos_weight - 1) * target
            losses = (1 - target) * logits + log_weight * softplus_neg
            self.slope = (1 - target) - log_weight * (0.5 * (1 - np.tanh(0.5 * logits)))
        if weight is not None:
            losses = losses * weight
            self.slope = self.slope * weight
        return self._reduce(losses, reduction, logits.dtype)

    def backward(self, grad: np.ndarray) -> Grads:
        return self.slope * self._upstream(grad), None


# torch clamps each log term at -100 so that a probability of exactly 0 or 1 stays finite.
_LOG_FLOOR = -100.0
_BCE_GRAD_EPS = 1e-12


class BinaryCrossEntropy(_Reduced):
    """−w·[y·log p + (1 − y)·log(1 − p)] from probabilities p, logs clamped at −100 (torch)."""

    def forward(
        self, probs: np.ndarray, target: np.ndarray, weight: np.ndarray | None, reduction: str
    ) -> np.ndarray:
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(probs), _LOG_FLOOR)
            log_not_p = np.maximum(np.log1p(-probs), _LOG_FLOOR)
        losses = -(target * log_p + (1 - target) * log_not_p)
        # torch's derivative: (p − y) / max(p·(1 − p), 1e-12).
        self.slope = (probs - target) / np.maximum(probs * (1 - probs), _BCE_GRAD_EPS)
        if weight is not None:
            losses = losses * weight
            self.slope = self.slope * weight
        return self._reduce(losses, reduction, probs.dtype)

    def backward(self, grad: np.ndarray) -> Grads:
        return self.slope * self._upstream(grad), None


class NegativeLogLikelihood(Function):
    """−w[y]·x[y] from log-probabilities x (N, C, d1, ...) and class indices y (N, d1, ...).

    Targets equal to `ignore_index` count nothing; "mean" divides by the summed weight of the
    counted targets (a batch with every target ignored gives 0 where torch gives nan).
    """

    def forward(
        self,
        log_probs: np.ndarray,
        target: np.ndarray,
        weight: np.ndarray | None,
        ignore_index: int,
        reduction: str,
    ) -> np.ndarray:
        self.input_shape, self.reduction = log_probs.shape, reduction
        classes = log_probs.shape[1]
        flat = np.moveaxis(log_probs, 1, -1).reshape(-1, classes)
        index = target.reshape(-1)
        keep = index != ignore_index
        safe = np.where(keep, index, 0)
        coef = keep.astype(log_probs.dtype)
        if weight is not None:
            coef = coef * weight[safe]
        self.rows, self.safe, self.coef = np.arange(len(safe)), safe, coef
        losses = -flat[self.rows, safe] * coef
        if reduction == "none":
            out: np.ndarray = losses.reshape(target.shape).astype(log_probs.dtype, copy=False)
            return out
        self.denominator = 1.0
        if reduction == "mean":
            self.denominator = float(coef.sum(dtype=np.float64)) or 1.0
        return np.asarray(losses.sum(dtype=np.float64) / self.denominator, log_probs.dtype)

    def backward(self, grad: np.ndarray) -> Grads:
        upstream = grad.reshape(-1) if self.reduction == "none" else grad / self.denominator
        classes = self.input_shape[1]
        grad_flat = np.zeros((len(self.safe), classes), dtype=self.coef.dtype)
        grad_flat[self.rows, self.safe] = -self.coef * upstream
        moved = (self.input_shape[0], *self.input_shape[2:], classes)
        return (np.moveaxis(grad_flat.reshape(moved), -1, 1),)


class KLDivergence(_Reduced):
    """KL(target ‖ prediction) per element from log-probabilities x: y·(log y − x), with
    0·log 0 = 0; with `log_target` the target is log y as well: e^y·(y − x)."""

    def forward(
        self, log_probs: np.ndarray, target: np.ndarray, log_target: bool, reduction: str
    ) -> np.ndarray:
        if log_target:
            probs = np.exp(target)
            losses = probs * (target - log_probs)
        else:
            probs = target
            with np.errstate(divide="ignore", invalid="ignore"):
                entropy_term = np.where(target > 0, target * np.log(target), 0)
            losses = entropy_term - target * log_probs
        self.slope = -probs
        return self._reduce(losses, reduction, log_probs.dtype)

    def backward(self, grad: np.ndarray) -> Grads:
        return self.slope * self._upstream(grad), None
