"""Fused normalization: y = (x − mean)·invstd·weight + bias with a hand-written backward.

One op serves batch, layer and group norm: x is viewed as `view` (e.g. (N, G, rest) for
group norm) and the statistics are taken over `axes` of that view; weight and bias broadcast
against x through `param_shape` (e.g. (1, C, 1, 1)). The op computes the statistics itself
and, for batch norm in training, updates the running averages in place: everything a step
does happens inside ops, so a compiled step replays it.
"""

from __future__ import annotations

import math

import numpy as np

from nnrun.autograd.function import Function, Grads
from nnrun.ops.buffers import Target, contiguous, fits, target


def moments(x: np.ndarray, axes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and biased variance over `axes` (keepdims), in x's dtype.

    Over the last, contiguous axis of a float32 array (layer and group norm) NumPy sums
    pairwise, and the corrected two-pass formula — var = mean(d²) − mean(d)², d = x − mean,
    with mean(d) added back to the mean — makes float32 as exact as a float64 pass (its
    error is second order), without float64 temporaries. Other reductions accumulate in
    float64.
    """
    if x.dtype == np.float32 and axes == (x.ndim - 1,):
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        correction = centered.mean(axis=axes, keepdims=True)
        var = np.square(centered, out=centered).mean(axis=axes, keepdims=True)
        var -= np.square(correction)
        np.maximum(var, 0, out=var)
        mean += correction
        return mean, var
    mean = x.mean(axis=axes, keepdims=True, dtype=np.float64)
    centered = x - mean.astype(x.dtype)
    var = np.square(centered).mean(axis=axes, keepdims=True, dtype=np.float64)
    return mean.astype(x.dtype), var.astype(x.dtype)


def update_running(
    running: tuple[np.ndarray, np.ndarray, np.ndarray, float | None],
    mean: np.ndarray,
    var: np.ndarray,
    count: int,
) -> None:
    """Batch norm's running mean and unbiased variance, as torch: an exponential average
    with `momentum`, or the cumulative average when it is None."""
    running_mean, running_var, tracked, momentum = running
    tracked[...] = tracked + 1
    factor = 1.0 / float(tracked) if momentum is None else momentum
    unbiased = var * (count / (count - 1))
    for buffer, value in ((running_mean, mean), (running_var, unbiased)):
        buffer *= 1.0 - factor
        buffer += factor * value.astype(buffer.dtype, copy=False)


class Normalize(Function):
    """Normalize x, then scale and shift. Takes `out=` arrays both ways (see Function).

    Inputs: x, then weight if `affine[0]`, then bias if `affine[1]`. With `batch_stats` the
    statistics are those of x over `axes` (train-mode batch norm, layer norm, group norm)
    and the backward includes their gradient; `running` (running mean, running variance,
    batches seen, momentum) is then updated in place. Otherwise `stats` (mean, variance)
    are constants broadcast against the view (eval-mode batch norm). `eps` is added to the
    variance.
    """

    forward_out = backward_out = True

    def forward(
        self,
        x: np.ndarray,
        *params: np.ndarray,
        view: tuple[int, ...],
        axes: tuple[int, ...],
        param_shape: tuple[int, ...],
        affine: tuple[bool, bool],
        batch_stats: bool,
        eps: float,
        running: tuple[np.ndarray, np.ndarray, np.ndarray, float | None] | None = None,
        stats: tuple[np.ndarray, np.ndarray] | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        x_view = x.reshape(view)
        if batch_stats:
            mean, var = moments(x_view, axes)
            if running is not None:
                count = math.prod(view[a] for a in axes)
                update_running(running, mean.reshape(-1), var.reshape(-1), count)
        else:
            shape = [1] * len(view)
            for axis in range(len(view)):
                if axis not in axes:
                    shape[axis] = view[axis]
            # stats is given whenever batch_stats is False (the caller's contract)
            mean, var = (s.reshape(shape).astype(x.dtype, copy=False) for s in stats)  # type: ignore[union-attr]
        invstd = 1.0 / np.sqrt(var + np.asarray(eps, dtype=var.dtype))
        invstd = invstd.astype(x.dtype, copy=False)
        xhat = np.subtract(x_view, mean.astype(x.dtype, copy=False))
        xhat *= invstd
        xhat = xhat.reshape(x.shape)
        self.xhat, self.invstd, self.view, self.axes = xhat, invstd, view, axes
        self.param_shape, self.affine, self.batch_stats = param_shape, affine, batch_stats
        weight = params[0].reshape(param_shape) if affine[0] else None
        self.weight, self.param_sizes = weight, [p.shape for p in params]
        if weight is not None:
            value: np.ndarray = np.multiply(xhat, weight, out=target(out, xhat, weight))
        elif out is not None:
            value = out
            np.copyto(value, xhat)
        else:
            value = xhat.copy()
        if affine[1]:
            value += params[-1].reshape(param_shape)
        return value

    def _param_grad(
        self, values: np.ndarray, shape: tuple[int, ...], buffer: np.ndarray | None
    ) -> np.ndarray:
        """`values` summed over the axes the parameter broadcasts along, as `shape`; into
        `buffer` when it has the values' dtype and they are C-contiguous (see buffers)."""
        reduce = tuple(i for i, n in enumerate(self.param_shape) if n == 1)
        if buffer is None or buffer.dtype != values.dtype or not contiguous(values):
            total: np.ndarray = np.add.reduce(values, axis=reduce).reshape(shape)
            return total
        kept = tuple(n for i, n in enumerate(values.shape) if i not in reduce)
        np.add.reduce(values, axis=reduce, out=buffer.reshape(kept))
        return buffer

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        needs = self.needs_input_grad
        buffers = [*out] if out else [None] * len(needs)
        grads: list[np.ndarray | None] = []
        if needs[0]:
            grad_xhat = grad * self.weight if self.weight is not None else grad
            grad_view = grad_xhat.reshape(self.view)
            invstd = self.invstd
            into = fits(buffers[0], grad_xhat, invstd)
            if self.batch_stats:
                xhat = self.xhat.reshape(self.view)
                mean = grad_view.mean(axis=self.axes, keepdims=True)
                centered = np.subtract(grad_view, mean, out=_view(into, self.view))
                product = grad_view * xhat
                slope = product.mean(axis=self.axes, keepdims=True)
                centered -= np.multiply(xhat, slope, out=product)
                centered *= invstd
            else:
                centered = np.multiply(grad_view, invstd, out=_view(into, self.view))
            grads.append(into if isinstance(into, np.ndarray) else centered.reshape(grad.shape))
        else:
            grads.append(None)
        if self.affine[0]:
            shape = self.param_sizes[0]
            grads.append(
                self._param_grad(grad * self.xhat, shape, buffers[1]) if needs[1] else None
            )
        if self.affine[1]:
            shape = self.param_sizes[-1]
            grads.append(self._param_grad(grad, shape, buffers[-1]) if needs[-1] else None)
        return tuple(grads)


def _view(into: Target, shape: tuple[int, ...]) -> Target:
    """A ufunc's `out=` for a result of `shape`: the buffer reshaped, or `...`."""
    return into.reshape(shape) if isinstance(into, np.ndarray) else into
