"""The fast forms of NumPy and OpenBLAS calls give the values of the plain calls."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun.ops.conv import Conv
from nnrun.ops.kernels import (
    BLOCK,
    matmul_long_short,
    matmul_short,
    outer,
    relu_,
    row_buffers,
    row_sums,
    zeros_like,
)


def _r(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_relu_in_place_equals_maximum_with_zero(layout):
    x = _r(37, 53)
    x = x if layout == "contiguous" else x.T
    expected = np.maximum(x, 0)
    assert relu_(x) is x
    np.testing.assert_array_equal(x, expected)


def test_zeros_like_is_a_read_only_view_that_grows_with_the_largest_request():
    small, large = zeros_like(_r(3, 4)), zeros_like(_r(300, 400))
    assert small.shape == (3, 4) and large.shape == (300, 400)
    assert not small.flags.writeable and not large.any()
    assert zeros_like(np.ones(5, np.float64)).dtype == np.float64


def test_row_sums_match_a_float64_sum():
    a = _r(7, 50_000)
    np.testing.assert_allclose(row_sums(a), a.astype(np.float64).sum(axis=1), atol=1e-3)
    assert row_sums(a).dtype == np.float32


def test_outer_is_bitwise_the_broadcast_product():
    a, b = _r(1024), _r(700, seed=1)
    np.testing.assert_array_equal(outer(a, b), np.multiply.outer(a, b))


def test_row_buffers_restores_the_buffer_size_even_after_an_error():
    before = np.getbufsize()
    with pytest.raises(ZeroDivisionError), row_buffers(1000):
        assert np.getbufsize() == 1008  # a multiple of 16
        _ = 1 / 0
    assert np.getbufsize() == before
    with row_buffers(100):  # short rows: the buffers run them faster
        assert np.getbufsize() == before


@pytest.mark.parametrize(
    ("m", "k", "n"), [(16, 9, 3 * BLOCK + 5), (5, 64, 2 * BLOCK + 1), (40, 40, 3 * BLOCK)]
)
def test_matmul_short_matches_one_product(m, k, n):
    a, b = _r(m, k), _r(k, n, seed=1)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(matmul_short(a, b), exact, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize(
    ("m", "k", "n"), [(16, 3 * BLOCK + 7, 9), (9, 2 * BLOCK + 1, 40), (40, 3 * BLOCK, 40)]
)
def test_matmul_long_short_matches_one_product(m, k, n):
    a, b = _r(m, k), _r(k, n, seed=1)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(matmul_long_short(a, b), exact, rtol=1e-4, atol=1e-3)


def test_conv_with_blocked_products_matches_a_direct_sum():
    """One input channel and 3×3 taps over 3·50·50 positions: the products that run in
    blocks (forward and weight gradient) against a float64 loop over the taps."""
    x, weight = _r(3, 1, 50, 50), _r(4, 1, 3, 3, seed=1)
    op = Conv()
    op.needs_input_grad = (True, True)
    attrs = {"stride": (1, 1), "padding": ((1, 1), (1, 1)), "dilation": (1, 1), "groups": 1}
    out = op.forward(x, weight, **attrs)
    grad = _r(*out.shape, seed=2)
    grad_x, grad_w = op.backward(grad)
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    taps = {(i, j): xp[:, 0, i : i + 50, j : j + 50] for i in range(3) for j in range(3)}
    expected = sum(weight[:, 0, i, j, None, None, None] * tap for (i, j), tap in taps.items())
    np.testing.assert_allclose(out, expected.transpose(1, 0, 2, 3), rtol=1e-5, atol=1e-4)
    grad64 = grad.astype(np.float64)
    for (i, j), tap in taps.items():
        expected_w = np.einsum("nohw,nhw->o", grad64, tap)
        np.testing.assert_allclose(grad_w[:, 0, i, j], expected_w, rtol=1e-4, atol=1e-2)
    assert grad_x.shape == x.shape
