"""Per-batch training augmentation: random shifts, left-right flips, Gaussian noise."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnrun.data.options import AugmentSpec
from nnrun.errors import DataError

Augment = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def random_shift(x: np.ndarray, rng: np.random.Generator, max_shift: int) -> np.ndarray:
    """Shift each image (..., H, W) by up to `max_shift` pixels each way, filling with 0."""
    height, width = x.shape[-2:]
    padding = [(0, 0)] * (x.ndim - 2) + [(max_shift, max_shift)] * 2
    padded = np.pad(x, padding)
    offsets = rng.integers(0, 2 * max_shift + 1, size=(len(x), 2))
    out = np.empty_like(x)
    for i, (dy, dx) in enumerate(offsets):
        out[i] = padded[i, ..., dy : dy + height, dx : dx + width]
    return out


def random_flip(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flip each image left-right (last axis) with probability 0.5."""
    flip = rng.random(len(x)) < 0.5
    out = x.copy()
    out[flip] = x[flip, ..., ::-1]
    return out


def make_augment(options: AugmentSpec, input_shape: tuple[int, ...]) -> Augment | None:
    """The augmentation described by data.augment, or None when every option is off.

    Shifts and flips need image-shaped examples (C, H, W) or (H, W), e.g. via data.reshape.
    They act on normalized inputs, so the zero fill is the mean under `normalize: standard`.
    """
    shift, flip, noise = options.shift, options.flip, options.noise
    if (shift or flip) and len(input_shape) < 2:
        raise DataError(
            f"data.augment shift/flip need image examples (C, H, W) or (H, W), found shape "
            f"{input_shape}; set data.reshape (e.g. [1, 8, 8] for digits)"
        )
    if not (shift or flip or noise):
        return None

    def augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if shift:
            x = random_shift(x, rng, shift)
        if flip:
            x = random_flip(x, rng)
        if noise:
            x = x + rng.normal(0.0, noise, x.shape).astype(x.dtype)
        return x

    return augment
