"""Pooling layers as torch.nn.MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, plus
global average pooling (Keras' GlobalAveragePooling)."""

from __future__ import annotations

from typing import Any

from numpy.typing import ArrayLike

from nnrun.autograd.tensor import Tensor
from nnrun.errors import ArgumentError, ShapeError
from nnrun.nn.conv import IntOrList, as_tuple, check_input, spatial_pair
from nnrun.nn.module import Module, input_tensor
from nnrun.ops import pooling as ops
from nnrun.registry import LAYERS


class _PoolNd(Module):
    """Window geometry shared by max and average pooling."""

    dims = 2
    name = "max_pool2d"

    def _setup(
        self, kernel_size: IntOrList, stride: IntOrList | None, padding: IntOrList,
        dilation: IntOrList = 1, ceil_mode: bool = False,
    ) -> None:  # fmt: skip
        layer, dims = self.name, self.dims
        self.ceil_mode = ceil_mode
        self.kernel_size = as_tuple(kernel_size, dims, "kernel_size", layer)
        self.stride = (
            self.kernel_size if stride is None else as_tuple(stride, dims, "stride", layer)
        )
        self.padding = as_tuple(padding, dims, "padding", layer, minimum=0)
        self.dilation = as_tuple(dilation, dims, "dilation", layer)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size, strict=True)):
            raise ArgumentError(
                f"{layer}: padding {self.padding} must be at most half of kernel_size "
                f"{self.kernel_size}",
                key="padding",
                expected="padding <= kernel_size / 2",
                found=repr(padding),
            )

    def _prepare(self, x: ArrayLike) -> Tensor:
        x = input_tensor(x)
        check_input(x, self.dims, self.name, None, "")
        out = [
            ops.pooled_size(n, k, s, p, d, self.ceil_mode)
            for n, k, s, p, d in zip(
                x.shape[2:], self.kernel_size, self.stride, self.padding, self.dilation, strict=True
            )
        ]
        if min(out) < 1:
            raise ShapeError(
                f"{self.name}: input {x.shape} is smaller than the pooling window "
                f"(kernel_size {self.kernel_size}, padding {self.padding}, dilation "
                f"{self.dilation})"
            )
        return x

    def _geometry(self) -> dict[str, Any]:
        return {
            "kernel": spatial_pair(self.kernel_size, 1),
            "stride": spatial_pair(self.stride, 1),
            "padding": spatial_pair(self.padding, 0),
            "ceil_mode": self.ceil_mode,
        }

    def extra_repr(self) -> str:
        text = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        return text + (", ceil_mode=True" if self.ceil_mode else "")


class _MaxPoolNd(_PoolNd):
    """Maximum over sliding windows of (N, C, *spatial); `stride` defaults to kernel_size,
    `padding` (at most kernel_size/2) pads with −inf; `ceil_mode` keeps a last partial
    window. The gradient goes to each window's first maximal element, as torch.
    `return_indices: true` adds the output `indices`: each maximum's flat position in its
    input plane (h·W + w, int64), as torch's return_indices."""

    def __init__(
        self,
        kernel_size: IntOrList,
        stride: IntOrList | None = None,
        padding: IntOrList = 0,
        dilation: IntOrList = 1,
        ceil_mode: bool = False,
        return_indices: bool = False,
    ) -> None:
        super().__init__()
        self._setup(kernel_size, stride, padding, dilation, ceil_mode)
        self.return_indices = return_indices
        self.result_names = ("output", "indices") if return_indices else ()

    def forward(self, x: Any) -> Tensor | tuple[Tensor, Tensor]:
        x = self._prepare(x)
        geometry = {"dilation": spatial_pair(self.dilation, 1), **self._geometry()}
        out = ops.MaxPool.apply(x, **geometry)
        if not self.return_indices:
            return out
        return out, Tensor(ops.max_pool_indices(x.data, **geometry))


@LAYERS.register("max_pool2d", "maxpool2d", "max_pooling2d")
class MaxPool2d(_MaxPoolNd):
    __doc__ = _MaxPoolNd.__doc__
    dims = 2
    name = "max_pool2d"


@LAYERS.register("max_pool1d", "maxpool1d", "max_pooling1d")
class MaxPool1d(_MaxPoolNd):
    __doc__ = _MaxPoolNd.__doc__
    dims = 1
    name = "max_pool1d"


class _AvgPoolNd(_PoolNd):
    """Mean over sliding windows of (N, C, *spatial); `stride` defaults to kernel_size,
    zero `padding` counted in the mean when `count_include_pad` (torch's default);
    `ceil_mode` keeps a last partial window (its part past the padding is not counted)."""

    def __init__(
        self,
        kernel_size: IntOrList,
        stride: IntOrList | None = None,
        padding: IntOrList = 0,
        count_include_pad: bool = True,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self._setup(kernel_size, stride, padding, ceil_mode=ceil_mode)
        self.count_include_pad = count_include_pad

    def forward(self, x: Any) -> Tensor:
        x = self._prepare(x)
        return ops.AvgPool.apply(x, count_include_pad=self.count_include_pad, **self._geometry())


@LAYERS.register("avg_pool2d", "avgpool2d", "average_pooling2d")
class AvgPool2d(_AvgPoolNd):
    __doc__ = _AvgPoolNd.__doc__
    dims = 2
    name = "avg_pool2d"


@LAYERS.register("avg_pool1d", "avgpool1d", "average_pooling1d")
class AvgPool1d(_AvgPoolNd):
    __doc__ = _AvgPoolNd.__doc__
    dims = 1
    name = "avg_pool1d"


class _AdaptiveAvgPoolNd(Module):
    """Average pooling to a fixed `output_size` (an int, or one value per axis where null
    keeps that axis' input size), with torch's bins: output i averages input
    [floor(i·n/out), ceil((i+1)·n/out))."""

    dims = 2
    name = "adaptive_avg_pool2d"

    def __init__(self, output_size: int | list[int | None]) -> None:
        super().__init__()
        sizes = [output_size] * self.dims if isinstance(output_size, int) else output_size
        if len(sizes) != self.dims or not all(
            s is None or (isinstance(s, int) and s >= 1) for s in sizes
        ):
            raise ArgumentError(
                f"{self.name}: output_size must be a positive integer or a list of "
                f"{self.dims} positive integers (or nulls), got {output_size!r}",
                key="output_size",
                expected=f"an integer >= 1 or a list of {self.dims}",
                found=repr(output_size),
            )
        self.output_size = list(sizes)

    def forward(self, x: Any) -> Tensor:
        x = input_tensor(x)
        check_input(x, self.dims, self.name, None, "")
        sizes = tuple(
            n if s is None else s for s, n in zip(self.output_size, x.shape[2:], strict=True)
        )
        return ops.AdaptiveAvgPool.apply(x, output_size=spatial_pair(sizes, 1))

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


@LAYERS.register("adaptive_avg_pool2d", "adaptive_average_pooling2d")
class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    __doc__ = _AdaptiveAvgPoolNd.__doc__
    dims = 2
    name = "adaptive_avg_pool2d"


@LAYERS.register("adaptive_avg_pool1d", "adaptive_average_pooling1d")
class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    __doc__ = _AdaptiveAvgPoolNd.__doc__
    dims = 1
    name = "adaptive_avg_pool1d"


@LAYERS.register(
    "global_avg_pool", "global_average_pooling", "global_avg_pool2d", "global_avg_pool1d"
)
class GlobalAvgPool(Module):
    """Mean over every spatial axis: (N, C, *spatial) → (N, C), or (N, C, 1, ...) with
    `keepdims` (Keras' GlobalAveragePooling)."""

    def __init__(self, keepdims: bool = False) -> None:
        super().__init__()
        self.keepdims = keepdims

    def forward(self, x: ArrayLike) -> Tensor:
        x = input_tensor(x)
        if x.ndim < 3:
            raise ShapeError(
                f"global_avg_pool expects input (N, C, *spatial) with at least one spatial "
                f"axis, got shape {x.shape}"
            )
        return x.mean(axis=tuple(range(2, x.ndim)), keepdims=self.keepdims)

    def extra_repr(self) -> str:
        return f"keepdims={self.keepdims}" if self.keepdims else ""
