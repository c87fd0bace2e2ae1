"""The dense layer: y = activation(x @ weight.T + bias), as torch.nn.Linear."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrun import functional as F
from nnrun.autograd.tensor import Tensor
from nnrun.constraints import Positive
from nnrun.errors import DataError, ShapeError
from nnrun.init import initialize, torch_default_uniform
from nnrun.nn.activation import ActivationSpec, describe_activation, get_activation, relu
from nnrun.nn.module import Module, input_tensor
from nnrun.nn.parameter import Parameter
from nnrun.registry import LAYERS


@LAYERS.register("linear", "dense")
class Linear(Module):
    """Fully connected layer on inputs (..., in_features) → (..., units).

    Parameters as torch.nn.Linear: `weight` (units, in_features) and `bias` (units,), both
    drawn from U(±1/√in_features) unless `init` / `bias_init` say otherwise. `in_features`
    is taken from the first input (give it only to create the parameters eagerly);
    `activation` is applied to the output (a name or `{type: ..., options}`).
    """

    def __init__(
        self,
        units: Positive,
        bias: bool = True,
        activation: str | dict[str, Any] | None = None,
        init: str | dict[str, Any] | None = None,
        bias_init: str | dict[str, Any] | None = None,
        in_features: Positive | None = None,
    ) -> None:
        super().__init__()
        self.units = units
        self.in_features = in_features
        self.use_bias = bias
        self.activation_spec: ActivationSpec = activation
        self.activation = get_activation(activation)
        self.init, self.bias_init = init, bias_init
        if in_features is not None:
            self._create_parameters(in_features, np.dtype(np.float32))

    def _create_parameters(self, in_features: int, dtype: np.dtype) -> None:
        self.in_features = in_features
        default = torch_default_uniform(in_features)
        shape = (self.units, in_features)
        self.weight = Parameter(initialize(self.init, shape, dtype, default), dtype=dtype)
        if self.use_bias:
            bias = initialize(self.bias_init, (self.units,), dtype, default)
            self.bias = Parameter(bias, dtype=dtype)
        else:
            self.register_parameter("bias", None)

    def build(self, x: Any) -> None:
        if "weight" in self._parameters:
            return
        x = input_tensor(x)
        self._check_input(x)
        self._create_parameters(x.shape[-1], x.dtype)

    def _check_input(self, x: Tensor) -> None:
        if x.dtype.kind != "f":
            raise DataError(f"linear expects floating-point inputs, got dtype {x.dtype}")
        if x.ndim == 0:
            raise ShapeError("linear expects inputs (..., in_features), got a scalar")
        if self.in_features is not None and x.shape[-1] != self.in_features:
            raise ShapeError(
                f"linear expects inputs (..., {self.in_features}) (in_features="
                f"{self.in_features}, fixed when the layer was built), got {x.shape} "
                f"with {x.shape[-1]} features"
            )

    def forward(self, x: Any) -> Tensor:
        x = input_tensor(x, like=self.weight)
        self._check_input(x)
        if self.activation is relu:
            return F.linear(x, self.weight, self.bias, relu=True)
        return self.activation(F.linear(x, self.weight, self.bias))

    def extra_repr(self) -> str:
        text = f"in_features={self.in_features}, out_features={self.units}, bias={self.use_bias}"
        if self.activation_spec is not None:
            text += f", activation={describe_activation(self.activation_spec)}"
        return text
