"""Helpers for ops that take preallocated `out=` arrays (see `Function.forward_out`).

An op writes into an array it is handed only where that gives bitwise the values a new
array would hold: the result must have the array's shape and dtype (a gradient in the
broadcast shape, or one computed in a wider dtype, goes back as a new array and the engine
reduces or casts it as usual). Otherwise the helpers give `...`, a ufunc's `out=` for "a
new array" that, unlike None, keeps a 0-d result an array, so in-place steps can follow.
"""

from __future__ import annotations

from types import EllipsisType

import numpy as np

from nnrun.autograd.function import Grads

Target = np.ndarray | EllipsisType
"""A ufunc's `out=`: a preallocated array, or `...` for a new one."""


def fits(buffer: np.ndarray | None, *operands: np.ndarray) -> Target:
    """`buffer` if the elementwise result of `operands` (the first one of the result's
    shape) has exactly its shape and dtype, else `...`."""
    if buffer is None or buffer.shape != operands[0].shape:
        return ...
    return buffer if np.result_type(*operands) == buffer.dtype else ...


def target(out: np.ndarray | None) -> Target:
    """A forward's `out` argument as a ufunc's `out=`."""
    return ... if out is None else out


def first(out: Grads) -> np.ndarray | None:
    """The buffer for input 0 of a one-input op's backward (None when none was handed)."""
    return out[0] if out else None
