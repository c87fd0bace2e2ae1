"""Padding and nearest-neighbour upsampling layers as torch.nn.ZeroPad2d, ConstantPadNd,
ReflectionPadNd, ReplicationPadNd and Upsample(mode="nearest").

Padding widths follow torch's order, last axis first: (left, right) for 1-d, (left, right,
top, bottom) for 2-d; one int pads every side of every spatial axis. Whether the padding is
1-d or 2-d follows the list length, or for an int the input's rank ((N, C, L) or
(N, C, H, W)).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from nnrun import functional as F
from nnrun.autograd.tensor import Tensor
from nnrun.errors import ArgumentError, ShapeError
from nnrun.nn.module import Module, input_tensor
from nnrun.registry import LAYERS


def _check_widths(padding: Any, layer: str, lengths: tuple[int, ...] = (2, 4)) -> list[int]:
    widths = [padding] if isinstance(padding, int) else list(padding)
    ok = (isinstance(padding, int) or len(widths) in lengths) and all(
        isinstance(w, int) and not isinstance(w, bool) and w >= 0 for w in widths
    )
    if not ok:
        lists = " or ".join(str(n) for n in lengths)
        raise ArgumentError(
            f"{layer}: padding must be a non-negative integer or a list of {lists} of them "
            f"(last axis first: left, right[, top, bottom]), got {padding!r}",
            key="padding",
            expected=f"an integer >= 0 or a list of {lists} integers",
            found=repr(padding),
        )
    return widths


def _pairs(widths: list[int], x: Tensor, layer: str) -> list[tuple[int, int]]:
    """np.pad-style (before, after) pairs for every axis of x."""
    if len(widths) == 1:
        spatial = x.ndim - 2
        if spatial not in (1, 2):
            raise ShapeError(
                f"{layer}: an integer padding needs input (N, C, L) or (N, C, H, W), got "
                f"shape {x.shape}"
            )
        widths = widths * 2 * spatial
    axes = len(widths) // 2
    if x.ndim < axes + 1:
        raise ShapeError(
            f"{layer}: padding {widths} covers {axes} axes; the input needs at least "
            f"{axes + 1} dims, got shape {x.shape}"
        )
    # torch lists the last axis first
    per_axis = [(widths[2 * i], widths[2 * i + 1]) for i in range(axes)][::-1]
    return [(0, 0)] * (x.ndim - axes) + per_axis


class _Pad(Module):
    name = "constant_pad"

    def __init__(self, padding: int | list[int]) -> None:
        super().__init__()
        self.widths = _check_widths(padding, self.name)
        self.padding = padding

    def extra_repr(self) -> str:
        return f"padding={self.padding}"


@LAYERS.register("constant_pad", "constant_pad1d", "constant_pad2d")
class ConstantPad(_Pad):
    """Pad the last 1 or 2 axes with `value` (default 0)."""

    def __init__(self, padding: int | list[int], value: float = 0.0) -> None:
        super().__init__(padding)
        self.value = float(value)

    def forward(self, x: Any) -> Tensor:
        x = input_tensor(x)
        return F.pad(x, _pairs(self.widths, x, self.name), value=self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


@LAYERS.register("zero_pad2d", "zero_padding2d")
class ZeroPad2d(_Pad):
    """Pad the last two axes with zeros: padding int or [left, right, top, bottom]."""

    name = "zero_pad2d"

    def __init__(self, padding: int | list[int]) -> None:
        super().__init__(padding)
        if len(self.widths) == 1:
            self.widths = self.widths * 4
        elif len(self.widths) != 4:
            _check_widths(padding, self.name, lengths=(4,))

    def forward(self, x: Any) -> Tensor:
        x = input_tensor(x)
        return F.pad(x, _pairs(self.widths, x, self.name))


class _IndexPad(_Pad):
    """Padding that repeats input values: a gather along each padded axis."""

    mode: Literal["reflect", "edge"] = "reflect"

    def forward(self, x: ArrayLike) -> Tensor:
        x = input_tensor(x)
        for axis, (before, after) in enumerate(_pairs(self.widths, x, self.name)):
            if not (before or after):
                continue
            size = x.shape[axis]
            if self.mode == "reflect" and max(before, after) >= size:
                raise ShapeError(
                    f"{self.name}: padding ({before}, {after}) must be smaller than the "
                    f"padded axis (size {size} in input shape {x.shape})"
                )
            index = np.pad(np.arange(size), (before, after), mode=self.mode)
            x = F.take(x, index, axis=axis)
        return x


@LAYERS.register("reflection_pad", "reflection_pad1d", "reflection_pad2d")
class ReflectionPad(_IndexPad):
    """Pad the last 1 or 2 axes with their mirror image, edge excluded (torch's
    ReflectionPad: [1, 2, 3] padded by 2 → [3, 2, 1, 2, 3, 2, 1]); padding < axis size."""

    name = "reflection_pad"
    mode = "reflect"


@LAYERS.register("replication_pad", "replication_pad1d", "replication_pad2d")
class ReplicationPad(_IndexPad):
    """Pad the last 1 or 2 axes by repeating the edge values (torch's ReplicationPad)."""

    name = "replication_pad"
    mode = "edge"


def interpolation_matrix(size: int, out: int, align_corners: bool) -> np.ndarray:
    """(out, size) weights of torch's linear interpolation along one axis: output i reads
    source position i·(size − 1)/(out − 1) (`align_corners`) or (i + ½)·size/out − ½ clamped
    at 0, split between its two neighbouring inputs."""
    if align_corners:
        source = np.arange(out) * ((size - 1) / (out - 1) if out > 1 else 0.0)
    else:
        source = np.maximum((np.arange(out) + 0.5) * (size / out) - 0.5, 0.0)
    low = np.minimum(np.floor(source).astype(np.int64), size - 1)
    high = np.minimum(low + 1, size - 1)
    fraction = source - low
    matrix = np.zeros((out, size))
    np.add.at(matrix, (np.arange(out), low), 1 - fraction)
    np.add.at(matrix, (np.arange(out), high), fraction)
    return matrix


@LAYERS.register("upsample", "upsampling", "upsample_nearest")
class Upsample(Module):
    """Upsampling of (N, C, L) or (N, C, H, W): give an integer `scale_factor` (one, or one
    per spatial axis) or an output `size`. As torch's modes: `nearest` (output i copies input
    floor(i · in / out)), `linear` (1-d) and `bilinear` (2-d) interpolation, with
    `align_corners` (default false, as torch)."""

    def __init__(
        self,
        size: int | list[int] | None = None,
        scale_factor: int | list[int] | None = None,
        mode: Literal["nearest", "linear", "bilinear"] = "nearest",
        align_corners: bool = False,
    ) -> None:
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ArgumentError(
                "upsample needs exactly one of size and scale_factor",
                key="scale_factor" if size is None else "size",
                expected="either size or scale_factor",
                found=f"size={size!r}, scale_factor={scale_factor!r}",
            )
        for key, value in (("size", size), ("scale_factor", scale_factor)):
            values = [value] if isinstance(value, int) else value or []
            if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values):
                raise ArgumentError(
                    f"upsample: {key} must be a positive integer or a list of them, got {value!r}",
                    key=key,
                    expected="an integer >= 1 or a list of them",
                    found=repr(value),
                )
        if align_corners and mode == "nearest":
            raise ArgumentError(
                "upsample: align_corners only applies to the linear and bilinear modes (as torch)",
                key="align_corners",
                expected="mode: linear or bilinear",
                found="mode: nearest",
            )
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners = align_corners

    def _per_axis(self, value: int | list[int], spatial: int, key: str) -> list[int]:
        values = [value] * spatial if isinstance(value, int) else list(value)
        if len(values) != spatial:
            raise ShapeError(
                f"upsample: {key} {value!r} has {len(values)} values for an input with "
                f"{spatial} spatial axes"
            )
        return values

    def forward(self, x: ArrayLike) -> Tensor:
        x = input_tensor(x)
        spatial = x.ndim - 2
        if spatial not in (1, 2):
            raise ShapeError(
                f"upsample expects input (N, C, L) or (N, C, H, W), got shape {x.shape}"
            )
        if self.size is not None:
            sizes = self._per_axis(self.size, spatial, "size")
        else:
            # __init__ requires scale_factor when size is None
            factors = self._per_axis(self.scale_factor, spatial, "scale_factor")  # type: ignore[arg-type]
            sizes = [n * f for n, f in zip(x.shape[2:], factors, strict=True)]
        if self.mode != "nearest" and spatial != {"linear": 1, "bilinear": 2}[self.mode]:
            raise ShapeError(
                f"upsample mode {self.mode!r} expects input "
                f"{'(N, C, L)' if self.mode == 'linear' else '(N, C, H, W)'}, got {x.shape}"
            )
        for axis, (n, out) in enumerate(zip(x.shape[2:], sizes, strict=True), start=2):
            if self.mode != "nearest":
                weights = interpolation_matrix(n, out, self.align_corners).astype(x.dtype)
                if axis == x.ndim - 1:  # (..., W) @ (W, W')
                    x = F.matmul(x, Tensor._wrap(np.ascontiguousarray(weights.T), False))
                else:  # (H', H) @ (..., H, W)
                    x = F.matmul(Tensor._wrap(weights, False), x)
            elif out != n:
                x = F.take(x, (np.arange(out) * n) // out, axis=axis)
        return x

    def extra_repr(self) -> str:
        if self.size is not None:
            return f"size={self.size}, mode={self.mode!r}"
        return f"scale_factor={self.scale_factor}, mode={self.mode!r}"
