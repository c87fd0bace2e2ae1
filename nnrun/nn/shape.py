"""Layers that only rearrange values: Flatten (as torch.nn.Flatten) and Reshape (per example,
as keras.layers.Reshape). The identity layer is the `identity` activation layer."""

from __future__ import annotations

import math
from typing import Literal

from numpy.typing import ArrayLike

from nnrun.autograd.tensor import Tensor
from nnrun.errors import ArgumentError, ShapeError
from nnrun.nn.module import Module, input_tensor
from nnrun.registry import LAYERS


@LAYERS.register("flatten")
class Flatten(Module):
    """Merge dims start_dim..end_dim (inclusive; negative counts from the end) into one:
    (N, C, H, W) → (N, C·H·W) with the defaults start_dim=1, end_dim=-1."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: ArrayLike) -> Tensor:
        x = input_tensor(x)
        ndim = max(x.ndim, 1)
        start = self.start_dim + ndim if self.start_dim < 0 else self.start_dim
        end = self.end_dim + ndim if self.end_dim < 0 else self.end_dim
        if not (0 <= start < ndim and 0 <= end < ndim):
            raise ShapeError(
                f"flatten(start_dim={self.start_dim}, end_dim={self.end_dim}) needs an input "
                f"with dims {self.start_dim} and {self.end_dim}, got shape {x.shape}"
            )
        if start > end:
            raise ShapeError(
                f"flatten: start_dim={self.start_dim} comes after end_dim={self.end_dim} "
                f"for an input of shape {x.shape}"
            )
        shape = (*x.shape[:start], math.prod(x.shape[start : end + 1]), *x.shape[end + 1 :])
        return x.reshape(shape)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


@LAYERS.register("reshape")
class Reshape(Module):
    """Reshape each example to `shape`, keeping the batch dim: (N, 784) → (N, 1, 28, 28)
    with `shape: [1, 28, 28]`. One entry may be -1 (inferred). `order: F` reads and writes
    each example column-major (NumPy's order="F"; vec(X) stacks X's columns)."""

    def __init__(self, shape: list[int], order: Literal["C", "F"] = "C") -> None:
        super().__init__()
        bad = [s for s in shape if s == 0 or s < -1]
        if bad or list(shape).count(-1) > 1:
            raise ArgumentError(
                f"reshape: shape must hold positive sizes and at most one -1, got {list(shape)}",
                key="shape",
                expected="positive integers, at most one -1",
                found=repr(list(shape)),
            )
        self.shape, self.order = tuple(shape), order

    def forward(self, x: ArrayLike) -> Tensor:
        x = input_tensor(x)
        if x.ndim == 0:
            raise ShapeError(f"reshape to {list(self.shape)} needs a batch dim, got a scalar")
        per_example = math.prod(x.shape[1:])
        known = math.prod(s for s in self.shape if s != -1)
        fits = per_example % known == 0 if -1 in self.shape else per_example == known
        if not fits:
            raise ShapeError(
                f"reshape to (N, {', '.join(map(str, self.shape))}) cannot take input of shape "
                f"{x.shape}: {per_example} values per example"
            )
        if self.order == "C":
            return x.reshape((x.shape[0], *self.shape))
        # column-major = reverse the example's axes, reshape to the reversed shape, reverse
        shape = [per_example // known if s == -1 else s for s in self.shape]
        x = x.transpose((0, *range(x.ndim - 1, 0, -1))).reshape((x.shape[0], *shape[::-1]))
        return x.transpose((0, *range(x.ndim - 1, 0, -1)))

    def extra_repr(self) -> str:
        return f"shape={list(self.shape)}" + (", order='F'" if self.order == "F" else "")
