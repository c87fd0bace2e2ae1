"""Shape and indexing ops: reshape, transpose, broadcast, indexing, concatenate, stack, pad."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrun.autograd.function import Function, Grads
from nnrun.ops.buffers import contiguous, first


def plain_index(index: Any) -> Any:
    """Replace Tensors (and lists) inside an index by ndarrays."""
    if isinstance(index, tuple):
        return tuple(plain_index(i) for i in index)
    if hasattr(index, "data") and isinstance(index.data, np.ndarray):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _is_advanced(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) for p in parts)


class Reshape(Function):
    def forward(self, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, grad: np.ndarray) -> Grads:
        return (grad.reshape(self.shape),)


class Transpose(Function):
    def forward(self, x: np.ndarray, axes: tuple[int, ...] | None) -> np.ndarray:
        self.inverse = None if axes is None else tuple(np.argsort(axes))
        return x.transpose(axes)

    def backward(self, grad: np.ndarray) -> Grads:
        return (grad.transpose(self.inverse),)


class BroadcastTo(Function):
    def forward(self, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        return np.broadcast_to(x, shape)

    def backward(self, grad: np.ndarray) -> Grads:
        return (grad,)  # the engine sums it back to the input's shape


class Cast(Function):
    def forward(self, x: np.ndarray, dtype: np.dtype) -> np.ndarray:
        return x.astype(dtype)

    def backward(self, grad: np.ndarray) -> Grads:
        return (grad,)  # the engine casts it back to the input's dtype


class GetItem(Function):
    """x[index] for ints, slices, None, Ellipsis, integer arrays and boolean masks.

    Integer-array indices may repeat an element; its gradient then accumulates (np.add.at).
    The backward scatters into an `out=` array when handed one (see Function).
    """

    backward_out = True

    def forward(self, x: np.ndarray, index: Any) -> np.ndarray:
        self.shape, self.dtype, self.index = x.shape, x.dtype, index
        out: np.ndarray = x[index]
        return out

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        full = _zeros(first(out), self.shape, self.dtype)
        if _is_advanced(self.index):
            np.add.at(full, self.index, grad)
        else:
            full[self.index] = grad
        return (full,)


class Take(Function):
    """np.take(x, indices, axis): gather along one axis; repeated indices accumulate. The
    backward scatters into an `out=` array when handed one (see Function)."""

    backward_out = True

    def forward(self, x: np.ndarray, indices: np.ndarray, axis: int) -> np.ndarray:
        self.shape, self.dtype = x.shape, x.dtype
        self.indices, self.axis = indices, axis % x.ndim
        return np.take(x, indices, axis=self.axis)

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        full = _zeros(first(out), self.shape, self.dtype)
        moved = np.moveaxis(full, self.axis, 0)
        index_ndim = np.ndim(self.indices)
        grad_moved = np.moveaxis(
            grad, tuple(range(self.axis, self.axis + index_ndim)), tuple(range(index_ndim))
        )
        np.add.at(moved, self.indices, grad_moved)
        return (full,)


def _zeros(buffer: np.ndarray | None, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A zeroed gradient of `shape`: the buffer handed to the backward, or a new array."""
    if buffer is None:
        return np.zeros(shape, dtype=dtype)
    buffer.fill(0)
    return buffer


def _joined(out: np.ndarray | None, arrays: tuple[np.ndarray, ...]) -> np.ndarray | None:
    """`out` for np.concatenate/np.stack of C-contiguous arrays (a new result would then be
    C-contiguous too; it follows its inputs' layout otherwise)."""
    return out if out is not None and contiguous(*arrays) else None


class Concatenate(Function):
    """np.concatenate; takes an `out=` array forward (see Function)."""

    forward_out = True

    def forward(self, *arrays: np.ndarray, axis: int, out: np.ndarray | None = None) -> np.ndarray:
        self.axis = axis
        self.splits = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis, out=_joined(out, arrays))

    def backward(self, grad: np.ndarray) -> Grads:
        return tuple(np.split(grad, self.splits, axis=self.axis))


class Stack(Function):
    """np.stack; takes an `out=` array forward (see Function)."""

    forward_out = True

    def forward(self, *arrays: np.ndarray, axis: int, out: np.ndarray | None = None) -> np.ndarray:
        value = np.stack(arrays, axis=axis, out=_joined(out, arrays))
        self.axis = axis % value.ndim
        return value

    def backward(self, grad: np.ndarray) -> Grads:
        return tuple(np.moveaxis(grad, self.axis, 0))


class Pad(Function):
    """Constant padding; `pad_width` as in np.pad."""

    def forward(self, x: np.ndarray, pad_width: Any, value: float) -> np.ndarray:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
        self.region = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape, strict=True))
        return np.pad(x, widths, mode="constant", constant_values=value)

    def backward(self, grad: np.ndarray) -> Grads:
        return (grad[self.region],)
