"""Helpers for ops that take preallocated `out=` arrays (see `Function.forward_out`).

An op writes into an array it is handed only where that gives bitwise what a new array
would hold, laid out the same way: the result must have the array's shape and dtype (a
gradient in the broadcast shape, or one computed in a wider dtype, goes back as a new array
and the engine reduces or casts it as usual), and the operands must be C-contiguous. A ufunc
lays its new result out as its operands are laid out, and later reductions add in memory
order: a C-contiguous buffer standing in for a transposed result would change their sums.

Otherwise the helpers give `...`, a ufunc's `out=` for "a new array" that, unlike None,
keeps a 0-d result an array, so in-place steps can follow.
"""

from __future__ import annotations

from types import EllipsisType

import numpy as np

from nnrun.autograd.function import Grads

Target = np.ndarray | EllipsisType
"""A ufunc's `out=`: a preallocated array, or `...` for a new one."""


def contiguous(*operands: np.ndarray) -> bool:
    """Whether every operand is C-contiguous (so is then a ufunc's new result)."""
    return all(operand.flags.c_contiguous for operand in operands)


def target(out: np.ndarray | None, *operands: np.ndarray) -> Target:
    """A forward's `out` (the value's shape and dtype) as a ufunc's `out=` for a result
    computed from `operands`."""
    return out if out is not None and contiguous(*operands) else ...


def fits(buffer: np.ndarray | None, *operands: np.ndarray) -> Target:
    """`buffer` for the elementwise result of `operands` (the first one of the result's
    shape) if it has exactly the buffer's shape, dtype and layout, else `...`."""
    if buffer is None or buffer.shape != operands[0].shape or not contiguous(*operands):
        return ...
    return buffer if np.result_type(*operands) == buffer.dtype else ...


def first(out: Grads) -> np.ndarray | None:
    """The buffer for input 0 of a one-input op's backward (None when none was handed)."""
    return out[0] if out else None


def clip(x: np.ndarray, low: float | None, high: float | None, out: Target) -> np.ndarray:
    """np.clip with a `Target` as `out=` (np.clip's signature does not take `...`)."""
    value: np.ndarray = np.clip(x, low, high, out=None if out is ... else out)
    return value
