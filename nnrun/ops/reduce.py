"""Reductions over axes: sum, mean, max, min, var."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrun.autograd.function import Function, Grads


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(a % ndim if ndim else 0 for a in axis)


def _expand(grad: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """Re-insert reduced axes so `grad` broadcasts against the input."""
    return grad if keepdims else np.expand_dims(grad, axes)


class Sum(Function):
    def forward(self, x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
        self.shape, self.axes, self.keepdims = x.shape, _axes(axis, x.ndim), keepdims
        return np.asarray(x.sum(axis=self.axes, keepdims=keepdims))

    def backward(self, grad: np.ndarray) -> Grads:
        return (np.broadcast_to(_expand(grad, self.axes, self.keepdims), self.shape),)


class Mean(Function):
    def forward(self, x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
        self.shape, self.axes, self.keepdims = x.shape, _axes(axis, x.ndim), keepdims
        self.count = int(np.prod([x.shape[a] for a in self.axes]))
        return np.asarray(x.mean(axis=self.axes, keepdims=keepdims))

    def backward(self, grad: np.ndarray) -> Grads:
        scaled = _expand(grad, self.axes, self.keepdims) * (1.0 / self.count)
        return (np.broadcast_to(scaled.astype(grad.dtype, copy=False), self.shape),)


class Max(Function):
    """Maximum over axes; tied maxima share the gradient evenly (as torch.amax)."""

    reducer: staticmethod[..., np.ndarray] = staticmethod(np.max)

    def forward(self, x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
        self.axes, self.keepdims = _axes(axis, x.ndim), keepdims
        out = np.asarray(self.reducer(x, axis=self.axes, keepdims=True))
        self.winners = x == out
        return out if keepdims else np.squeeze(out, axis=self.axes)

    def backward(self, grad: np.ndarray) -> Grads:
        count = self.winners.sum(axis=self.axes, keepdims=True)
        share = _expand(grad, self.axes, self.keepdims) / count
        return ((self.winners * share).astype(grad.dtype, copy=False),)


class Min(Max):
    reducer = staticmethod(np.min)


class Var(Function):
    """Variance with `ddof` (0: divide by n, 1: by n - 1)."""

    def forward(self, x: np.ndarray, axis: Any, keepdims: bool, ddof: int) -> np.ndarray:
        self.axes, self.keepdims = _axes(axis, x.ndim), keepdims
        count = int(np.prod([x.shape[a] for a in self.axes]))
        self.divisor = max(count - ddof, 0)
        self.centered = x - x.mean(axis=self.axes, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (self.centered * self.centered).sum(axis=self.axes, keepdims=keepdims)
            return np.asarray(out / self.divisor, dtype=x.dtype)

    def backward(self, grad: np.ndarray) -> Grads:
        grad = _expand(grad, self.axes, self.keepdims)
        return ((grad * (2.0 / self.divisor) * self.centered).astype(grad.dtype, copy=False),)
