"""Gradient clipping by global norm or by value, in place, as `torch.nn.utils`."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from nnrun.errors import ArgumentError


def _grads(params: Iterable[Any] | Any) -> list[np.ndarray]:
    if hasattr(params, "grad"):
        params = [params]
    return [param.grad for param in params if param.grad is not None]


def clip_grad_norm(params: Iterable[Any] | Any, max_norm: float, norm_type: float = 2.0) -> float:
    """Scale all gradients together so their global `norm_type`-norm is at most `max_norm`.

    The global norm is the norm of the per-parameter norms (`inf`: largest |g|). When it is
    above `max_norm`, every grad is multiplied in place by max_norm / (norm + 1e-6), as
    `torch.nn.utils.clip_grad_norm_`. Returns the norm before clipping (0.0 without grads).
    """
    if not max_norm > 0:
        raise ArgumentError(
            f"gradient clipping: max_norm must be > 0, got {max_norm!r}",
            key="max_norm",
            expected="> 0",
            found=repr(max_norm),
        )
    grads = _grads(params)
    if not grads:
        return 0.0
    norm_type = float(norm_type)
    norms = np.array([np.linalg.norm(grad.ravel(), ord=norm_type) for grad in grads])
    total = float(np.linalg.norm(norms, ord=norm_type))
    coefficient = max_norm / (total + 1e-6)
    # NaN/inf totals fall through to the multiply, leaving non-finite grads as torch does
    if not coefficient >= 1.0:
        for grad in grads:
            grad *= coefficient
    return total


def clip_grad_value(params: Iterable[Any] | Any, clip_value: float) -> None:
    """Clamp every gradient in place to [-clip_value, clip_value]."""
    if not (clip_value >= 0 and math.isfinite(clip_value)):
        raise ArgumentError(
            f"gradient clipping: clip_value must be a finite number >= 0, got {clip_value!r}",
            key="clip_value",
            expected="a finite number >= 0",
            found=repr(clip_value),
        )
    for grad in _grads(params):
        np.clip(grad, -clip_value, clip_value, out=grad)
