"""Normalization layers as torch.nn.BatchNorm1d/2d, LayerNorm and GroupNorm. Sizes
(num_features, normalized_shape, num_channels) are taken from the first input unless given."""

from __future__ import annotations

import math
from typing import Annotated, Any

import numpy as np
from numpy.typing import ArrayLike

from nnrun.autograd.tensor import Tensor
from nnrun.constraints import Above, Fraction, Positive
from nnrun.errors import ArgumentError, DataError, ShapeError
from nnrun.nn.module import Module, input_tensor
from nnrun.nn.parameter import Parameter
from nnrun.ops.norm import Normalize
from nnrun.registry import LAYERS

Epsilon = Annotated[float, Above(0)]
"""A normalization's variance floor: a number > 0."""


def _affine_parameters(
    module: Module, shape: int | tuple[int, ...] | None, dtype: np.dtype, bias: bool = True
) -> None:
    """`weight` (ones) and `bias` (zeros) of `shape`; registered as None when absent, as
    torch does, so `module.weight` always exists."""
    module.register_parameter("weight", None)
    module.register_parameter("bias", None)
    if shape is not None:
        module.weight = Parameter(np.ones(shape), dtype=dtype)
        if bias:
            module.bias = Parameter(np.zeros(shape), dtype=dtype)


def _present(*params: Parameter | None) -> tuple[Parameter, ...]:
    return tuple(p for p in params if p is not None)


def _float_input(x: ArrayLike, layer: str, like: Tensor | None = None) -> Tensor:
    x = input_tensor(x, like=like)
    if x.dtype.kind != "f":
        raise DataError(f"{layer} expects floating-point inputs, got dtype {x.dtype}")
    return x


class _BatchNorm(Module):
    """Batch normalization over every axis but the channel axis 1.

    Train mode normalizes with the batch mean and biased variance and updates
    `running_mean`/`running_var` (unbiased variance) with `momentum` (None: cumulative
    average); eval mode uses the running statistics. Parameters `weight` (ones) and `bias`
    (zeros) of shape (C,) when `affine`; buffers `running_mean`, `running_var`,
    `num_batches_tracked` (int64) when `track_running_stats` — torch's names and dtypes.
    """

    name = "batch_norm2d"
    layouts: tuple[str, ...] = ("(N, C, H, W)",)
    ranks: tuple[int, ...] = (4,)

    def __init__(
        self,
        num_features: Positive | None = None,
        eps: Epsilon = 1e-5,
        momentum: Fraction | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, float(eps), momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if num_features is not None:
            self._create(num_features, np.dtype(np.float32))
            self._built = True

    def _create(self, channels: int, dtype: np.dtype) -> None:
        self.num_features = channels
        _affine_parameters(self, channels if self.affine else None, dtype)
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(channels, dtype=dtype))
            self.register_buffer("running_var", np.ones(channels, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    def _check(self, x: Tensor) -> None:
        if x.ndim not in self.ranks:
            raise ShapeError(
                f"{self.name} expects input {' or '.join(self.layouts)}, got shape {x.shape}"
            )
        if self.num_features is not None and x.shape[1] != self.num_features:
            raise ShapeError(
                f"{self.name} expects input {' or '.join(self.layouts)} with "
                f"C={self.num_features} (num_features), got {x.shape}"
            )

    def build(self, x: Any) -> None:
        x = _float_input(x, self.name)
        self._check(x)
        self._create(x.shape[1], x.dtype)

    def forward(self, x: Any) -> Tensor:
        x = _float_input(x, self.name, self.weight)
        self._check(x)
        channels = x.shape[1]
        view = (x.shape[0], channels, math.prod(x.shape[2:]))
        param_shape = (1, channels) + (1,) * (x.ndim - 2)
        batch_stats = self.training or not self.track_running_stats
        if batch_stats and view[0] * view[2] < 2 and self.training:
            raise ShapeError(
                f"{self.name} needs more than one value per channel in training, got "
                f"input {x.shape}"
            )
        running = stats = None
        if self.track_running_stats:
            buffers = (self.running_mean, self.running_var)
            if self.training:
                running = (*buffers, self.num_batches_tracked, self.momentum)
            else:
                stats = buffers
        return Normalize.apply(
            x,
            *_present(self.weight, self.bias),
            view=view,
            axes=(0, 2),
            param_shape=param_shape,
            affine=(self.weight is not None, self.bias is not None),
            batch_stats=batch_stats,
            eps=self.eps,
            running=running,
            stats=stats,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


@LAYERS.register("batch_norm2d", "batchnorm2d", "batch_normalization2d")
class BatchNorm2d(_BatchNorm):
    __doc__ = _BatchNorm.__doc__
    name = "batch_norm2d"
    layouts = ("(N, C, H, W)",)
    ranks = (4,)


@LAYERS.register("batch_norm1d", "batchnorm1d", "batch_norm", "batch_normalization")
class BatchNorm1d(_BatchNorm):
    __doc__ = _BatchNorm.__doc__
    name = "batch_norm1d"
    layouts = ("(N, C)", "(N, C, L)")
    ranks = (2, 3)


@LAYERS.register("layer_norm", "layernorm", "layer_normalization")
class LayerNorm(Module):
    """Normalize over the last len(normalized_shape) axes (default: the last axis, its size
    taken from the first input), then `weight` (ones) and `bias` (zeros) of that shape when
    `elementwise_affine` (bias only with `bias`), as torch.nn.LayerNorm."""

    def __init__(
        self,
        normalized_shape: Positive | list[Positive] | None = None,
        eps: Epsilon = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        shape = [normalized_shape] if isinstance(normalized_shape, int) else normalized_shape
        if shape is not None and not shape:
            raise ArgumentError(
                "layer_norm: normalized_shape must not be empty",
                key="normalized_shape",
                expected="an integer or a non-empty list of integers",
                found="[]",
            )
        self.eps, self.elementwise_affine, self.use_bias = float(eps), elementwise_affine, bias
        self.normalized_shape = None if shape is None else tuple(shape)
        if self.normalized_shape is not None:
            self._create(self.normalized_shape, np.dtype(np.float32))
            self._built = True

    def _create(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.normalized_shape = shape
        affine = shape if self.elementwise_affine else None
        _affine_parameters(self, affine, dtype, bias=self.use_bias)

    def _check(self, x: Tensor) -> None:
        shape = self.normalized_shape
        if shape is not None and tuple(x.shape[x.ndim - len(shape) :]) != shape:
            raise ShapeError(
                f"layer_norm expects input (..., {', '.join(map(str, shape))}) "
                f"(normalized_shape), got {x.shape}"
            )

    def build(self, x: Any) -> None:
        x = _float_input(x, "layer_norm")
        if x.ndim == 0:
            raise ShapeError("layer_norm expects input (..., features), got a scalar")
        self._create((x.shape[-1],), x.dtype)

    def forward(self, x: Any) -> Tensor:
        x = _float_input(x, "layer_norm", self.weight)
        self._check(x)
        shape: tuple[int, ...] = self.normalized_shape  # type: ignore[assignment]  # set by build
        dims = len(shape)
        view = (math.prod(x.shape[: x.ndim - dims]), math.prod(shape))
        return Normalize.apply(
            x,
            *_present(self.weight, self.bias),
            view=view,
            axes=(1,),
            eps=self.eps,
            param_shape=(1,) * (x.ndim - dims) + self.normalized_shape,
            affine=(self.weight is not None, self.bias is not None),
            batch_stats=True,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


@LAYERS.register("group_norm", "groupnorm", "group_normalization")
class GroupNorm(Module):
    """Split the C channels of (N, C, *) into `num_groups` groups and normalize each sample's
    group, then per-channel `weight` (ones) and `bias` (zeros) when `affine`, as
    torch.nn.GroupNorm. C (num_channels) is taken from the first input unless given."""

    def __init__(
        self,
        num_groups: Positive,
        num_channels: Positive | None = None,
        eps: Epsilon = 1e-5,
        affine: bool = True,
    ) -> None:
        super().__init__()
        self.num_groups, self.eps, self.affine = num_groups, float(eps), affine
        self.num_channels = num_channels
        if num_channels is not None:
            self._check_channels(num_channels)
            self._create(num_channels, np.dtype(np.float32))
            self._built = True

    def _check_channels(self, channels: int) -> None:
        if channels % self.num_groups:
            raise ShapeError(
                f"group_norm: the number of channels ({channels}) must be divisible by "
                f"num_groups ({self.num_groups})"
            )

    def _create(self, channels: int, dtype: np.dtype) -> None:
        self.num_channels = channels
        _affine_parameters(self, channels if self.affine else None, dtype)

    def _check(self, x: Tensor) -> None:
        if x.ndim < 2:
            raise ShapeError(f"group_norm expects input (N, C, *), got shape {x.shape}")
        if self.num_channels is not None and x.shape[1] != self.num_channels:
            raise ShapeError(
                f"group_norm expects input (N, C, *) with C={self.num_channels} "
                f"(num_channels), got {x.shape}"
            )

    def build(self, x: Any) -> None:
        x = _float_input(x, "group_norm")
        self._check(x)
        self._check_channels(x.shape[1])
        self._create(x.shape[1], x.dtype)

    def forward(self, x: Any) -> Tensor:
        x = _float_input(x, "group_norm", self.weight)
        self._check(x)
        view = (x.shape[0], self.num_groups, x.data.size // (x.shape[0] * self.num_groups))
        return Normalize.apply(
            x,
            *_present(self.weight, self.bias),
            view=view,
            axes=(2,),
            eps=self.eps,
            param_shape=(1, x.shape[1]) + (1,) * (x.ndim - 2),
            affine=(self.weight is not None, self.bias is not None),
            batch_stats=True,
        )

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
