"""Flatten and Reshape: torch.nn.Flatten / keras Reshape semantics and shape errors."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun.autograd.tensor import Tensor
from nnrun.errors import ArgumentError, ShapeError
from nnrun.nn.shape import Flatten, Reshape
from nnrun.registry import LAYERS
from tests.extras import need


@pytest.mark.parametrize(
    ("start_dim", "end_dim"), [(1, -1), (0, -1), (1, 2), (-2, -1), (2, 2), (0, 0)]
)
def test_flatten_matches_torch(start_dim, end_dim):
    torch = need("torch")
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    expected = torch.nn.Flatten(start_dim, end_dim)(torch.from_numpy(x)).numpy()
    out = LAYERS.build("flatten", start_dim=start_dim, end_dim=end_dim)(x)
    np.testing.assert_array_equal(out.data, expected)


def test_flatten_gradient_has_the_input_shape():
    x = Tensor(np.ones((2, 3, 4)), requires_grad=True)
    Flatten()(x).sum().backward()
    assert x.grad.shape == (2, 3, 4)


def test_flatten_with_dims_beyond_the_input_raises_shape_error():
    with pytest.raises(ShapeError, match=r"start_dim=1.*\(5,\)"):
        Flatten()(np.ones(5))
    with pytest.raises(ShapeError, match="comes after"):
        Flatten(2, 1)(np.ones((2, 3, 4)))


def test_reshape_keeps_the_batch_dim_and_infers_minus_one():
    x = np.arange(24.0).reshape(2, 12)
    out = LAYERS.build("reshape", shape=[3, -1])(x)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out.data, x.reshape(2, 3, 4))
    assert repr(Reshape([3, -1])) == "Reshape(shape=[3, -1])"


def test_reshape_to_a_size_that_does_not_fit_names_both_shapes():
    with pytest.raises(ShapeError, match=r"\(N, 5, 2\).*\(2, 12\): 12 values"):
        Reshape([5, 2])(np.ones((2, 12)))
    with pytest.raises(ShapeError, match="5, -1"):
        Reshape([5, -1])(np.ones((2, 12)))


@pytest.mark.parametrize("shape", [[-1, -1], [0, 3], [2, -2]])
def test_reshape_rejects_bad_target_shapes(shape):
    with pytest.raises(ArgumentError) as info:
        LAYERS.build("reshape", shape=shape)
    assert info.value.key == "shape"
