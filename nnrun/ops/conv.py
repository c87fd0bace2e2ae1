"""Convolution and transposed convolution as strided im2col + one GEMM (forward and backward).

The im2col matrix is (C·kh·kw, P) with P the N·OH·OW output positions, gathered by one copy
from a copy-free window view; the GEMM `W (O, C·kh·kw) @ cols` then needs no transposes and
gives (O, P), returned as an (N, O, OH, OW) *view*. The order of the positions P is the
memory layout of the activations: "batch innermost" (C, H, W, N) for batches of
BATCH_INNER_MIN or more, so every copy, col2im add and pooling slice runs its inner loop over
N contiguous values; "channel-major" (C, N, H, W) for small batches. NumPy ufuncs keep the
layout (order "K"), so gradients come back in it and reshape to (O, P) for free.
Without groups, the bias is the GEMM's last weight column against a row of ones below the
patches, and `Conv` keeps the patches for the weight and bias gradients (one GEMM gives both)
while training; inference gathers them once and drops them.
1-d convolutions run as 2-d with H = 1.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from nnrun.autograd.function import Function, Grads
from nnrun.ops.kernels import matmul_long_short, matmul_short, relu_, row_buffers, row_sums

Pair = tuple[int, int]
Order = tuple[int, int, int, int]  # memory order of the logical (N, C, H, W) axes
BATCH_INNER: Order = (1, 2, 3, 0)
CHANNEL_MAJOR: Order = (1, 0, 2, 3)
BATCH_INNER_MIN = 16


def layout_for(batch: int) -> Order:
    return BATCH_INNER if batch >= BATCH_INNER_MIN else CHANNEL_MAJOR


def empty_in(
    shape: tuple[int, ...], order: Order, dtype: np.dtype, zero: bool = True
) -> np.ndarray:
    """An (N, C, H, W) array whose memory is laid out in `order`."""
    make = np.zeros if zero else np.empty
    return make([shape[a] for a in order], dtype=dtype).transpose(np.argsort(order))


def to_rows(array: np.ndarray, order: Order) -> np.ndarray:
    """(N, C, H, W) → (C, P) with positions in `order`; free when the memory is in it."""
    return array.transpose(order).reshape(array.shape[1], -1)


def from_rows(rows: np.ndarray, shape: tuple[int, ...], order: Order) -> np.ndarray:
    """(C, P) → the (N, C, H, W) view of `shape`, positions read in `order`."""
    return rows.reshape([shape[a] for a in order]).transpose(np.argsort(order))


def output_size(size: int, kernel: int, stride: int, pad: Pair, dilation: int) -> int:
    """Output length of a convolution along one axis (torch's formula, floor)."""
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


def like_layout(array: np.ndarray, like: np.ndarray) -> np.ndarray:
    """`array`'s values in `like`'s memory order (a copy only when the orders differ): mixing
    layouts in one elementwise op makes NumPy walk one operand against its strides."""
    if array.strides == like.strides or np.array_equal(
        np.argsort(array.strides), np.argsort(like.strides)
    ):
        return array
    out = np.empty_like(like, dtype=array.dtype)
    out[...] = array
    return out


def pad_to(x: np.ndarray, padding: tuple[Pair, Pair], order: Order) -> np.ndarray:
    """Zero-pad the spatial axes of x (N, C, H, W) into memory laid out in `order` (x itself
    when there is nothing to pad and it is already in that layout)."""
    (top, bottom), (left, right) = padding
    n, c, h, w = x.shape
    if not (top or bottom or left or right) and x.transpose(order).flags.c_contiguous:
        return x
    padded = (n, c, h + top + bottom, w + left + right)
    out = empty_in(padded, order, x.dtype, zero=padded != x.shape)
    out[:, :, top : top + h, left : left + w] = x
    return out


def im2col(
    xp: np.ndarray,
    kernel: Pair,
    stride: Pair,
    dilation: Pair,
    out_hw: Pair,
    order: Order,
    ones_row: bool = False,
) -> np.ndarray:
    """The (C·kh·kw, P) patch matrix of padded xp (N, C, Hp, Wp), positions in `order`: one
    copy out of a strided window view. With `ones_row`, a last row of ones below it (a bias
    as the weights' last column then rides in the GEMM)."""
    n, c = xp.shape[:2]
    sn, sc, sh, sw = xp.strides
    windows = as_strided(
        xp,
        shape=(c, kernel[0], kernel[1], n, out_hw[0], out_hw[1]),
        strides=(sc, sh * dilation[0], sw * dilation[1], sn, sh * stride[0], sw * stride[1]),
        writeable=False,
    )
    windows = windows.transpose(0, 1, 2, *(3 + a for a in _position_axes(order)))
    taps = c * kernel[0] * kernel[1]
    cols = np.empty((taps + ones_row, windows[0, 0, 0].size), xp.dtype)
    np.copyto(cols[:taps].reshape(windows.shape), windows)
    if ones_row:
        cols[taps] = 1
    return cols


def _position_axes(order: Order) -> tuple[int, ...]:
    """The (N, H, W) axes (numbered 0, 1, 2) in the memory order of the positions."""
    return tuple(a if a == 0 else a - 1 for a in order if a != 1)


def col2im(
    cols: np.ndarray,
    padded_shape: tuple[int, int, int, int],
    kernel: Pair,
    stride: Pair,
    dilation: Pair,
    out_hw: Pair,
    order: Order,
) -> np.ndarray:
    """Adjoint of im2col: add each kernel tap's (C, P) block into a zero (N, C, Hp, Wp) array
    (memory in `order`) at its shifted, strided position — a kh·kw loop."""
    n, c = padded_shape[:2]
    kh, kw = kernel
    blocks = cols.reshape(c, kh, kw, -1)
    out = empty_in(padded_shape, order, cols.dtype)
    h_span, w_span = stride[0] * (out_hw[0] - 1) + 1, stride[1] * (out_hw[1] - 1) + 1
    # the contiguous run of each tap's slice: a row of W (and N, batch innermost)
    run = (n if order == BATCH_INNER else 1) * (out_hw[1] if stride[1] == 1 else 1)
    with row_buffers(run):
        for i in range(kh):
            top = i * dilation[0]
            for j in range(kw):
                left = j * dilation[1]
                block = from_rows(blocks[:, i, j], (n, c, *out_hw), order)
                out[:, :, top : top + h_span : stride[0], left : left + w_span : stride[1]] += block
    return out


def grouped_matmul(
    a: np.ndarray,
    b: np.ndarray,
    groups: int,
    transpose_a: bool = False,
) -> np.ndarray:
    """Block-diagonal product: a's G row blocks (each (p, q), or (q, p) transposed when
    `transpose_a`) times b's G row blocks (q, r) → (G·p, r). One GEMM when groups == 1."""
    if groups == 1:
        return matmul_short(a.T if transpose_a else a, b)
    blocks = a.reshape(groups, -1, a.shape[1])
    if transpose_a:
        blocks = blocks.transpose(0, 2, 1)
    b_blocks = b.reshape(groups, blocks.shape[2], -1)
    out: np.ndarray = np.matmul(blocks, b_blocks).reshape(-1, b.shape[1])
    return out


def grouped_outer(a: np.ndarray, b: np.ndarray, groups: int) -> np.ndarray:
    """Per group a_g (p, P) @ b_g (q, P)ᵀ → (G·p, q): the weight gradient, one GEMM per
    group over all N·OH·OW positions."""
    if groups == 1:
        # OpenBLAS runs this long-K product faster with the taller operand first
        if b.shape[0] > a.shape[0]:
            return matmul_long_short(b, a.T).T
        return matmul_long_short(a, b.T)
    positions = a.shape[1]
    out: np.ndarray = np.matmul(
        a.reshape(groups, -1, positions), b.reshape(groups, -1, positions).transpose(0, 2, 1)
    )
    return out.reshape(-1, out.shape[2])


def as_2d(x: np.ndarray) -> np.ndarray:
    """(N, C, L) → (N, C, 1, L) view; 4-d arrays unchanged."""
    return x[:, :, None, :] if x.ndim == 3 else x


class Conv(Function):
    """Cross-correlation as torch.nn.functional.conv1d/conv2d, optionally + bias + relu.

    x (N, C, [H,] W), weight (O, C/groups, [kh,] kw), bias (O,) or None; stride, dilation as
    (h, w) pairs and padding as ((top, bottom), (left, right)) — 1-d inputs use h = 1, pad 0.
    """

    def forward(
        self,
        x: np.ndarray,
        weight: np.ndarray,
        bias: np.ndarray | None = None,
        *,
        stride: Pair,
        padding: tuple[Pair, Pair],
        dilation: Pair,
        groups: int,
        relu: bool = False,
    ) -> np.ndarray:
        self.one_d = x.ndim == 3
        x, weight4 = as_2d(x), as_2d(weight)
        out_channels, _, kh, kw = weight4.shape
        order = layout_for(x.shape[0])
        xp = pad_to(x, padding, order)
        out_hw = (
            output_size(x.shape[2], kh, stride[0], padding[0], dilation[0]),
            output_size(x.shape[3], kw, stride[1], padding[1], dilation[1]),
        )
        # Without groups the bias is the weights' last column against a row of ones: one
        # pass over the output fewer, and its gradient comes out of the weight gradient's GEMM.
        self.bias_in_gemm = bias is not None and groups == 1
        cols = im2col(xp, (kh, kw), stride, dilation, out_hw, order, self.bias_in_gemm)
        weight2 = weight4.reshape(out_channels, -1)
        if bias is not None and self.bias_in_gemm:
            out = matmul_short(np.concatenate((weight2, bias[:, None]), axis=1), cols)
        else:
            out = grouped_matmul(weight2, cols, groups)
            if bias is not None:
                out += bias[:, None]
        if relu:
            relu_(out)
        # The parameters' gradients reuse the patches (as torch's slow conv keeps `finput`):
        # gathering them again rewrote the whole patch matrix, ~5% of a small CNN's step.
        needs = self.needs_input_grad
        self.cols = cols if needs[1] or (self.bias_in_gemm and needs[2]) else None
        self.weight2, self.out, self.relu = weight2, out, relu
        self.geometry = (xp.shape, padding, (kh, kw), stride, dilation, out_hw, groups, order)
        self.x_shape, self.weight_shape = x.shape, weight.shape
        result = from_rows(out, (x.shape[0], out_channels, *out_hw), order)
        return result[:, :, 0] if self.one_d else result

    def backward(self, grad: np.ndarray) -> Grads:
        needs = self.needs_input_grad
        padded_shape, padding, kernel, stride, dilation, out_hw, groups, order = self.geometry
        grad_rows = to_rows(as_2d(grad), order)
        if self.relu:  # grad * (out > 0), the mask cast first (as fused.Linear: ~20% faster)
            mask = (self.out > 0).astype(grad_rows.dtype)
            grad_rows = np.multiply(grad_rows, mask, out=mask)
        grad_x = grad_w = grad_b = None
        bias_grad = len(needs) == 3 and needs[2]
        if needs[1] or (bias_grad and self.bias_in_gemm):
            assert self.cols is not None, "forward keeps the patches when a parameter needs them"
            product = grouped_outer(grad_rows, self.cols, groups)
            if self.bias_in_gemm:
                grad_b = product[:, -1].copy() if bias_grad else None
                product = product[:, :-1]
            if needs[1]:
                grad_w = product.reshape(self.weight_shape)
        if bias_grad and grad_b is None:
            grad_b = row_sums(grad_rows)
        if needs[0]:
            cols_grad = grouped_matmul(
                self.weight2,
                grad_rows,
                groups,
                transpose_a=True,
            )
            padded = col2im(cols_grad, padded_shape, kernel, stride, dilation, out_hw, order)
            (top, _), (left, _) = padding
            h, w = self.x_shape[2:]
            grad_x = padded[:, :, top : top + h, left : left + w]
            if self.one_d:
                grad_x = grad_x[:, :, 0]
        return (grad_x, grad_w, grad_b)[: len(needs)]


class ConvTranspose(Function):
    """Transposed convolution as torch.nn.functional.conv_transpose1d/2d (the adjoint of
    Conv): x (N, Cin, [H,] W), weight (Cin, Cout/groups, [kh,] kw), bias (Cout,) or None.

    The output is cropped by `padding` on both sides and extended by `output_padding` at the
    end: OH = (H−1)·stride − 2·padding + dilation·(kh−1) + output_padding + 1.
    """

    def forward(
        self,
        x: np.ndarray,
        weight: np.ndarray,
        bias: np.ndarray | None = None,
        *,
        stride: Pair,
        padding: Pair,
        output_padding: Pair,
        dilation: Pair,
        groups: int,
    ) -> np.ndarray:
        self.one_d = x.ndim == 3
        x, weight4 = as_2d(x), as_2d(weight)
        in_channels, out_per_group, kh, kw = weight4.shape
        n, _, h, w = x.shape
        full = tuple(
            (size - 1) * s + d * (k - 1) + 1 + extra
            for size, s, d, k, extra in zip(
                (h, w), stride, dilation, (kh, kw), output_padding, strict=True
            )
        )
        order = layout_for(n)
        x_rows = to_rows(x, order)
        weight2 = weight4.reshape(in_channels, -1)
        cols = grouped_matmul(
            weight2,
            x_rows,
            groups,
            transpose_a=True,
        )
        out_channels = out_per_group * groups
        padded = col2im(cols, (n, out_channels, *full), (kh, kw), stride, dilation, (h, w), order)
        out = padded[:, :, padding[0] : full[0] - padding[0], padding[1] : full[1] - padding[1]]
        if bias is not None:
            out += bias[:, None, None]
        self.x_rows, self.weight2 = x_rows, weight2
        self.geometry = (padding, (kh, kw), stride, dilation, (h, w), groups, order)
        self.x_shape, self.weight_shape = x.shape, weight.shape
        return out[:, :, 0] if self.one_d else out

    def backward(self, grad: np.ndarray) -> Grads:
        needs = self.needs_input_grad
        padding, kernel, stride, dilation, in_hw, groups, order = self.geometry
        grad4 = as_2d(grad)
        grad_padded = pad_to(grad4, ((padding[0],) * 2, (padding[1],) * 2), order)
        cols = im2col(grad_padded, kernel, stride, dilation, in_hw, order)
        grad_x = grad_w = grad_b = None
        if needs[0]:
            grad_x_rows = grouped_matmul(self.weight2, cols, groups)
            grad_x = from_rows(grad_x_rows, self.x_shape, order)
            if self.one_d:
                grad_x = grad_x[:, :, 0]
        if needs[1]:
            grad_w = grouped_outer(self.x_rows, cols, groups).reshape(self.weight_shape)
        if len(needs) == 3 and needs[2]:
            grad_b = to_rows(grad4, order).sum(axis=1)
        return (grad_x, grad_w, grad_b)[: len(needs)]
