"""Embedding: torch.nn.Embedding semantics, padding_idx, gradients, index errors."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun import random
from nnrun.autograd.tensor import Tensor
from nnrun.errors import ArgumentError, DataError
from nnrun.nn.embedding import Embedding
from nnrun.registry import LAYERS
from tests.extras import need


@pytest.mark.parametrize("padding_idx", [None, 2])
def test_output_and_weight_gradient_match_torch(padding_idx):
    torch = need("torch")
    layer = Embedding(6, 4, padding_idx=padding_idx).to(np.float64)
    reference = torch.nn.Embedding(6, 4, padding_idx=padding_idx).double()
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    indices = np.array([[0, 2, 5, 2], [1, 1, 3, 2]])
    upstream = np.random.default_rng(0).standard_normal((2, 4, 4))

    out = layer(indices)
    out.backward(upstream)
    theirs = reference(torch.from_numpy(indices))
    theirs.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(out.data, theirs.detach().numpy())
    np.testing.assert_allclose(layer.weight.grad, reference.weight.grad.numpy(), rtol=1e-12)


def test_padding_row_starts_at_zero_and_gets_no_gradient():
    random.seed(0)
    layer = Embedding(5, 3, padding_idx=-1)
    assert layer.padding_idx == 4
    np.testing.assert_array_equal(layer.weight.data[4], np.zeros(3))
    layer(np.array([4, 4, 1])).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad[4], np.zeros(3))
    np.testing.assert_array_equal(layer.weight.grad[1], np.ones(3))


def test_repeated_indices_accumulate_and_any_index_shape_works():
    layer = Embedding(4, 2)
    indices = Tensor(np.array([[[3, 3], [3, 0]]]))
    out = layer(indices)
    assert out.shape == (1, 2, 2, 2)
    out.sum().backward()
    np.testing.assert_array_equal(layer.weight.grad[:, 0], [1, 0, 0, 3])
    assert layer(np.array(2)).shape == (2,)


def test_default_init_is_standard_normal():
    random.seed(0)
    weight = Embedding(2000, 50).weight.data
    assert abs(weight.mean()) < 0.01 and abs(weight.std() - 1) < 0.01
    assert weight.dtype == np.float32


def test_out_of_range_and_float_indices_raise_data_errors():
    layer = Embedding(5, 2)
    with pytest.raises(DataError, match=r"num_embeddings=5.*got index 7"):
        layer(np.array([1, 7, 2]))
    with pytest.raises(DataError, match="got index -1"):
        layer(np.array([-1]))
    with pytest.raises(DataError, match="integer indices"):
        layer(np.array([1.0, 2.0]))


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"num_embeddings": 0, "embedding_dim": 2}, "num_embeddings"),
        ({"num_embeddings": 3, "embedding_dim": 0}, "embedding_dim"),
        ({"num_embeddings": 3, "embedding_dim": 2, "padding_idx": 3}, "padding_idx"),
    ],
)
def test_bad_sizes_raise_argument_errors(kwargs, key):
    with pytest.raises(ArgumentError) as info:
        LAYERS.build("embedding", **kwargs)
    assert info.value.key == key


def test_repr_matches_torch():
    assert repr(Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"
