"""Convolution, pooling and normalization ops: finite differences, adjointness of conv and
transposed conv, im2col against a direct loop, float32 discipline."""

from __future__ import annotations

import numpy as np
import pytest

import nnrun
from nnrun.ops.conv import (
    BATCH_INNER,
    BATCH_INNER_MIN,
    CHANNEL_MAJOR,
    Conv,
    ConvTranspose,
    col2im,
    im2col,
)
from nnrun.ops.norm import Normalize
from nnrun.ops.pooling import AdaptiveAvgPool, AvgPool, MaxPool


def _r(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape)


CONV = {"stride": (2, 1), "padding": ((1, 0), (2, 1)), "dilation": (1, 2), "groups": 2}
TRANSPOSED = {
    "stride": (2, 3),
    "padding": (1, 0),
    "output_padding": (1, 2),
    "dilation": (1, 1),
    "groups": 2,
}


def _stats_norm(x):
    view = (x.shape[0], 2, x.data.size // (x.shape[0] * 2))
    return {
        "view": view,
        "axes": (2,),
        "eps": 1e-5,
        "param_shape": (1, x.shape[1], 1),
        "affine": (True, True),
        "batch_stats": True,
    }


CASES = [
    (
        "conv",
        lambda x, w, b: Conv.apply(x, w, b, **CONV),
        [_r(2, 4, 5, 6), _r(4, 2, 3, 2, seed=1), _r(4, seed=2)],
    ),
    (
        "conv-relu",
        lambda x, w: Conv.apply(
            x, w, stride=(1, 1), padding=((1, 1), (1, 1)), dilation=(1, 1), groups=1, relu=True
        ),
        [_r(2, 3, 4, 4), _r(2, 3, 3, 3, seed=1)],
    ),
    (
        "conv1d",
        lambda x, w: Conv.apply(
            x, w, stride=(1, 2), padding=((0, 0), (1, 1)), dilation=(1, 1), groups=1
        ),
        [_r(2, 3, 7), _r(4, 3, 3, seed=1)],
    ),
    (
        "conv-transpose",
        lambda x, w, b: ConvTranspose.apply(x, w, b, **TRANSPOSED),
        [_r(2, 4, 3, 3), _r(4, 3, 3, 2, seed=1), _r(6, seed=2)],
    ),
    (
        "conv-batch-inner",
        lambda x, w, b: Conv.apply(x, w, b, relu=True, **CONV),
        [_r(16, 4, 5, 4), _r(4, 2, 3, 2, seed=1), _r(4, seed=2) + 2],
    ),
    (
        "conv-bias-in-gemm-batch-inner",
        lambda x, w, b: Conv.apply(x, w, b, relu=True, **{**CONV, "groups": 1}),
        [_r(16, 4, 5, 4), _r(3, 4, 3, 2, seed=1), _r(3, seed=2) + 1],
    ),
    (
        "conv-transpose-batch-inner",
        lambda x, w, b: ConvTranspose.apply(x, w, b, **TRANSPOSED),
        [_r(16, 4, 3, 2), _r(4, 3, 3, 2, seed=1), _r(6, seed=2)],
    ),
    (
        "max-pool-batch-inner",
        lambda x, w: MaxPool.apply(
            Conv.apply(x, w, stride=(1, 1), padding=((1, 1), (1, 1)), dilation=(1, 1), groups=1),
            kernel=(2, 2),
            stride=(2, 2),
            padding=(0, 0),
            dilation=(1, 1),
        ),
        [_r(16, 2, 4, 4), _r(3, 2, 3, 3, seed=1)],
    ),
    (
        "max-pool",
        lambda x: MaxPool.apply(x, kernel=(3, 2), stride=(2, 1), padding=(1, 1), dilation=(1, 1)),
        [_r(2, 3, 5, 5)],
    ),
    (
        "avg-pool",
        lambda x: AvgPool.apply(
            x, kernel=(3, 3), stride=(2, 2), padding=(1, 1), count_include_pad=False
        ),
        [_r(2, 3, 5, 6)],
    ),
    ("adaptive-avg-pool", lambda x: AdaptiveAvgPool.apply(x, output_size=(2, 3)), [_r(2, 3, 5, 7)]),
    (
        "normalize",
        lambda x, w, b: Normalize.apply(x, w, b, **_stats_norm(x)),
        [_r(3, 4, 5), _r(4, seed=1), _r(4, seed=2)],
    ),
]


@pytest.mark.parametrize("fn,inputs", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_op_gradients_match_finite_differences(fn, inputs):
    assert nnrun.gradcheck(fn, inputs)


@pytest.mark.parametrize("fn,inputs", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_float32_in_gives_float32_out_and_gradients(fn, inputs):
    tensors = [nnrun.Tensor(x.astype(np.float32), requires_grad=True) for x in inputs]
    out = fn(*tensors)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert all(t.grad.dtype == np.float32 for t in tensors)


@pytest.mark.parametrize("batch", [2, BATCH_INNER_MIN])
def test_conv_bias_gradient_without_the_weight_gradient_sums_the_output_gradient(batch):
    """A frozen weight with a trainable bias: the bias (a GEMM column without groups) still
    gets the sum of the output gradient over every position."""
    x = nnrun.Tensor(_r(batch, 3, 5, 5), dtype=np.float64)
    weight = nnrun.Tensor(_r(4, 3, 3, 3, seed=1), dtype=np.float64)
    bias = nnrun.Tensor(_r(4, seed=2), dtype=np.float64, requires_grad=True)
    out = Conv.apply(
        x, weight, bias, stride=(1, 1), padding=((1, 1), (1, 1)), dilation=(1, 1), groups=1
    )
    upstream = _r(*out.shape, seed=3)
    out.backward(upstream)
    assert weight.grad is None
    np.testing.assert_allclose(bias.grad, upstream.sum(axis=(0, 2, 3)), rtol=1e-12)


def test_transposed_conv_is_the_adjoint_of_conv():
    x, weight = _r(2, 4, 7, 9), _r(4, 2, 3, 2, seed=1)
    geometry = {"stride": (2, 3), "dilation": (1, 1), "groups": 2}
    y = Conv.apply(
        nnrun.Tensor(x, dtype=np.float64),
        nnrun.Tensor(weight, dtype=np.float64),
        padding=((1, 1), (0, 0)),
        **geometry,
    ).data
    upstream = _r(*y.shape, seed=3)
    back = ConvTranspose.apply(
        nnrun.Tensor(upstream, dtype=np.float64),
        nnrun.Tensor(weight, dtype=np.float64),
        padding=(1, 0),
        output_padding=(0, 1),
        **geometry,
    ).data
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(y * upstream), np.sum(x * back), rtol=1e-12)


@pytest.mark.parametrize(
    "order", [BATCH_INNER, CHANNEL_MAJOR], ids=["batch-inner", "channel-major"]
)
def test_im2col_matches_a_direct_loop_and_col2im_is_its_adjoint(order):
    xp = _r(2, 3, 7, 8)
    kernel, stride, dilation, out_hw = (2, 3), (2, 1), (2, 1), (3, 6)
    cols = im2col(xp, kernel, stride, dilation, out_hw, order).copy()
    expected = np.empty((3, 2, 3, 2, 3, 6))  # (C, kh, kw, N, OH, OW)
    for i in range(2):
        for j in range(3):
            rows = slice(i * 2, i * 2 + 2 * 3 - 1, 2)
            expected[:, i, j] = xp[:, :, rows, j : j + 6].transpose(1, 0, 2, 3)
    positions = (4, 5, 3) if order == BATCH_INNER else (3, 4, 5)
    expected = expected.transpose(0, 1, 2, *positions)
    np.testing.assert_array_equal(cols, expected.reshape(cols.shape))
    other = _r(*cols.shape, seed=1)
    folded = col2im(other, xp.shape, kernel, stride, dilation, out_hw, order)
    np.testing.assert_allclose(np.sum(cols * other), np.sum(xp * folded), rtol=1e-12)


@pytest.mark.parametrize("batch,order", [(4, CHANNEL_MAJOR), (BATCH_INNER_MIN, BATCH_INNER)])
def test_conv_output_is_a_view_of_one_gemm_in_the_batch_size_layout(batch, order):
    out = Conv.apply(
        nnrun.Tensor(_r(batch, 3, 6, 6)),
        nnrun.Tensor(_r(5, 3, 3, 3)),
        stride=(1, 1),
        padding=((0, 0), (0, 0)),
        dilation=(1, 1),
        groups=1,
    )
    assert out.data.transpose(order).flags.c_contiguous
