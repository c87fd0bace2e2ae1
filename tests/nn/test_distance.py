"""cosine_similarity and pairwise_distance, as functions and as two-input layers,
against torch.nn.functional and worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnrun.autograd.tensor import Tensor
from nnrun.errors import ArgumentError, ShapeError
from nnrun.nn.distance import (
    CosineSimilarity,
    PairwiseDistance,
    cosine_similarity,
    pairwise_distance,
)
from nnrun.registry import LAYERS
from tests.extras import need


def test_cosine_similarity_of_a_worked_example():
    x1 = np.array([[1.0, 0.0], [1.0, 1.0]])
    x2 = np.array([[0.0, 2.0], [2.0, 2.0]])
    np.testing.assert_allclose(cosine_similarity(x1, x2).data, [0.0, 1.0], atol=1e-7)


def test_pairwise_distance_of_a_worked_example():
    x1, x2 = np.array([[3.0, 4.0]]), np.zeros((1, 2))
    assert pairwise_distance(x1, x2, eps=0.0).data.tolist() == [5.0]
    assert pairwise_distance(x1, x2, p=1.0, eps=0.0).data.tolist() == [7.0]
    assert pairwise_distance(x1, x2, p=math.inf, eps=0.0, keepdim=True).data.tolist() == [[4.0]]


def _compare(ours_fn, theirs_fn, inputs):
    torch = need("torch")
    ours_inputs = [Tensor(x, requires_grad=True, dtype=np.float64) for x in inputs]
    torch_inputs = [torch.tensor(x, requires_grad=True) for x in inputs]
    ours, theirs = ours_fn(*ours_inputs), theirs_fn(*torch_inputs)
    upstream = np.random.default_rng(9).standard_normal(ours.shape)
    ours.backward(upstream)
    theirs.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10)
    for mine, reference in zip(ours_inputs, torch_inputs, strict=True):
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "shapes, dim",
    [
        (((5, 3), (5, 3)), 1),
        (((2, 4, 3), (1, 3)), -1),
        (((4, 3, 2), (4, 3, 2)), 1),
        (((3,), (3,)), 0),
    ],
)
def test_cosine_similarity_layer_matches_torch(shapes, dim):
    torch = need("torch")
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(s) for s in shapes]
    layer = LAYERS.build("cosine_similarity", dim=dim)
    _compare(layer, lambda a, b: torch.nn.functional.cosine_similarity(a, b, dim=dim), inputs)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shapes", [((5, 3), (5, 3)), ((4,), (4,)), ((5, 3), (3,))])
def test_pairwise_distance_layer_matches_torch(p, keepdim, shapes):
    torch = need("torch")
    rng = np.random.default_rng(1)
    inputs = [rng.standard_normal(s) for s in shapes]
    layer = LAYERS.build("pairwise_distance", p=p, keepdim=keepdim)
    _compare(
        layer,
        lambda a, b: torch.nn.functional.pairwise_distance(a, b, p=p, keepdim=keepdim),
        inputs,
    )


def test_float32_stays_float32():
    x1, x2 = np.ones((2, 3), np.float32), np.arange(6, dtype=np.float32).reshape(2, 3)
    assert CosineSimilarity()(x1, x2).dtype == np.float32
    assert PairwiseDistance()(Tensor(x1), x2).dtype == np.float32


def test_shape_errors_name_both_shapes():
    with pytest.raises(ShapeError, match=r"\(4, 3\) and \(4, 2\) do not broadcast"):
        cosine_similarity(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ShapeError, match="dim=2 is out of range"):
        cosine_similarity(np.zeros((4, 3)), np.zeros((4, 3)), dim=2)


def test_invalid_options():
    with pytest.raises(ArgumentError) as error:
        LAYERS.build("pairwise_distance", p=-1.0)
    assert error.value.key == "p"
    with pytest.raises(ArgumentError):
        LAYERS.build("cosine_similarity", eps=-1.0)


def test_repr_shows_the_options():
    assert repr(PairwiseDistance(p=1.0)) == "PairwiseDistance(p=1.0, eps=1e-06, keepdim=False)"
