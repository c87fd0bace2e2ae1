"""Reusable work arrays for the fused ops.

A fresh multi-megabyte array page-faults on first touch (4 KiB at a time) and goes back to
the OS when freed, so an op that allocates its temporaries every training step pays for
them again each time — a third of a small CNN's or LSTM's step. Two policies live here:

- `scratch(shape, dtype, slot)`: an array that never leaves one op call (convolution and
  pooling temporaries), kept per (shape, dtype, slot) between calls;
- `SCRATCH` (a `ScratchPool`): arrays that live from a forward to its backward (the
  recurrences' gates and states), taken and given back explicitly.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable

import numpy as np

SCRATCH_BYTES = 128 * 2**20
_scratch: dict[tuple, np.ndarray] = {}


def scratch(shape: tuple[int, ...], dtype: np.dtype, slot: str) -> np.ndarray:
    """A reusable work array (contents undefined) for values that never leave one op call.

    A fresh multi-megabyte array costs a page fault per 4 KiB on first touch, which took a
    third of a small CNN's training step; reusing work arrays avoids it. `slot` names the
    use, so two arrays of one shape alive at once never alias. Least recently used arrays
    are dropped beyond SCRATCH_BYTES.
    """
    key = (shape, np.dtype(dtype), slot)
    array = _scratch.pop(key, None)
    if array is None:
        array = np.empty(shape, dtype=dtype)
        if array.nbytes > SCRATCH_BYTES:
            return array
        while sum(a.nbytes for a in _scratch.values()) + array.nbytes > SCRATCH_BYTES:
            del _scratch[next(iter(_scratch))]
    _scratch[key] = array
    return array


def scratch_like(like: np.ndarray, dtype: np.dtype, slot: str) -> np.ndarray:
    """A scratch array of like's shape with like's memory order (mixing orders in one
    elementwise op makes NumPy walk an operand against its strides)."""
    memory_order = tuple(int(a) for a in np.argsort(like.strides, kind="stable")[::-1])
    shape = tuple(like.shape[a] for a in memory_order)
    return scratch(shape, dtype, slot).transpose(np.argsort(memory_order))


class ScratchPool:
    """Recycles the large work arrays of the recurrences (gates, states) between calls.

    One LSTM call needs several MB of scratch that is freed when the graph is released after
    every training step; the C allocator returns such blocks to the OS, so without reuse
    each step page-faults all of it in again (over a quarter of a small LSTM's step time).
    Buffers are flat and handed out by best fit, so varying sequence lengths share them; at
    most `limit` bytes (default 256 MiB) are kept, the most recently returned first.
    """

    def __init__(self, limit: int = 256 << 20):
        self.limit = limit
        self.free: list[np.ndarray] = []
        self.lock = threading.Lock()

    def take(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """An uninitialised C-contiguous array of `shape` and `dtype`."""
        size, dtype = math.prod(shape), np.dtype(dtype)
        with self.lock:
            fits = [k for k, b in enumerate(self.free) if b.dtype == dtype and b.size >= size]
            best = min(fits, key=lambda k: self.free[k].size, default=None)
            buffer = None if best is None else self.free.pop(best)
        if buffer is None:
            buffer = np.empty(size, dtype)
        return buffer[:size].reshape(shape)

    def give(self, arrays: Iterable[np.ndarray]) -> None:
        """Return arrays obtained from `take`; nothing may refer to them afterwards."""
        with self.lock:
            # `base` is the flat buffer a view was cut from (NumPy keeps the owner there).
            self.free += [a if a.base is None else a.base for a in arrays]
            kept, total = [], 0
            for buffer in reversed(self.free):
                if total + buffer.nbytes <= self.limit:
                    kept.append(buffer)
                    total += buffer.nbytes
            self.free = kept[::-1]


SCRATCH = ScratchPool()
