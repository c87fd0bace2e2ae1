"""Convolution layers as torch.nn.Conv1d/Conv2d/ConvTranspose1d/ConvTranspose2d, with lazy
in_channels and an optional fused activation."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from nnrun.autograd.tensor import Tensor
from nnrun.constraints import Positive
from nnrun.errors import ArgumentError, DataError, ShapeError
from nnrun.init import initialize, torch_default_uniform
from nnrun.nn.activation import ActivationSpec, describe_activation, get_activation
from nnrun.nn.module import Module, input_tensor
from nnrun.nn.parameter import Parameter
from nnrun.ops import conv as ops
from nnrun.registry import LAYERS

IntOrList = int | list[int]
_RELU = get_activation("relu")


def as_tuple(value: Any, dims: int, key: str, layer: str, minimum: int = 1) -> tuple[int, ...]:
    """An int or a list of `dims` ints, each >= minimum, as a tuple; ArgumentError otherwise."""
    values = [value] * dims if isinstance(value, int) else list(value)
    valid = len(values) == dims and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= minimum for v in values
    )
    if not valid:
        expected = f"an integer >= {minimum} or a list of {dims} such integers"
        raise ArgumentError(
            f"{layer}: {key} must be {expected}, got {value!r}",
            key=key,
            expected=expected,
            found=repr(value),
        )
    return tuple(values)


def check_input(x: Tensor, dims: int, layer: str, channels: int | None, what: str) -> None:
    """Raise ShapeError/DataError unless x is a float (N, C, *spatial) batch with C channels."""
    if x.dtype.kind != "f":
        raise DataError(f"{layer} expects floating-point inputs, got dtype {x.dtype}")
    layout = ("N", "C", "H", "W") if dims == 2 else ("N", "C", "L")
    if x.ndim != dims + 2:
        raise ShapeError(f"{layer} expects input ({', '.join(layout)}), got shape {x.shape}")
    if channels is not None and x.shape[1] != channels:
        raise ShapeError(
            f"{layer} expects input ({', '.join(layout)}) with C={channels} ({what}), got {x.shape}"
        )


class _ConvBase(Module):
    """Shared construction of convolutions: argument checks, lazy parameter creation."""

    dims = 2
    name = "conv2d"
    transposed = False

    def __init__(
        self,
        out_channels: Positive,
        kernel_size: IntOrList,
        stride: IntOrList,
        padding: Any,
        dilation: IntOrList,
        groups: Positive,
        bias: bool,
        activation: ActivationSpec,
        init: str | dict[str, Any] | None,
        bias_init: str | dict[str, Any] | None,
        in_channels: Positive | None,
    ) -> None:
        super().__init__()
        layer, dims = self.name, self.dims
        (self.out_channels,) = as_tuple(out_channels, 1, "out_channels", layer)
        (self.groups,) = as_tuple(groups, 1, "groups", layer)
        self.kernel_size = as_tuple(kernel_size, dims, "kernel_size", layer)
        self.stride = as_tuple(stride, dims, "stride", layer)
        self.dilation = as_tuple(dilation, dims, "dilation", layer)
        if out_channels % groups:
            raise ArgumentError(
                f"{layer}: out_channels ({out_channels}) must be divisible by groups ({groups})",
                key="groups",
                expected=f"a divisor of out_channels={out_channels}",
                found=repr(groups),
            )
        self.padding = padding
        self.use_bias = bias
        self.activation_spec = activation
        self.activation = get_activation(activation)
        self.init, self.bias_init = init, bias_init
        self.in_channels = in_channels
        if in_channels is not None:
            as_tuple(in_channels, 1, "in_channels", layer)
            self._check_groups(in_channels)
            self._create_parameters(in_channels, np.dtype(np.float32))
            self._built = True

    def _check_groups(self, in_channels: int) -> None:
        if in_channels % self.groups:
            raise ShapeError(
                f"{self.name}: in_channels ({in_channels}) must be divisible by groups "
                f"({self.groups})"
            )

    def _weight_shape(self, in_channels: int) -> tuple[int, ...]:
        if self.transposed:
            return (in_channels, self.out_channels // self.groups, *self.kernel_size)
        return (self.out_channels, in_channels // self.groups, *self.kernel_size)

    def _create_parameters(self, in_channels: int, dtype: np.dtype) -> None:
        self.in_channels = in_channels
        shape = self._weight_shape(in_channels)
        # torch's fan_in is weight.size(1) · kernel area, for plain and transposed conv alike
        default = torch_default_uniform(shape[1] * int(np.prod(self.kernel_size)))
        self.weight = Parameter(initialize(self.init, shape, dtype, default), dtype=dtype)
        if self.use_bias:
            bias = initialize(self.bias_init, (self.out_channels,), dtype, default)
            self.bias = Parameter(bias, dtype=dtype)
        else:
            self.register_parameter("bias", None)

    def build(self, x: Any) -> None:
        x = input_tensor(x)
        check_input(x, self.dims, self.name, None, "")
        self._check_groups(x.shape[1])
        self._create_parameters(x.shape[1], x.dtype)

    def _prepare(self, x: ArrayLike) -> Tensor:
        x = input_tensor(x, like=self.weight)
        check_input(x, self.dims, self.name, self.in_channels, "in_channels of the layer")
        return x

    def _params(self) -> tuple[Tensor, ...]:
        return (self.weight,) if self.bias is None else (self.weight, self.bias)

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding not in (0, "valid") and self.padding != [0] * self.dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if not self.use_bias:
            text += ", bias=False"
        if self.activation_spec is not None:
            text += f", activation={describe_activation(self.activation_spec)}"
        return text


class _ConvNd(_ConvBase):
    """Cross-correlation over (N, C, *spatial) → (N, out_channels, *spatial_out).

    Parameters as torch: `weight` (out_channels, in_channels/groups, *kernel_size) and `bias`
    (out_channels,), both U(±1/√fan_in) with fan_in = in_channels/groups · kernel area,
    unless `init` / `bias_init` say otherwise. `padding` is an int, a list per axis, or
    "valid" (none) / "same" (output size = input size; stride 1 only, extra padding at the
    end as torch). `activation` is applied to the output; relu is fused into the op.
    """

    def __init__(
        self,
        out_channels: Positive,
        kernel_size: IntOrList,
        stride: IntOrList = 1,
        padding: IntOrList | Literal["same", "valid"] = 0,
        dilation: IntOrList = 1,
        groups: Positive = 1,
        bias: bool = True,
        padding_mode: Literal["zeros"] = "zeros",
        activation: str | dict[str, Any] | None = None,
        init: str | dict[str, Any] | None = None,
        bias_init: str | dict[str, Any] | None = None,
        in_channels: Positive | None = None,
    ) -> None:
        super().__init__(
            out_channels, kernel_size, stride, padding, dilation, groups, bias, activation,
            init, bias_init, in_channels,
        )  # fmt: skip
        self.padding_mode = padding_mode
        self.pairs = self._padding_pairs(padding)

    def _padding_pairs(self, padding: Any) -> tuple[tuple[int, int], ...]:
        """Per-axis (before, after) zero padding."""
        if padding == "valid":
            return ((0, 0),) * self.dims
        if padding == "same":
            if self.stride != (1,) * self.dims:
                raise ArgumentError(
                    f"{self.name}: padding 'same' needs stride 1, got stride {self.stride}",
                    key="padding",
                    expected="stride 1 with padding 'same'",
                    found=f"stride {self.stride}",
                )
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size, strict=True)]
            return tuple((t // 2, t - t // 2) for t in totals)
        widths = as_tuple(padding, self.dims, "padding", self.name, minimum=0)
        return tuple((p, p) for p in widths)

    def forward(self, x: Any) -> Tensor:
        x = self._prepare(x)
        spatial = x.shape[2:]
        out = [
            ops.output_size(n, k, s, p, d)
            for n, k, s, p, d in zip(
                spatial, self.kernel_size, self.stride, self.pairs, self.dilation, strict=True
            )
        ]
        if min(out) < 1:
            raise ShapeError(
                f"{self.name}: input {x.shape} is too small for kernel_size {self.kernel_size} "
                f"with dilation {self.dilation} and padding {self.padding} (output would be "
                f"{tuple(out)})"
            )
        fuse_relu = self.activation is _RELU
        y = ops.Conv.apply(
            x,
            *self._params(),
            stride=spatial_pair(self.stride),
            padding=tuple(((0, 0),) * (2 - self.dims) + self.pairs),
            dilation=spatial_pair(self.dilation),
            groups=self.groups,
            relu=fuse_relu,
        )
        return y if fuse_relu else self.activation(y)


def spatial_pair(values: tuple[int, ...], fill: int = 1) -> tuple[int, int]:
    """(h, w) for the 2-d op: 1-d inputs run with a height-1 axis (h = `fill`)."""
    return (fill, values[0]) if len(values) == 1 else (values[0], values[1])


@LAYERS.register("conv2d", "conv2D", "convolution2d")
class Conv2d(_ConvNd):
    __doc__ = _ConvNd.__doc__
    dims = 2
    name = "conv2d"


@LAYERS.register("conv1d", "conv1D", "convolution1d")
class Conv1d(_ConvNd):
    __doc__ = _ConvNd.__doc__
    dims = 1
    name = "conv1d"


class _ConvTransposeNd(_ConvBase):
    """Transposed convolution (the gradient of a convolution w.r.t. its input) as torch.

    `weight` (in_channels, out_channels/groups, *kernel_size), `bias` (out_channels,), torch's
    default init. Output size per axis: (n−1)·stride − 2·padding + dilation·(k−1) +
    output_padding + 1, with output_padding < stride or dilation.
    """

    transposed = True

    def __init__(
        self,
        out_channels: Positive,
        kernel_size: IntOrList,
        stride: IntOrList = 1,
        padding: IntOrList = 0,
        output_padding: IntOrList = 0,
        groups: Positive = 1,
        bias: bool = True,
        dilation: IntOrList = 1,
        activation: str | dict[str, Any] | None = None,
        init: str | dict[str, Any] | None = None,
        bias_init: str | dict[str, Any] | None = None,
        in_channels: Positive | None = None,
    ) -> None:
        super().__init__(
            out_channels, kernel_size, stride, padding, dilation, groups, bias, activation,
            init, bias_init, in_channels,
        )  # fmt: skip
        self.pads = as_tuple(padding, self.dims, "padding", self.name, minimum=0)
        self.output_padding = as_tuple(
            output_padding, self.dims, "output_padding", self.name, minimum=0
        )
        for extra, s, d in zip(self.output_padding, self.stride, self.dilation, strict=True):
            if extra >= max(s, d):
                raise ArgumentError(
                    f"{self.name}: output_padding must be smaller than stride or dilation, "
                    f"got output_padding {self.output_padding}, stride {self.stride}, "
                    f"dilation {self.dilation}",
                    key="output_padding",
                    expected="values < max(stride, dilation)",
                    found=repr(output_padding),
                )

    def forward(self, x: Any) -> Tensor:
        x = self._prepare(x)
        out = [
            (n - 1) * s - 2 * p + d * (k - 1) + extra + 1
            for n, s, p, d, k, extra in zip(
                x.shape[2:], self.stride, self.pads, self.dilation, self.kernel_size,
                self.output_padding, strict=True,
            )
        ]  # fmt: skip
        if min(out) < 1:
            raise ShapeError(
                f"{self.name}: input {x.shape} with padding {self.pads} gives an empty output "
                f"{tuple(out)}"
            )
        y = ops.ConvTranspose.apply(
            x,
            *self._params(),
            stride=spatial_pair(self.stride),
            padding=spatial_pair(self.pads, fill=0),
            output_padding=spatial_pair(self.output_padding, fill=0),
            dilation=spatial_pair(self.dilation),
            groups=self.groups,
        )  # fmt: skip
        return self.activation(y)


@LAYERS.register("conv_transpose2d", "conv2d_transpose", "deconv2d")
class ConvTranspose2d(_ConvTransposeNd):
    __doc__ = _ConvTransposeNd.__doc__
    dims = 2
    name = "conv_transpose2d"


@LAYERS.register("conv_transpose1d", "conv1d_transpose", "deconv1d")
class ConvTranspose1d(_ConvTransposeNd):
    __doc__ = _ConvTransposeNd.__doc__
    dims = 1
    name = "conv_transpose1d"
