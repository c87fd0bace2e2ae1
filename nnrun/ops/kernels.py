"""A few NumPy and OpenBLAS calls in the form that avoids their slow paths (measured with
NumPy 2.4 and OpenBLAS 0.3.31, 1 thread). Each gives the plain call's values, except that
the two sums noted below add the same terms in another order.

- `relu_`: `np.maximum(x, 0)` with a scalar operand has no SIMD loop and runs ~3x slower
  than against an array of zeros; the zeros are views of one shared, read-only buffer.
- `row_buffers`: a ufunc over broadcast or strided operands whose contiguous rows hold fewer
  than about a third of the ufunc buffer size (8192 elements) is copied through that buffer
  by NumPy's iterator, ~3x slower than running row by row; a buffer of one row avoids it.
- `outer`: the rank-1 product of a weight gradient at batch 1, broadcast under `row_buffers`
  (OpenBLAS runs it as a K=1 GEMM ~10x slower).
- `matmul_short`, `matmul_long_short`: OpenBLAS runs products with a short side (≤ 16) and
  another side above ~8K ~3x below speed; 4096-wide blocks run at full speed (for a long
  reduction, the sum of the blocks' products: another order of the terms).
- `row_sums`, `column_sums`: the sums along the rows or columns of a matrix (a bias
  gradient, a softmax's denominators) as a product with ones, 3-4x faster than `np.sum`
  (OpenBLAS accumulates in float32 lanes, not pairwise).

The constant operands (zeros, ones) are cached read-only views, one per shape: on the hot
path of every small layer, finding them costs less than a microsecond.
"""

from __future__ import annotations

import functools
import mmap
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

BLOCK = 4096  # columns per block of `matmul_short`
SHORT = 16  # a side this short makes a long product slow in OpenBLAS
ROW_BUFFERS_MIN = 256  # shorter rows run faster through NumPy's buffers than one by one
_constants: dict[tuple[float, np.dtype], np.ndarray] = {}


def _zero_pages(length: int, dtype: np.dtype) -> np.ndarray:
    """`length` zeros in a private read-only anonymous mapping: every page reads as the
    kernel's one zero page, so reading them costs no memory traffic (np.zeros on other
    systems)."""
    flags = getattr(mmap, "MAP_PRIVATE", 0) | getattr(mmap, "MAP_ANONYMOUS", 0)
    if not flags or not hasattr(mmap, "PROT_READ"):
        return np.zeros(length, dtype)
    pages = mmap.mmap(-1, length * dtype.itemsize, flags=flags, prot=mmap.PROT_READ)
    return np.frombuffer(pages, dtype)


def _constant(value: float, size: int, dtype: np.dtype) -> np.ndarray:
    """`size` read-only elements equal to `value`: a view of a shared buffer."""
    buffer = _constants.get((value, dtype))
    if buffer is None or buffer.size < size:
        length = max(size, 1 << 16)
        buffer = np.full(length, value, dtype) if value else _zero_pages(length, dtype)
        buffer.flags.writeable = False
        _constants[value, dtype] = buffer
    return buffer[:size]


@functools.lru_cache(maxsize=256)
def _constant_view(value: float, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """`_constant` of this shape, cached (a view keeps an outgrown buffer alive: zeros are
    free pages, ones at most one buffer per cached shape)."""
    size = 1
    for n in shape:
        size *= n
    return _constant(value, size, dtype).reshape(shape)


def zeros_like(x: np.ndarray) -> np.ndarray:
    """Read-only C-contiguous zeros shaped like x (a view of one shared buffer)."""
    return _constant_view(0, x.shape, x.dtype)


def row_sums(a: np.ndarray) -> np.ndarray:
    """a (m, n) summed along its rows → (m,)."""
    sums: np.ndarray = np.dot(a, _constant_view(1, (a.shape[1],), a.dtype))
    return sums


def column_sums(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """a (m, n) summed over its rows → (n,), into `out` if given (cast to its dtype)."""
    ones = _constant_view(1, (len(a),), a.dtype)
    if out is not None and out.dtype == a.dtype:
        return np.dot(ones, a, out=out)
    sums: np.ndarray = np.dot(ones, a)
    if out is None:
        return sums
    np.copyto(out, sums)  # another dtype: cast as the engine casts a returned gradient
    return out


def relu_(x: np.ndarray) -> np.ndarray:
    """max(x, 0) in place, as `np.maximum(x, 0, out=x)`."""
    zero = zeros_like(x) if x.flags.c_contiguous else 0
    out: np.ndarray = np.maximum(x, zero, out=x)
    return out


@contextmanager
def row_buffers(row: int) -> Iterator[None]:
    """Ufuncs in this block walk rows of `row` contiguous elements one by one instead of
    copying several through a buffer (NumPy's buffer size, for this thread, set to one row
    rounded up to the multiple of 16 NumPy requires). Rows shorter than ROW_BUFFERS_MIN
    are left to the buffers, which run them faster."""
    if row < ROW_BUFFERS_MIN:
        yield
        return
    previous = np.setbufsize(-(-row // 16) * 16)
    try:
        yield
    finally:
        np.setbufsize(previous)


def outer(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """a (m,) ⊗ b (n,) → (m, n), each entry a[i]·b[j] (into `out` if given)."""
    with row_buffers(len(b)):
        product: np.ndarray = np.multiply(a[:, None], b[None, :], out=out)
        return product


def matmul_short(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a (m, k) @ b (k, n): in column blocks when a side is short and n long, as one GEMM
    otherwise. Each entry is the same dot product either way."""
    m, k = a.shape
    n = b.shape[1]
    if min(m, k) > SHORT or n <= 2 * BLOCK:
        product: np.ndarray = a @ b
        return product
    out = np.empty((m, n), np.result_type(a, b))
    for start in range(0, n, BLOCK):
        np.matmul(a, b[:, start : start + BLOCK], out=out[:, start : start + BLOCK])
    return out


def matmul_long_short(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a (m, k) @ b (k, n) with a long reduction k: when m or n is short, the sum of the
    products over 4096-long slices of k (the terms summed in another order than by one GEMM)."""
    m, k = a.shape
    n = b.shape[1]
    if min(m, n) > SHORT or k <= 2 * BLOCK:
        product: np.ndarray = a @ b
        return product
    out: np.ndarray = a[:, :BLOCK] @ b[:BLOCK]
    for start in range(BLOCK, k, BLOCK):
        out += a[:, start : start + BLOCK] @ b[start : start + BLOCK]
    return out
