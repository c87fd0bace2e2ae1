"""Fused ops with hand-written backward, where composition would cost time or stability."""

from __future__ import annotations

import numpy as np

from nnrun.autograd.function import Function
from nnrun.ops.kernels import outer, relu_


class Linear(Function):
    """y = x @ weight.T + bias, weight (out, in) as torch.nn.Linear; x (..., in).

    `relu=True` applies max(y, 0) in place: one array and one pass fewer than a separate
    ReLU op, on the hot path of every MLP. Inputs of more than two dimensions run as one
    2-D GEMM on x reshaped to (rows, in), forward and backward (a stacked matmul over the
    leading dimensions took twice as long).
    """

    def forward(
        self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, relu: bool = False
    ):
        rows = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        self.x_shape, self.rows, self.weight, self.relu = x.shape, rows, weight, relu
        out = rows @ weight.T
        if bias is not None:
            out += bias
        if relu:
            relu_(out)
            self.out = out
        return out.reshape(*x.shape[:-1], out.shape[-1]) if x.ndim != 2 else out

    def backward(self, grad: np.ndarray) -> tuple:
        needs = self.needs_input_grad
        if grad.ndim != 2:
            grad = grad.reshape(-1, grad.shape[-1])
        if self.relu:
            grad = grad * (self.out > 0)
        grad_x = None
        if needs[0]:
            grad_x = grad @ self.weight
            if len(self.x_shape) != 2:
                grad_x = grad_x.reshape(self.x_shape)
        grad_w = None
        if needs[1]:
            rows = self.rows
            # One row: the weight gradient is an outer product, which OpenBLAS's GEMM
            # runs ~5x slower as a K=1 product (same values: one term per entry).
            grad_w = outer(grad[0], rows[0]) if len(rows) == 1 else grad.T @ rows
        if len(needs) == 2:
            return grad_x, grad_w
        return grad_x, grad_w, grad.sum(axis=0) if needs[2] else None


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class LogSoftmax(Function):
    def forward(self, x: np.ndarray, axis: int) -> np.ndarray:
        self.axis = axis
        self.out = _log_softmax(x, axis)
        return self.out

    def backward(self, grad: np.ndarray) -> tuple:
        return (grad - np.exp(self.out) * grad.sum(axis=self.axis, keepdims=True),)


class Softmax(Function):
    def forward(self, x: np.ndarray, axis: int) -> np.ndarray:
        self.axis = axis
        shifted = np.exp(x - x.max(axis=axis, keepdims=True))
        self.out = shifted / shifted.sum(axis=axis, keepdims=True)
        return self.out

    def backward(self, grad: np.ndarray) -> tuple:
        out = self.out
        return (out * (grad - (grad * out).sum(axis=self.axis, keepdims=True)),)


class CrossEntropy(Function):
    """Softmax cross-entropy on logits with torch.nn.functional.cross_entropy semantics.

    logits (N, C) or (N, C, d1, ...); target class indices (N, d1, ...) or probabilities of
    the logits' shape. `weight` (C,) rescales classes, `ignore_index` masks index targets,
    `label_smoothing` mixes the target with the uniform distribution. Mean reduction divides
    by the summed weight of the counted targets (index targets) or by N·d1·... (probabilities);
    a batch whose targets are all ignored gives 0 with zero gradient (torch gives nan).
    The backward is softmax·Σa − a, with `a` the per-class coefficients of each sample.
    """

    def forward(
        self,
        logits: np.ndarray,
        target: np.ndarray,
        weight: np.ndarray | None,
        ignore_index: int,
        label_smoothing: float,
        reduction: str,
    ) -> np.ndarray:
        self.channel_last = logits.ndim > 2
        z = np.moveaxis(logits, 1, -1) if self.channel_last else logits
        classes = z.shape[-1]
        z = z.reshape(-1, classes)
        shifted = z - z.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        log_total = np.log(total)
        exp /= total  # the softmax, kept for the backward
        self.probs, self.reduction, self.input_shape = exp, reduction, logits.shape
        dtype = logits.dtype
        if target.dtype.kind == "f":  # probabilities
            if self.channel_last:
                target = np.moveaxis(target, 1, -1)
            coef = target.reshape(-1, classes).astype(dtype, copy=False)
            if label_smoothing:
                coef = coef * (1 - label_smoothing) + label_smoothing / classes
            if weight is not None:
                coef = coef * weight
            self.fast_index = None
            denominator = coef.shape[0]
        else:
            index = target.reshape(-1)
            keep = index != ignore_index
            all_kept = bool(keep.all())
            safe = index if all_kept else np.where(keep, index, 0)
            if label_smoothing == 0 and weight is None:
                # The common case: -log p[y] = log Σexp − shifted[y], no (N, C) log-probs.
                self.fast_index = (safe, None if all_kept else keep)
                losses = log_total[:, 0] - shifted[np.arange(len(safe)), safe]
                if not all_kept:
                    losses *= keep
                count = len(safe) if all_kept else max(int(keep.sum()), 1)
                self.denominator = count if reduction == "mean" else 1
                return self._reduce(losses, target.shape, dtype)
            coef = np.zeros_like(shifted)
            coef[np.arange(len(safe)), safe] = 1 - label_smoothing
            coef += label_smoothing / classes
            if weight is not None:
                coef *= weight
            coef *= keep[:, None]
            self.fast_index = None
            counted = float((weight[safe] * keep).sum() if weight is not None else keep.sum())
            # A batch whose targets are all ignored gives loss 0 (torch: nan), as the fast path.
            denominator = counted or 1.0
        self.coef = coef
        self.denominator = denominator if reduction == "mean" else 1
        losses = -(coef * (shifted - log_total)).sum(axis=1)
        return self._reduce(losses, self.input_shape[:1] + self.input_shape[2:], dtype)

    def _reduce(self, losses: np.ndarray, shape: tuple, dtype: np.dtype) -> np.ndarray:
        self.loss_shape = shape
        if self.reduction == "none":
            return losses.reshape(shape).astype(dtype, copy=False)
        total = losses.sum(dtype=np.float64) / self.denominator
        return np.asarray(total, dtype=dtype)

    def backward(self, grad: np.ndarray) -> tuple:
        probs = self.probs
        if self.fast_index is not None:
            safe, keep = self.fast_index
            probs = probs.copy()  # the saved softmax must survive a retain_graph backward
            probs[np.arange(len(safe)), safe] -= 1
            grad_z = probs if keep is None else probs * keep[:, None]
        else:
            grad_z = probs * self.coef.sum(axis=1, keepdims=True) - self.coef
        if self.reduction == "none":
            grad_z *= grad.reshape(-1, 1)
        else:
            grad_z *= grad / self.denominator
        classes = grad_z.shape[-1]
        if self.channel_last:
            moved = (self.input_shape[0], *self.input_shape[2:], classes)
            grad_z = np.moveaxis(grad_z.reshape(moved), -1, 1)
        else:
            grad_z = grad_z.reshape(self.input_shape)
        return grad_z, None
