"""Functions on tensors (the differentiable counterparts of NumPy's)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nnrun.autograd.tensor import Tensor, as_array
from nnrun.ops import elementwise as ew
from nnrun.ops import fused, linalg, movement


def tensor(data: Any, like: Tensor | None = None) -> Tensor:
    """`data` as a Tensor; non-Tensor floats take `like`'s dtype so nothing upcasts."""
    if isinstance(data, Tensor):
        return data
    if like is not None:
        return like._lift(data)
    return Tensor(data)


def _common(tensors: Sequence[Any]) -> list[Tensor]:
    like = next((t for t in tensors if isinstance(t, Tensor)), None)
    return [tensor(t, like) for t in tensors]


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with np.matmul's broadcasting of batch dimensions."""
    a, b = _common([a, b])
    return linalg.MatMul.apply(a, b)


def tensordot(a: Any, b: Any, axes: Any = 2) -> Tensor:
    """np.tensordot: e.g. the mode-n product C[m,r,k] = Σ_n A[m,n,r]·B[n,k] is
    ``tensordot(A, B, axes=([1], [0])).transpose(0, 1, 2)`` (axes m, r, k)."""
    a, b = _common([a, b])
    return linalg.TensorDot.apply(a, b, axes=axes)


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """np.einsum with explicit subscripts, e.g. ``einsum("mnr,nk->mrk", A, B)``."""
    return linalg.Einsum.apply(*_common(operands), subscripts=subscripts)


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    return movement.Concatenate.apply(*_common(tensors), axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    return movement.Stack.apply(*_common(tensors), axis=axis)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Elementwise choice; `condition` is a boolean array or tensor (no gradient)."""
    a, b = _common([a, b])
    return ew.Where.apply(a, b, condition=np.asarray(as_array(condition), dtype=bool))


def pad(x: Tensor, pad_width: Any, value: float = 0.0) -> Tensor:
    """Constant padding; `pad_width` as in np.pad (per-axis (before, after) pairs)."""
    return movement.Pad.apply(tensor(x), pad_width=pad_width, value=value)


def take(x: Tensor, indices: Any, axis: int = 0) -> Tensor:
    """Gather along `axis` with integer indices (repeats accumulate in the gradient)."""
    return movement.Take.apply(tensor(x), indices=np.asarray(as_array(indices)), axis=axis)


def maximum(a: Any, b: Any) -> Tensor:
    a, b = _common([a, b])
    return ew.Maximum.apply(a, b)


def minimum(a: Any, b: Any) -> Tensor:
    a, b = _common([a, b])
    return ew.Minimum.apply(a, b)


def exp(x: Tensor) -> Tensor:
    return ew.Exp.apply(x)


def log(x: Tensor) -> Tensor:
    return ew.Log.apply(x)


def sqrt(x: Tensor) -> Tensor:
    return ew.Sqrt.apply(x)


def sin(x: Tensor) -> Tensor:
    return ew.Sin.apply(x)


def cos(x: Tensor) -> Tensor:
    return ew.Cos.apply(x)


def tanh(x: Tensor) -> Tensor:
    return ew.Tanh.apply(x)


def sigmoid(x: Tensor) -> Tensor:
    return ew.Sigmoid.apply(x)


def relu(x: Tensor) -> Tensor:
    return ew.Relu.apply(x)


def sign(x: Tensor) -> Tensor:
    """sign(x); its gradient is zero wherever it exists."""
    return ew.Sign.apply(x)


def erf(x: Tensor) -> Tensor:
    """The error function."""
    return ew.Erf.apply(x)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None, relu: bool = False) -> Tensor:
    """x @ weight.T + bias with weight (out_features, in_features), as torch; `relu=True`
    fuses a ReLU into the same op."""
    x = tensor(x, weight)
    if bias is None:
        return fused.Linear.apply(x, weight, relu=relu)
    return fused.Linear.apply(x, weight, bias, relu=relu)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    return fused.Softmax.apply(tensor(x), axis=axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    return fused.LogSoftmax.apply(tensor(x), axis=axis)


def cross_entropy(
    logits: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> Tensor:
    """Softmax cross-entropy of logits (N, C, ...) against class indices or probabilities."""
    target_array = np.asarray(target.data if isinstance(target, Tensor) else target)
    if target_array.dtype.kind == "f":
        target_array = target_array.astype(logits.dtype, copy=False)
    weight_array = None if weight is None else np.asarray(as_array(weight), dtype=logits.dtype)
    return fused.CrossEntropy.apply(
        logits,
        Tensor._wrap(target_array, False),
        weight=weight_array,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        reduction=reduction,
    )
