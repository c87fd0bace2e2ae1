"""Statistics of one layer's output and of one layer's parameters, as plain floats.

Everything is computed in float64 from the arrays the engine produced; non-finite values are
counted and left out of the mean and std so one Inf does not hide the rest."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# Activations whose output is exactly zero for negative inputs: a unit that is zero for the
# whole batch gets no gradient and stops learning ("dead").
ZERO_ACTIVATIONS = frozenset({"relu", "relu6", "hard_sigmoid"})
# Bounded activations and the output region where their gradient is (nearly) zero.
SATURATING = {
    "tanh": lambda y: np.abs(y) > 0.99,
    "softsign": lambda y: np.abs(y) > 0.99,
    "hardtanh": None,  # saturated at its own bounds; see saturated_mask
    "sigmoid": lambda y: (y < 0.01) | (y > 0.99),
    "hard_sigmoid": lambda y: (y <= 0.0) | (y >= 1.0),
}


def saturated_mask(activation: str, y: np.ndarray, options: dict[str, Any]) -> np.ndarray | None:
    """Where a bounded activation's output sits in its flat region (None: not bounded)."""
    if activation == "hardtanh":
        low, high = options.get("min_val", -1.0), options.get("max_val", 1.0)
        return (y <= low) | (y >= high)
    rule = SATURATING.get(activation)
    return rule(y) if rule is not None else None


def unit_axis(output: np.ndarray, channels_first: bool) -> int:
    """The axis that indexes units: channels (axis 1) of a convolution's (N, C, ...) output,
    else the last axis (features of (N, F) or (N, T, F))."""
    return 1 if channels_first and output.ndim >= 3 else output.ndim - 1


def output_stats(
    output: np.ndarray, activation: str | None, options: dict[str, Any], channels_first: bool
) -> dict[str, Any]:
    """Mean, std, fraction exactly zero, fraction of dead units (zero for every example and
    position), fraction saturated (bounded activations only) and fraction non-finite."""
    y = np.asarray(output, dtype=np.float64)
    finite = np.isfinite(y)
    size = max(y.size, 1)
    values = y[finite]
    stats: dict[str, Any] = {
        "shape": list(y.shape),
        "mean": float(values.mean()) if values.size else None,
        "std": float(values.std()) if values.size else None,
        "zero_fraction": float(np.count_nonzero(y == 0) / size),
        "nonfinite_fraction": float((y.size - values.size) / size),
        "dead_fraction": None,
        "saturated_fraction": None,
    }
    if y.ndim >= 2 and y.shape[0] > 1:
        axis = unit_axis(y, channels_first)
        others = tuple(a for a in range(y.ndim) if a != axis)
        dead = np.all(y == 0, axis=others)
        stats["dead_fraction"] = float(dead.mean()) if dead.size else None
    if activation is not None:
        mask = saturated_mask(activation, y, options)
        if mask is not None:
            stats["saturated_fraction"] = float(np.count_nonzero(mask) / size)
    return stats


def _norm(arrays: list[np.ndarray]) -> float:
    return math.sqrt(sum(float(np.sum(np.square(a, dtype=np.float64))) for a in arrays))


def parameter_stats(
    weights: list[np.ndarray], grads: list[np.ndarray], updates: list[np.ndarray]
) -> dict[str, Any]:
    """Norms of a layer's trainable parameters taken together: the gradient (and its RMS per
    element and fraction exactly zero), the parameters, and the optimizer step's ‖Δw‖/‖w‖."""
    size = sum(g.size for g in grads)
    grad_norm = _norm(grads)
    param_norm = _norm(weights)
    update_norm = _norm(updates)
    zeros = sum(int(np.count_nonzero(g == 0)) for g in grads)
    return {
        "grad_norm": grad_norm,
        "grad_rms": grad_norm / math.sqrt(size) if size else None,
        "grad_zero_fraction": zeros / size if size else None,
        "param_norm": param_norm,
        "update_norm": update_norm,
        "update_ratio": update_norm / param_norm if param_norm > 0 else None,
    }
