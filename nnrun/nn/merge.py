"""Graph-form node types that combine or rearrange tensors: add, multiply, concat, mean,
matmul, transpose, permute, index. They have no parameters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nnrun.autograd.tensor import Tensor
from nnrun.errors import ArgumentError, ShapeError
from nnrun.functional import concatenate, matmul, stack
from nnrun.nn.math import reduce
from nnrun.nn.module import Module, input_tensor
from nnrun.registry import LAYERS

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def _shapes(inputs: tuple[Any, ...]) -> str:
    return ", ".join(str(tuple(getattr(x, "shape", ()))) for x in inputs)


def _need_two_or_more(kind: str, inputs: tuple[Any, ...]) -> None:
    if len(inputs) < 2:
        raise ShapeError(f"{kind} needs at least two inputs, got {len(inputs)}")


def _broadcast_check(kind: str, inputs: tuple[Tensor, ...]) -> None:
    try:
        import numpy as np

        np.broadcast_shapes(*(x.shape for x in inputs))
    except ValueError:
        raise ShapeError(
            f"{kind}: input shapes {_shapes(inputs)} do not broadcast together"
        ) from None


@LAYERS.register("add")
class Add(Module):
    """Elementwise sum of two or more inputs (a residual connection)."""

    def forward(self, *inputs: Any) -> Tensor:
        _need_two_or_more("add", inputs)
        tensors = [input_tensor(x) for x in inputs]
        _broadcast_check("add", tuple(tensors))
        out = tensors[0]
        for x in tensors[1:]:
            out = out + x
        return out


@LAYERS.register("multiply", "mul")
class Multiply(Module):
    """Elementwise product of two or more inputs (gating)."""

    def forward(self, *inputs: Any) -> Tensor:
        _need_two_or_more("multiply", inputs)
        tensors = [input_tensor(x) for x in inputs]
        _broadcast_check("multiply", tuple(tensors))
        out = tensors[0]
        for x in tensors[1:]:
            out = out * x
        return out


@LAYERS.register("mean", "average")
class Mean(Module):
    """Elementwise mean of two or more inputs of the same shape; of one input, the mean over
    `axis` (default -1, one example's features; null for every axis), as nn/math.py's
    reductions."""

    def __init__(self, axis: int | list[int] | None = -1, keepdims: bool = False):
        super().__init__()
        self.axis, self.keepdims = axis, keepdims

    def forward(self, *inputs: Any) -> Tensor:
        if len(inputs) == 1:
            return reduce("mean", input_tensor(inputs[0]), self.axis, self.keepdims)
        _need_two_or_more("mean", inputs)
        tensors = [input_tensor(x) for x in inputs]
        if len({x.shape for x in tensors}) != 1:
            raise ShapeError(f"mean: inputs must have equal shapes, got {_shapes(inputs)}")
        return stack(tensors, axis=0).mean(axis=0)


@LAYERS.register("concat", "concatenate")
class Concat(Module):
    """Concatenate inputs along `dim` (default -1, the feature axis)."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, *inputs: Any) -> Tensor:
        _need_two_or_more("concat", inputs)
        tensors = [input_tensor(x) for x in inputs]
        ndims = {x.ndim for x in tensors}
        rest = {x.shape[: self.dim % x.ndim] + x.shape[self.dim % x.ndim + 1 :] for x in tensors}
        if len(ndims) != 1 or len(rest) != 1:
            raise ShapeError(
                f"concat(dim={self.dim}): inputs must agree on every other axis, "
                f"got {_shapes(inputs)}"
            )
        return concatenate(tensors, axis=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


@LAYERS.register("matmul")
class MatMul(Module):
    """Matrix product of two inputs with batch broadcasting (np.matmul rules)."""

    def forward(self, a: Any, b: Any) -> Tensor:
        a, b = input_tensor(a), input_tensor(b)
        if a.shape[-1] != (b.shape[-2] if b.ndim > 1 else b.shape[0]):
            raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} do not chain")
        return matmul(a, b)


@LAYERS.register("transpose")
class Transpose(Module):
    """Swap two axes (torch.transpose); axis 0 is the batch axis."""

    def __init__(self, dim0: int = -2, dim1: int = -1):
        super().__init__()
        self.dim0, self.dim1 = dim0, dim1

    def forward(self, x: ArrayLike) -> Tensor:
        x = input_tensor(x)
        for dim in (self.dim0, self.dim1):
            if not -x.ndim <= dim < x.ndim:
                raise ShapeError(f"transpose: axis {dim} is out of range for shape {x.shape}")
        return x.swapaxes(self.dim0, self.dim1)

    def extra_repr(self) -> str:
        return f"dim0={self.dim0}, dim1={self.dim1}"


@LAYERS.register("permute")
class Permute(Module):
    """Reorder all axes (torch.permute), e.g. dims [0, 2, 1]; axis 0 is the batch axis."""

    def __init__(self, dims: list[int]):
        super().__init__()
        self.dims = list(dims)

    def forward(self, x: ArrayLike) -> Tensor:
        x = input_tensor(x)
        if sorted(d % x.ndim for d in self.dims) != list(range(x.ndim)):
            raise ShapeError(f"permute: dims {self.dims} is not a permutation of shape {x.shape}")
        return x.transpose(tuple(self.dims))

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


def parse_index(spec: Any) -> Any:
    """YAML index → Python index: ints, null (new axis), "..." and slice strings "1:3", "::2"."""
    if isinstance(spec, list):
        return tuple(parse_index(part) for part in spec)
    if spec is None or isinstance(spec, int):
        return spec
    if isinstance(spec, str):
        if spec.strip() == "...":
            return Ellipsis
        parts = spec.split(":")
        if 2 <= len(parts) <= 3:
            try:
                return slice(*(int(p) if p.strip() else None for p in parts))
            except ValueError:
                pass
    raise ArgumentError(
        f"index: cannot read {spec!r} as an index",
        key="index",
        expected='an int, null, "...", a slice like "1:3", or a list of these',
        found=repr(spec),
    )


@LAYERS.register("index", "select")
class Index(Module):
    """Index a tensor (or pick one element of a layer's tuple output): `index: [":", -1]`
    takes the last time step of (N, T, F); `index: 0` on a tuple picks its first item."""

    def __init__(self, index: int | str | list[Any] | None) -> None:
        super().__init__()
        self.spec = index
        self.index = parse_index(index)

    def forward(self, x: Any) -> Any:
        if isinstance(x, (tuple, list)):
            return x[self.index]
        x = input_tensor(x)
        try:
            return x[self.index]
        except IndexError as error:
            raise ShapeError(f"index {self.spec!r} does not fit shape {x.shape}: {error}") from None

    def extra_repr(self) -> str:
        return f"index={self.spec!r}"
