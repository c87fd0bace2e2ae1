"""Max and average pooling over (N, C, H, W) (1-d as H = 1), and adaptive average pooling.

Windows are visited with a kh·kw loop over strided slices (each an (N, C, OH, OW) view), so
no window array is ever copied; the max keeps the index of the first maximal tap per window
(torch's tie rule) and its backward routes the gradient there only. Outputs and gradients
keep the input's memory layout (NumPy's order "K"), e.g. channel-major conv outputs.
"""

from __future__ import annotations

import numpy as np

from nnrun.autograd.function import Function
from nnrun.ops.conv import as_2d, like_layout

Pair = tuple[int, int]


def pooled_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil: bool) -> int:
    """Output length of a pooling along one axis, torch's formula: with `ceil` (ceil_mode)
    a last partial window counts if it starts inside the input or its left padding."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil else 0)) // stride + 1
    if ceil and (out - 1) * stride >= size + pad:
        out -= 1
    return out


class _Windows:
    """Geometry of a pooling: where each kernel tap's strided slice lies in the padded input
    (padded on the right by `extra` more for ceil_mode's last partial window)."""

    def __init__(
        self,
        shape: tuple[int, ...],
        kernel: Pair,
        stride: Pair,
        padding: Pair,
        dilation: Pair,
        ceil_mode: bool = False,
    ):
        self.padding = padding
        self.out_hw = tuple(
            pooled_size(size, k, s, p, d, ceil_mode)
            for size, k, s, p, d in zip(shape[2:], kernel, stride, padding, dilation)
        )
        self.extra = tuple(
            max(0, (n - 1) * s + d * (k - 1) + 1 - (size + 2 * p))
            for n, size, k, s, p, d in zip(
                self.out_hw, shape[2:], kernel, stride, padding, dilation
            )
        )
        self.padded = tuple(size + 2 * p + e for size, p, e in zip(shape[2:], padding, self.extra))
        h_span = stride[0] * (self.out_hw[0] - 1) + 1
        w_span = stride[1] * (self.out_hw[1] - 1) + 1
        self.taps = [
            (
                slice(i * dilation[0], i * dilation[0] + h_span, stride[0]),
                slice(j * dilation[1], j * dilation[1] + w_span, stride[1]),
            )
            for i in range(kernel[0])
            for j in range(kernel[1])
        ]
        # taps never share an input element: the backward may assign instead of add
        self.disjoint = all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
        # ... and together they cover every input element exactly once (e.g. 2×2, stride 2)
        self.tiling = dilation == (1, 1) and all(
            s == k and size == k * n
            for k, s, size, n in zip(kernel, stride, self.padded, self.out_hw)
        )

    def pad(self, x: np.ndarray, value: float) -> np.ndarray:
        ph, pw = self.padding
        if not (ph or pw or any(self.extra)):
            return x
        out = np.full((*x.shape[:2], *self.padded), value, dtype=x.dtype)
        out[:, :, ph : ph + x.shape[2], pw : pw + x.shape[3]] = x
        return out

    def crop(self, padded: np.ndarray) -> np.ndarray:
        ph, pw = self.padding
        h, w = (n - 2 * p - e for n, p, e in zip(self.padded, self.padding, self.extra))
        return padded[:, :, ph : ph + h, pw : pw + w]


class MaxPool(Function):
    """torch.nn.functional.max_pool1d/2d: x (N, C, [H,] W), padding with −inf (also past the
    end for `ceil_mode`); the gradient goes to the first maximal element of each window
    (torch's rule).

    The forward is a chain of np.maximum over the taps; which tap won is only worked out in
    backward (cheap comparisons against the saved output), so inference pays nothing for it.
    """

    def forward(
        self,
        x: np.ndarray,
        *,
        kernel: Pair,
        stride: Pair,
        padding: Pair,
        dilation: Pair,
        ceil_mode: bool = False,
    ) -> np.ndarray:
        self.one_d = x.ndim == 3
        x = as_2d(x)
        windows = _Windows(x.shape, kernel, stride, padding, dilation, ceil_mode)
        xp = windows.pad(x, -np.inf)
        taps = [xp[(..., *tap)] for tap in windows.taps]
        out = np.maximum(taps[0], taps[1]) if len(taps) > 1 else np.array(taps[0], order="K")
        for tap in taps[2:]:
            np.maximum(out, tap, out=out)
        self.windows, self.xp, self.out = windows, xp, out
        return out[:, :, 0] if self.one_d else out

    def backward(self, grad: np.ndarray) -> tuple:
        grad = like_layout(as_2d(grad), self.out)
        windows, xp, out = self.windows, self.xp, self.out
        grad_x = np.empty_like(xp) if windows.tiling else np.zeros_like(xp)
        # Per tap, the windows whose maximum it holds and no earlier tap held: the masks are
        # output-shaped and contiguous, so only the comparison and the product walk the
        # strided tap.
        winners = np.empty_like(out, dtype=bool)
        first = np.empty_like(out, dtype=bool)
        claimed = np.zeros_like(out, dtype=bool)
        last = len(windows.taps) - 1
        for k, tap in enumerate(windows.taps):
            np.equal(xp[(..., *tap)], out, out=winners)
            np.less(claimed, winners, out=first)  # winners not claimed yet (False < True)
            if k < last:
                claimed |= winners
            target = grad_x[(..., *tap)]
            if windows.disjoint:
                np.multiply(grad, first, out=target)
            else:
                target += grad * first
        grad_x = windows.crop(grad_x)
        return (grad_x[:, :, 0] if self.one_d else grad_x,)


class AvgPool(Function):
    """torch.nn.functional.avg_pool1d/2d: zero padding; each window is divided by its number
    of elements inside the padded input (`count_include_pad`) or inside the input; a
    ceil_mode window's part past the padding never counts."""

    def forward(
        self,
        x: np.ndarray,
        *,
        kernel: Pair,
        stride: Pair,
        padding: Pair,
        count_include_pad: bool = True,
        ceil_mode: bool = False,
    ) -> np.ndarray:
        self.one_d = x.ndim == 3
        x = as_2d(x)
        windows = _Windows(x.shape, kernel, stride, padding, (1, 1), ceil_mode)
        xp = windows.pad(x, 0.0)
        total = np.array(xp[(..., *windows.taps[0])], order="K")
        for tap in windows.taps[1:]:
            total += xp[(..., *tap)]
        if not any(windows.extra) and (count_include_pad or not any(padding)):
            divisor: np.ndarray | float = float(len(windows.taps))
        else:
            counted = np.zeros((1, 1, *windows.padded), dtype=x.dtype)
            (ph, pw), (h, w) = padding, x.shape[2:]
            if count_include_pad:
                counted[..., : h + 2 * ph, : w + 2 * pw] = 1
            else:
                counted[..., ph : ph + h, pw : pw + w] = 1
            divisor = sum(counted[(..., *tap)] for tap in windows.taps)
        total /= divisor
        self.windows, self.divisor, self.x_like, self.out = windows, divisor, xp, total
        return total[:, :, 0] if self.one_d else total

    def backward(self, grad: np.ndarray) -> tuple:
        share = like_layout(as_2d(grad), self.out) / self.divisor
        grad_x = np.zeros_like(self.x_like)
        for tap in self.windows.taps:
            grad_x[(..., *tap)] += share
        grad_x = self.windows.crop(grad_x)
        return (grad_x[:, :, 0] if self.one_d else grad_x,)


def max_pool_indices(
    x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, ceil_mode: bool
) -> np.ndarray:
    """torch's return_indices for max pooling: per output, the flat index (h·W + w) in its
    input plane of the window's first maximal element, as int64 shaped like the output."""
    one_d = x.ndim == 3
    x = as_2d(x)
    windows = _Windows(x.shape, kernel, stride, padding, dilation, ceil_mode)
    xp = windows.pad(x, -np.inf)
    taps = [xp[(..., *tap)] for tap in windows.taps]
    out = np.maximum.reduce(taps) if len(taps) > 1 else taps[0]
    rows = np.arange(windows.out_hw[0])[:, None] * stride[0] - padding[0]
    cols = np.arange(windows.out_hw[1])[None, :] * stride[1] - padding[1]
    best = np.full(out.shape, -1, dtype=np.int64)
    offsets = [
        (i * dilation[0], j * dilation[1]) for i in range(kernel[0]) for j in range(kernel[1])
    ]
    for tap, (di, dj) in zip(taps, offsets):
        found = (tap == out) & (best < 0)
        np.copyto(best, (rows + di) * x.shape[3] + cols + dj, where=found)
    return best[:, :, 0] if one_d else best


def adaptive_matrix(size: int, out_size: int, dtype: np.dtype) -> np.ndarray:
    """(out_size, size) averaging matrix of torch's adaptive pooling bins:
    bin i covers [floor(i·size/out), ceil((i+1)·size/out))."""
    matrix = np.zeros((out_size, size), dtype=dtype)
    for i in range(out_size):
        start = (i * size) // out_size
        end = -((-(i + 1) * size) // out_size)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


class AdaptiveAvgPool(Function):
    """torch.nn.functional.adaptive_avg_pool1d/2d as Ph @ x @ Pwᵀ over the last two axes."""

    def forward(self, x: np.ndarray, *, output_size: Pair) -> np.ndarray:
        self.one_d = x.ndim == 3
        x = as_2d(x)
        self.rows = adaptive_matrix(x.shape[2], output_size[0], x.dtype)
        self.cols = adaptive_matrix(x.shape[3], output_size[1], x.dtype)
        out = np.matmul(np.matmul(self.rows, x), self.cols.T)
        return out[:, :, 0] if self.one_d else out

    def backward(self, grad: np.ndarray) -> tuple:
        grad_x = np.matmul(np.matmul(self.rows.T, as_2d(grad)), self.cols)
        return (grad_x[:, :, 0] if self.one_d else grad_x,)
