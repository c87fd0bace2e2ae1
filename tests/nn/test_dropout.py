"""Dropout: inverted scaling, statistics, eval mode, reproducibility, gradients."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun import random
from nnrun.autograd.tensor import Tensor
from nnrun.errors import ArgumentError
from nnrun.nn.dropout import Dropout
from nnrun.registry import LAYERS


def test_drops_about_p_and_scales_survivors_to_keep_the_mean():
    random.seed(0)
    x = np.ones((200, 500), dtype=np.float32)
    out = Dropout(0.3)(x).data
    dropped = np.mean(out == 0)
    assert abs(dropped - 0.3) < 0.005  # 100,000 draws: 5 standard deviations ≈ 0.0072
    np.testing.assert_allclose(out[out != 0], 1 / 0.7, rtol=1e-6)
    assert abs(out.mean() - 1.0) < 0.01
    assert out.dtype == np.float32


def test_eval_mode_and_p_zero_return_the_input_unchanged():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    layer = Dropout(0.5)
    layer.eval()
    assert layer(x) is x
    assert Dropout(0.0)(x) is x


def test_p_one_zeroes_everything_in_training():
    out = Dropout(1.0)(np.ones((3, 4)))
    np.testing.assert_array_equal(out.data, np.zeros((3, 4)))


def test_masks_repeat_under_the_same_seed_and_differ_between_calls():
    layer = Dropout(0.5)
    x = np.ones((8, 8))
    random.seed(1)
    first, second = layer(x).data, layer(x).data
    random.seed(1)
    np.testing.assert_array_equal(layer(x).data, first)
    assert not np.array_equal(first, second)


def test_gradient_is_the_scaled_mask():
    random.seed(2)
    x = Tensor(np.ones((5, 6)), requires_grad=True, dtype=np.float64)
    out = Dropout(0.25)(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)  # x = 1: the output is the mask itself


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_probability_outside_zero_one_is_rejected(p):
    with pytest.raises(ArgumentError, match=r"\[0, 1\]") as info:
        LAYERS.build("dropout", p=p)
    assert info.value.key == "p"


def test_repr_matches_torch():
    assert repr(Dropout(0.2)) == "Dropout(p=0.2)"
