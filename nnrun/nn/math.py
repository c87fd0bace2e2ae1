"""Math nodes for the graph form: elementwise log, exp, sqrt, abs, cos, square, pow, clip
and the reductions sum, max, min (mean is in nn/merge.py: one input reduces, several
average). They are the functions an expression node calls (nnrun/nn/expression.py), so a
graph reads the same whether it is written node by node or as one expression.

Reductions default to the last axis — one example's features — so the batch axis stays;
`axis: null` reduces every axis, as NumPy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nnrun.autograd.tensor import Tensor
from nnrun.errors import ArgumentError, ShapeError
from nnrun.nn.activation import softplus
from nnrun.nn.module import Module, input_tensor
from nnrun.registry import LAYERS

Axis = int | list[int] | None

# name → fn(x): the elementwise functions an expression may call. sin, tanh, sigmoid, relu
# and softplus are also nodes, registered as activations (nn/activation.py).
ELEMENTWISE: dict[str, Callable[[Tensor], Tensor]] = {
    "exp": Tensor.exp,
    "log": Tensor.log,
    "sqrt": Tensor.sqrt,
    "abs": Tensor.abs,
    "sin": Tensor.sin,
    "cos": Tensor.cos,
    "tanh": Tensor.tanh,
    "sigmoid": Tensor.sigmoid,
    "relu": Tensor.relu,
    "softplus": softplus,
}
REDUCTIONS: dict[str, Callable[..., Tensor]] = {
    "sum": Tensor.sum,
    "mean": Tensor.mean,
    "max": Tensor.max,
    "min": Tensor.min,
}


def reduce(kind: str, x: Tensor, axis: Axis = -1, keepdims: bool = False) -> Tensor:
    """`kind` (sum, mean, max, min) of x over `axis` (an int, a list, or None for all)."""
    axes = tuple(axis) if isinstance(axis, list) else axis
    for a in (axes,) if isinstance(axes, int) else axes or ():
        if not -x.ndim <= a < x.ndim:
            raise ShapeError(f"{kind}: axis {a} is out of range for shape {x.shape}")
    return REDUCTIONS[kind](x, axis=axes, keepdims=keepdims)


def transpose(x: Tensor) -> Tensor:
    """Swap the last two axes (a matrix transpose that keeps batch axes); 1-D unchanged."""
    return x if x.ndim < 2 else x.swapaxes(-2, -1)


def _elementwise_layer(name: str, doc: str) -> type[Module]:
    fn = ELEMENTWISE[name]

    class Elementwise(Module):
        function = name  # its name in ELEMENTWISE

        def forward(self, x: Any) -> Tensor:
            return fn(input_tensor(x))

    Elementwise.__name__ = Elementwise.__qualname__ = name.capitalize()
    Elementwise.__doc__ = doc
    return LAYERS.register(name)(Elementwise)


Log = _elementwise_layer("log", "Natural logarithm, elementwise.")
Exp = _elementwise_layer("exp", "exp(x), elementwise.")
Sqrt = _elementwise_layer("sqrt", "Square root, elementwise.")
Abs = _elementwise_layer("abs", "|x|, elementwise (gradient 0 at 0).")
Cos = _elementwise_layer("cos", "cos(x), elementwise.")


@LAYERS.register("square")
class Square(Module):
    """x², elementwise."""

    def forward(self, x: Any) -> Tensor:
        return input_tensor(x) ** 2


@LAYERS.register("pow", "power")
class Pow(Module):
    """x ** exponent, elementwise, for a constant exponent (e.g. -2 for 1/x²)."""

    def __init__(self, exponent: float) -> None:
        super().__init__()
        self.exponent = exponent

    def forward(self, x: Any) -> Tensor:
        return input_tensor(x) ** self.exponent

    def extra_repr(self) -> str:
        return f"exponent={self.exponent}"


@LAYERS.register("clip", "clamp")
class Clip(Module):
    """x limited to [min, max] (either may be null), as torch.clamp; the gradient passes
    where min <= x <= max."""

    def __init__(self, min: float | None = None, max: float | None = None) -> None:
        super().__init__()
        if min is None and max is None:
            raise ArgumentError("clip needs min, max or both", key="min", found="neither")
        if min is not None and max is not None and min > max:
            raise ArgumentError(
                f"clip: min {min} is above max {max}", key="max", expected=f">= {min}"
            )
        self.low, self.high = min, max

    def forward(self, x: Any) -> Tensor:
        return input_tensor(x).clip(self.low, self.high)

    def extra_repr(self) -> str:
        return f"min={self.low}, max={self.high}"


class _Reduction(Module):
    kind = "sum"

    def __init__(self, axis: Axis = -1, keepdims: bool = False) -> None:
        super().__init__()
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x: Any) -> Tensor:
        return reduce(self.kind, input_tensor(x), self.axis, self.keepdims)

    def extra_repr(self) -> str:
        return f"axis={self.axis}, keepdims={self.keepdims}"


@LAYERS.register("sum")
class Sum(_Reduction):
    """Sum over `axis` (default -1, the features of one example; null for every axis)."""

    kind = "sum"


@LAYERS.register("max", "amax")
class Max(_Reduction):
    """Maximum over `axis` (default -1); tied maxima share the gradient, as torch.amax."""

    kind = "max"


@LAYERS.register("min", "amin")
class Min(_Reduction):
    """Minimum over `axis` (default -1); tied minima share the gradient, as torch.amin."""

    kind = "min"
