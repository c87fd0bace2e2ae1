"""Fused ops with hand-written backward, where composition would cost time or stability."""

from __future__ import annotations

import functools
import math

import numpy as np

from nnrun.autograd.function import Function, Grads
from nnrun.ops.kernels import column_sums, outer, relu_, row_sums


class Linear(Function):
    """y = x @ weight.T + bias, weight (out, in) as torch.nn.Linear; x (..., in).

    `relu=True` applies max(y, 0) in place: one array and one pass fewer than a separate
    ReLU op, on the hot path of every MLP. Inputs of more than two dimensions run as one
    2-D GEMM on x reshaped to (rows, in), forward and backward (a stacked matmul over the
    leading dimensions took twice as long). The products are `np.dot`: the same GEMM as
    `np.matmul` on 2-D operands (bitwise), called with ~0.5 µs less overhead, which is
    a tenth of a small layer's step. Takes `out=` arrays both ways (see Function).
    """

    forward_out = backward_out = True

    def forward(
        self,
        x: np.ndarray,
        weight: np.ndarray,
        bias: np.ndarray | None = None,
        relu: bool = False,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        rows = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        self.x_shape, self.rows, self.weight, self.relu = x.shape, rows, weight, relu
        if out is None:
            value: np.ndarray = np.dot(rows, weight.T)
        else:
            value = np.dot(rows, weight.T, out=_rows(out))
        if bias is not None:
            value += bias
        if relu:
            relu_(value)
            self.out = value
        if out is not None:
            return out
        return value if x.ndim == 2 else value.reshape(*x.shape[:-1], value.shape[-1])

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        needs = self.needs_input_grad
        out_x, out_weight, out_bias = out if len(out) == 3 else (*out, None, None, None)[:3]
        grad = _rows(grad)
        if self.relu:
            # the mask cast to floats in one pass, then multiplied in place: the values of
            # grad * (out > 0), without the buffered cast of a bool operand (~15% faster)
            mask = (self.out > 0).astype(grad.dtype)
            grad = np.multiply(grad, mask, out=mask)
        grad_x = None
        if needs[0]:
            if out_x is None:
                grad_x = np.dot(grad, self.weight)
                if len(self.x_shape) != 2:
                    grad_x = grad_x.reshape(self.x_shape)
            else:
                np.dot(grad, self.weight, out=_rows(out_x))
                grad_x = out_x
        grad_w = None
        if needs[1]:
            rows = self.rows
            # One row: the weight gradient is an outer product, which OpenBLAS's GEMM
            # runs ~5x slower as a K=1 product (same values: one term per entry).
            if len(rows) == 1:
                grad_w = outer(grad[0], rows[0], out=out_weight)
            elif out_weight is None:
                grad_w = np.dot(grad.T, rows)
            else:
                grad_w = np.dot(grad.T, rows, out=out_weight)
        if len(needs) == 2:
            return grad_x, grad_w
        return grad_x, grad_w, column_sums(grad, out_bias) if needs[2] else None


_FSUM = 1024  # up to this many values, math.fsum of a list beats a float64 np.add.reduce


def _sum64(values: np.ndarray) -> float:
    """The sum of `values` accumulated in float64 or better: a few are summed exactly (fsum,
    ~2x faster than NumPy's reduction through a cast), many pairwise in float64."""
    if values.size <= _FSUM:
        try:
            return math.fsum(values.ravel().tolist())
        except (ValueError, OverflowError):  # inf - inf, or beyond float64: NumPy's nan/inf
            pass
    return float(np.add.reduce(values, axis=None, dtype=np.float64))


def _rows(array: np.ndarray) -> np.ndarray:
    """`array` (..., n) as a 2-D (rows, n) view."""
    return array if array.ndim == 2 else array.reshape(-1, array.shape[-1])


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    out: np.ndarray = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return out


class LogSoftmax(Function):
    def forward(self, x: np.ndarray, axis: int) -> np.ndarray:
        self.axis = axis
        self.out = _log_softmax(x, axis)
        return self.out

    def backward(self, grad: np.ndarray) -> Grads:
        return (grad - np.exp(self.out) * grad.sum(axis=self.axis, keepdims=True),)


class Softmax(Function):
    out: np.ndarray

    def forward(self, x: np.ndarray, axis: int) -> np.ndarray:
        self.axis = axis
        shifted = np.exp(x - x.max(axis=axis, keepdims=True))
        self.out = shifted / shifted.sum(axis=axis, keepdims=True)
        return self.out

    def backward(self, grad: np.ndarray) -> Grads:
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

    denominator: float

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
        if z.ndim != 2:
            z = z.reshape(-1, classes)
        # ufunc reductions called directly: what .max()/.sum() run, without their wrappers
        shifted = z - np.maximum.reduce(z, axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = row_sums(exp)[:, None]
        log_total = np.log(total)
        # exp/total is the softmax: the backward divides, into the array it returns
        self.exp, self.total = exp, total
        self.reduction, self.input_shape = reduction, logits.shape
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
            denominator: float = coef.shape[0]
        else:
            index = target if target.ndim == 1 else target.reshape(-1)
            rows = self.rows = _arange(len(index))
            simple = label_smoothing == 0 and weight is None
            picked = _gather_unmasked(shifted, rows, index, ignore_index) if simple else None
            if picked is None:
                keep = index != ignore_index
                all_kept = bool(keep.all())
                safe = index if all_kept else np.where(keep, index, 0)
            else:
                keep, all_kept, safe = None, True, index
            if simple:
                # The common case: -log p[y] = log Σexp − shifted[y], no (N, C) log-probs.
                self.fast_index = (safe, None if all_kept else keep)
                if picked is None:
                    picked = shifted[rows, safe]
                losses = log_total[:, 0] - picked
                if not all_kept:
                    losses *= keep
                count = len(safe) if all_kept else max(int(keep.sum()), 1)
                self.denominator = count if reduction == "mean" else 1
                return self._reduce(losses, target.shape, dtype)
            coef = np.zeros_like(shifted)
            coef[rows, safe] = 1 - label_smoothing
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

    def _reduce(self, losses: np.ndarray, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        self.loss_shape = shape
        if self.reduction == "none":
            return losses.reshape(shape).astype(dtype, copy=False)
        return np.asarray(_sum64(losses) / self.denominator, dtype=dtype)

    backward_out = True

    def backward(self, grad: np.ndarray, out: Grads = (None, None)) -> Grads:
        out_logits = out[0] if not self.channel_last else None
        # the softmax, in a new array (or `out`): the saved values survive a retain_graph
        grad_z = np.divide(self.exp, self.total, out=out_logits)
        if self.fast_index is not None:
            safe, keep = self.fast_index
            # through the flat index (grad_z is C-contiguous: reshape is a view), which
            # NumPy indexes ~2x faster than with a pair of index arrays
            grad_z.reshape(-1)[_offsets(*grad_z.shape) + safe] -= 1
            if keep is not None:
                grad_z *= keep[:, None]
        else:
            grad_z *= self.coef.sum(axis=1, keepdims=True)
            grad_z -= self.coef
        if self.reduction == "none":
            grad_z *= grad.reshape(-1, 1)
        elif type(self.denominator) is int and self.denominator <= _EXACT:
            # grad / count as a Python float: the same value once rounded to grad's dtype
            # (a quotient of two floats rounded twice, via float64, rounds as once)
            grad_z *= float(grad) / self.denominator
        else:
            grad_z *= grad / self.denominator
        classes = grad_z.shape[-1]
        if self.channel_last:
            moved = (self.input_shape[0], *self.input_shape[2:], classes)
            grad_z = np.moveaxis(grad_z.reshape(moved), -1, 1)
        elif grad_z.shape != self.input_shape:
            grad_z = grad_z.reshape(self.input_shape)
        return grad_z, None


_EXACT = 1 << 24  # integers up to this are exact in float32 (and every wider float)


def _gather_unmasked(
    shifted: np.ndarray, rows: np.ndarray, index: np.ndarray, ignore_index: int
) -> np.ndarray | None:
    """`shifted[rows, index]` if no target is `ignore_index`, else None. When ignore_index
    lies below -classes (torch's -100, usually), an ignored target makes the gather itself
    fail, so the common batch needs no mask and no reduction over the targets to know."""
    if ignore_index >= -shifted.shape[1]:
        return None
    try:
        picked: np.ndarray = shifted[rows, index]
        return picked
    except IndexError:  # an ignored target (or an invalid one: the masked path says so)
        return None


@functools.lru_cache(maxsize=16)
def _offsets(n: int, classes: int) -> np.ndarray:
    """The flat index of the first class of each of n rows: 0, classes, 2·classes, ..."""
    offsets = np.arange(0, n * classes, classes)
    offsets.flags.writeable = False
    return offsets


@functools.lru_cache(maxsize=16)
def _arange(n: int) -> np.ndarray:
    """0..n-1, read-only and shared: the row index of every batch of n samples."""
    rows = np.arange(n)
    rows.flags.writeable = False
    return rows
