"""Dropout as an op: the mask is drawn inside `forward`, so a replayed step draws it again
from the same generator, in the same order as the eager step."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrun import random
from nnrun.autograd.function import Function, Grads


def keep_multiplier(shape: tuple[int, ...], p: float, dtype: Any) -> np.ndarray:
    """keep/(1 − p) in `dtype` with keep ~ Bernoulli(1 − p), drawn from nnrun's seeded
    generator. Float32 uniforms are plenty for a threshold and take half the draws and
    memory; the product is formed in `dtype` at once (no float64 array to cast)."""
    keep = random.generator().random(shape, dtype=np.float32) >= p
    multiplier: np.ndarray = keep * np.dtype(dtype).type(1.0 / (1.0 - p))
    return multiplier


class Dropout(Function):
    """x · keep/(1 − p) with a fresh mask of `mask_shape` (broadcast against x, e.g.
    (N, C, 1, 1) to drop whole channels)."""

    def forward(self, x: np.ndarray, p: float, mask_shape: tuple[int, ...]) -> np.ndarray:
        self.mask = keep_multiplier(mask_shape, p, x.dtype)
        out: np.ndarray = x * self.mask
        return out

    def backward(self, grad: np.ndarray) -> Grads:
        return (grad * self.mask,)
