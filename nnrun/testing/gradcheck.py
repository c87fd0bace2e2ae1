"""Check backprop against central finite differences in float64.

A user-facing tool as much as a test helper: `gradcheck(fn, inputs)` proves the gradients of
any composition of nnrun ops (or a whole model) are right.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnrun.autograd.grad_mode import no_grad
from nnrun.autograd.tensor import Tensor

FULL_JACOBIAN_LIMIT = 512  # larger inputs are checked along random directions
RANDOM_DIRECTIONS = 8


class GradcheckError(AssertionError):
    """Backprop disagrees with finite differences."""


@dataclass
class GradcheckResult:
    """The comparison for one input: worst absolute and relative errors and where."""

    name: str
    shape: tuple[int, ...]
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...] | str
    analytic: float
    numeric: float
    ok: bool
    method: str  # "full" (every element) or "directions" (random projections)

    def describe(self) -> str:
        return (
            f"gradient of {self.name} (shape {self.shape}) differs from finite differences "
            f"at {self.worst_index}: analytic {self.analytic:.8g}, numeric {self.numeric:.8g} "
            f"(abs error {self.max_abs_error:.3g}, rel error {self.max_rel_error:.3g}; "
            f"checked {self.method})"
        )


def _objective(fn: Callable[..., Tensor], args: Sequence[Any], projection: np.ndarray) -> float:
    with no_grad():
        out = fn(*args)
    return float(np.sum(np.asarray(out.data, dtype=np.float64) * projection))


def gradcheck_report(
    fn: Callable[..., Tensor],
    inputs: Sequence[Any],
    params: Sequence[Tensor] = (),
    names: Sequence[str] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> list[GradcheckResult]:
    """Compare gradients for every floating input (and every tensor in `params`).

    `inputs` are converted to float64 tensors that require grad and passed to `fn`;
    `params` are float64 tensors `fn` uses directly (e.g. a module's parameters), perturbed
    in place. The scalar compared is ⟨v, fn(...)⟩ for a fixed random v.
    """
    rng = np.random.default_rng(seed)
    args: list[Any] = []
    checked: list[Tensor] = []
    for x in inputs:
        data = x.data if isinstance(x, Tensor) else np.asarray(x)
        if data.dtype.kind == "f":
            t = Tensor(data.astype(np.float64), requires_grad=True, dtype=np.float64)
            checked.append(t)
            args.append(t)
        else:
            args.append(x)
    for p in params:
        if p.dtype != np.float64:
            raise TypeError("gradcheck params must be float64 (call module.to(np.float64))")
        p.grad = None
        checked.append(p)
    labels = list(names) if names else [f"input {i}" for i in range(len(checked))]
    if len(labels) < len(checked):
        labels += [f"param {i}" for i in range(len(labels), len(checked))]

    out = fn(*args)
    projection = rng.standard_normal(out.shape)
    if not out.requires_grad:
        raise GradcheckError("fn's output does not depend on any input that requires grad")
    out.backward(projection.astype(out.dtype))

    results = []
    for tensor, label in zip(checked, labels, strict=True):
        analytic_grad = np.zeros(tensor.shape) if tensor.grad is None else tensor.grad
        data = tensor.data
        analytic: np.ndarray
        numeric: np.ndarray
        if data.size <= FULL_JACOBIAN_LIMIT:
            numeric_grad = np.zeros(data.shape)
            flat = data.reshape(-1)
            for i in range(flat.size):
                original = flat[i]
                flat[i] = original + eps
                plus = _objective(fn, args, projection)
                flat[i] = original - eps
                minus = _objective(fn, args, projection)
                flat[i] = original
                numeric_grad.flat[i] = (plus - minus) / (2 * eps)
            analytic, numeric, method = analytic_grad, numeric_grad, "full"
        else:
            directions = rng.standard_normal((RANDOM_DIRECTIONS, *data.shape))
            analytic = np.array([np.sum(analytic_grad * u) for u in directions])
            numeric = np.empty(RANDOM_DIRECTIONS)
            original = data.copy()
            for k, u in enumerate(directions):
                data[...] = original + eps * u
                plus = _objective(fn, args, projection)
                data[...] = original - eps * u
                minus = _objective(fn, args, projection)
                numeric[k] = (plus - minus) / (2 * eps)
            data[...] = original
            method = "directions"
        abs_err = np.abs(analytic - numeric)
        bad = abs_err - (atol + rtol * np.abs(numeric))
        worst = int(np.argmax(bad)) if bad.size else 0
        rel = abs_err / np.maximum(np.abs(numeric), 1e-12)
        results.append(
            GradcheckResult(
                name=label,
                shape=tuple(data.shape),
                max_abs_error=float(abs_err.max()) if abs_err.size else 0.0,
                max_rel_error=float(rel.max()) if rel.size else 0.0,
                worst_index=(
                    tuple(int(i) for i in np.unravel_index(worst, analytic.shape))
                    if method == "full" and analytic.size
                    else f"random direction {worst}"
                ),
                analytic=float(analytic.flat[worst]) if analytic.size else 0.0,
                numeric=float(numeric.flat[worst]) if numeric.size else 0.0,
                ok=bool(np.all(bad <= 0)),
                method=method,
            )
        )
    return results


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    params: Sequence[Tensor] = (),
    names: Sequence[str] | None = None,
) -> bool:
    """True when backprop matches central differences; otherwise raise GradcheckError
    naming the input, the worst index, and the analytic and numeric values."""
    results = gradcheck_report(fn, inputs, params, names, eps=eps, atol=atol, rtol=rtol)
    failures = [r for r in results if not r.ok]
    if failures:
        raise GradcheckError("\n".join(r.describe() for r in failures))
    return True
