"""Learned tensors and constants as graph nodes without inputs (`parameter`, `constant`).

In the graph form they are nodes like any other, read by later nodes and by expressions
(`{type: parameter, shape: [3, 3]}` then `expr: "sum((x @ A) * x)"`). A `GraphModel` keeps
the tensor itself under the node's name, so the checkpoint key is the node name (`A`), as
torch's `self.A = nn.Parameter(...)`, and `freeze: [A]` / `init_from` address it by name.
A constant is a parameter that is never trained (`requires_grad` False).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrun.errors import ArgumentError
from nnrun.init import initialize
from nnrun.nn.module import Module
from nnrun.nn.parameter import Parameter
from nnrun.registry import LAYERS


class TensorNode(Module):
    """A node whose output is its own tensor, `value`; it takes no inputs."""

    value: Parameter

    def forward(self) -> Parameter:
        return self.value

    def extra_repr(self) -> str:
        return f"shape={list(self.value.shape)}"


@LAYERS.register("parameter", "param")
class ParameterNode(TensorNode):
    """A learned tensor of `shape` (a list, [] for a scalar), drawn from `init` (any
    initializer: normal (default, N(0, 1)), zeros, uniform, {type: constant, value: 0.5},
    ...). No batch axis: it broadcasts against batched inputs in expressions."""

    def __init__(
        self, shape: list[int] | int, init: str | dict[str, Any] | None = "normal"
    ) -> None:
        super().__init__()
        dims = [shape] if isinstance(shape, int) else list(shape)
        if any(d < 1 for d in dims):
            raise ArgumentError(
                f"parameter: shape must hold positive sizes, got {shape!r}",
                key="shape",
                expected="a list of integers >= 1 ([] for a scalar)",
                found=repr(shape),
            )
        self.value = Parameter(initialize(init or "normal", tuple(dims)))


@LAYERS.register("constant", "const")
class ConstantNode(TensorNode):
    """A fixed tensor, `value`: a number or a nested list (a matrix [[1, 0], [0, 1]]);
    saved with the checkpoint, never trained."""

    def __init__(self, value: float | list[Any]) -> None:
        super().__init__()
        try:
            array = np.asarray(value, dtype=np.float64)
        except (ValueError, TypeError):
            raise ArgumentError(
                f"constant: value must be a number or a rectangular nested list of numbers, "
                f"got {value!r}",
                key="value",
                expected="a number or a list of equal-length lists of numbers",
                found=repr(value),
            ) from None
        self.value = Parameter(array.astype(np.float32), requires_grad=False)


def tensor_of(module: Module) -> Parameter | None:
    """The tensor a nullary node holds, or None for any other layer."""
    return module.value if isinstance(module, TensorNode) else None


def is_nullary(layer_class: Any) -> bool:
    """Whether a registered layer is a node without inputs."""
    return isinstance(layer_class, type) and issubclass(layer_class, TensorNode)
