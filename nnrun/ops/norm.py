"""Fused normalization: y = (x − mean)·invstd·weight + bias with a hand-written backward.

One op serves batch, layer and group norm: x is viewed as `view` (e.g. (N, G, rest) for
group norm) and the statistics are taken over `axes` of that view; weight and bias broadcast
against x through `param_shape` (e.g. (1, C, 1, 1)). The caller computes the statistics
(`moments`) so batch norm can also update its running averages from them.
"""

from __future__ import annotations

import numpy as np

from nnrun.autograd.function import Function


def moments(x: np.ndarray, axes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and biased variance over `axes` (keepdims), accumulated in float64 and returned
    in x's dtype."""
    mean = x.mean(axis=axes, keepdims=True, dtype=np.float64)
    centered = x - mean.astype(x.dtype)
    var = np.square(centered).mean(axis=axes, keepdims=True, dtype=np.float64)
    return mean.astype(x.dtype), var.astype(x.dtype)


class Normalize(Function):
    """Normalize x with given statistics, then scale and shift.

    Inputs: x, then weight if `affine[0]`, then bias if `affine[1]`. `mean` and `invstd`
    broadcast against x.reshape(view). With `batch_stats` the statistics are functions of x
    (train-mode batch norm, layer norm, group norm) and the backward includes their
    gradient; otherwise they are constants (eval-mode batch norm).
    """

    def forward(
        self,
        x: np.ndarray,
        *params: np.ndarray,
        view: tuple[int, ...],
        axes: tuple[int, ...],
        mean: np.ndarray,
        invstd: np.ndarray,
        param_shape: tuple[int, ...],
        affine: tuple[bool, bool],
        batch_stats: bool,
    ) -> np.ndarray:
        xhat = ((x.reshape(view) - mean) * invstd).reshape(x.shape)
        self.xhat, self.invstd, self.view, self.axes = xhat, invstd, view, axes
        self.param_shape, self.affine, self.batch_stats = param_shape, affine, batch_stats
        weight = params[0].reshape(param_shape) if affine[0] else None
        self.weight, self.param_sizes = weight, [p.shape for p in params]
        out = xhat * weight if weight is not None else xhat.copy()
        if affine[1]:
            out += params[-1].reshape(param_shape)
        return out

    def _param_grad(self, values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        reduce = tuple(i for i, n in enumerate(self.param_shape) if n == 1)
        return values.sum(axis=reduce).reshape(shape)

    def backward(self, grad: np.ndarray) -> tuple:
        needs = self.needs_input_grad
        grads: list[np.ndarray | None] = []
        if needs[0]:
            grad_xhat = grad * self.weight if self.weight is not None else grad
            grad_view = grad_xhat.reshape(self.view)
            if self.batch_stats:
                xhat = self.xhat.reshape(self.view)
                grad_view = grad_view - grad_view.mean(axis=self.axes, keepdims=True)
                grad_view -= xhat * (grad_xhat.reshape(self.view) * xhat).mean(
                    axis=self.axes, keepdims=True
                )
            grads.append((grad_view * self.invstd).reshape(grad.shape))
        else:
            grads.append(None)
        if self.affine[0]:
            needed = needs[1]
            grads.append(
                self._param_grad(grad * self.xhat, self.param_sizes[0]) if needed else None
            )
        if self.affine[1]:
            grads.append(self._param_grad(grad, self.param_sizes[-1]) if needs[-1] else None)
        return tuple(grads)
