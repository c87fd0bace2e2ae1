"""Sample inputs for the registry-walking gradcheck (tests/nn/test_registry_gradcheck.py).

Every registered layer, activation and loss must have at least one sample here or in a
`samples_*.py` module beside this one (each defines LAYER_SAMPLES / LOSS_SAMPLES dicts):
registering a component without a sample fails the walker test, so registering is what puts
a component under gradcheck.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class LayerSample:
    """Constructor kwargs and inputs for one gradcheck of a layer.

    Floating inputs are gradchecked (as float64); integer/bool inputs (indices, edge lists,
    masks) are passed through unchanged. `named` inputs are passed by keyword and
    gradchecked like `inputs` (`call_kwargs` are passed as they are). `select` picks the
    differentiable tensor out of a tuple/dict output; `train` sets the module mode.
    """

    kwargs: dict[str, Any]
    inputs: list[np.ndarray]
    train: bool = True
    select: Callable[[Any], Any] | None = None
    id: str = ""
    call_kwargs: dict[str, Any] = field(default_factory=dict)
    named: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class LossSample:
    """Constructor kwargs, a prediction (gradchecked) and targets (constant) for a loss.

    `extra` holds further differentiable inputs (e.g. the second and third embedding of
    triplet_margin) that come before the target in the call.
    """

    kwargs: dict[str, Any]
    prediction: np.ndarray
    target: np.ndarray | None
    extra: list[np.ndarray] = field(default_factory=list)
    id: str = ""


def rand(*shape: int, seed: int = 0, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, shape)


def away_from_kinks(*shape: int, seed: int = 0, margin: float = 0.05) -> np.ndarray:
    """Uniform values in [-2, 2] kept `margin` away from 0, ±1 (where relu/hardtanh bend)."""
    x = rand(*shape, seed=seed, low=-2.0, high=2.0)
    for kink in (-1.0, 0.0, 1.0):
        close = np.abs(x - kink) < margin
        x[close] = kink + np.where(x[close] >= kink, margin, -margin) * 2
    return x
