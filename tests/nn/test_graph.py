"""Graph layers against dense hand computations on small graphs (PyG is not a dependency),
plus a gradcheck of every sample in samples_seq (until the registry walker covers them)."""

from __future__ import annotations

import numpy as np
import pytest

import nnrun.components  # noqa: F401  (fills the registries)
from nnrun import random
from nnrun.errors import ShapeError
from nnrun.nn.graph import GATConv, GCNConv, GlobalMaxPool, GlobalMeanPool, SAGEConv
from nnrun.registry import LAYERS
from nnrun.testing.gradcheck import gradcheck
from tests.nn.samples_seq import LAYER_SAMPLES

# path graph 0 - 1 - 2, both directions
PATH = np.array([[0, 1, 1, 2], [1, 0, 2, 1]])
X = np.array([[1.0, 2.0], [0.5, -1.0], [-2.0, 0.0]], dtype=np.float32)


def test_gcn_on_a_path_equals_the_dense_normalized_adjacency():
    layer = GCNConv(out_channels=3)
    layer(X, PATH)
    layer.bias.data[...] = [0.1, -0.2, 0.3]
    adjacency = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]], dtype=float)  # A + I
    scale = np.diag(adjacency.sum(axis=1) ** -0.5)
    expected = scale @ adjacency @ scale @ X @ layer.lin.weight.data.T + layer.bias.data
    np.testing.assert_allclose(layer(X, PATH).data, expected, rtol=1e-5)
    assert set(layer.state_dict()) == {"lin.weight", "bias"}


def test_gcn_keeps_an_existing_self_loop_once():
    edges = np.array([[0, 1, 1], [1, 0, 1]])
    layer = GCNConv(out_channels=2, bias=False)
    out = layer(X[:2], edges).data
    adjacency = np.array([[1, 1], [1, 1]], dtype=float)
    scale = np.diag(adjacency.sum(axis=1) ** -0.5)
    np.testing.assert_allclose(
        out, scale @ adjacency @ scale @ X[:2] @ layer.lin.weight.data.T, rtol=1e-5
    )


def test_sage_mean_aggregates_incoming_neighbours():
    edges = np.array([[0, 2, 1], [1, 1, 2]])  # node 0 has no incoming edge
    layer = SAGEConv(out_channels=2)
    out = layer(X, edges).data
    mean = np.array([[0, 0], (X[0] + X[2]) / 2, X[1]])
    lin_l, lin_r = layer.lin_l, layer.lin_r
    expected = mean @ lin_l.weight.data.T + lin_l.bias.data + X @ lin_r.weight.data.T
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert set(layer.state_dict()) == {"lin_l.weight", "lin_l.bias", "lin_r.weight"}


@pytest.mark.parametrize("concat", [True, False])
def test_gat_equals_a_dense_masked_softmax_per_head(concat):
    layer = GATConv(out_channels=2, heads=2, concat=concat)
    out = layer(X, PATH).data
    h = (X @ layer.lin.weight.data.T).reshape(3, 2, 2)
    source_score = (h * layer.att_src.data).sum(-1)  # (nodes, heads)
    target_score = (h * layer.att_dst.data).sum(-1)
    edge = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]], dtype=bool)  # [target, source] + loops
    heads = []
    for k in range(2):
        raw = target_score[:, None, k] + source_score[None, :, k]
        raw = np.where(raw > 0, raw, 0.2 * raw)
        weights = np.where(edge, np.exp(raw), 0)
        weights /= weights.sum(axis=1, keepdims=True)
        heads.append(weights @ h[:, k])
    stacked = np.stack(heads, axis=1)
    expected = stacked.reshape(3, 4) if concat else stacked.mean(axis=1)
    np.testing.assert_allclose(out, expected + layer.bias.data, rtol=1e-5, atol=1e-6)
    assert layer.state_dict()["att_src"].shape == (1, 2, 2)


def test_global_pools_reduce_each_graph():
    batch = np.array([1, 0, 1])
    np.testing.assert_allclose(GlobalMeanPool()(X, batch).data, [X[1], (X[0] + X[2]) / 2])
    np.testing.assert_allclose(GlobalMaxPool()(X, batch).data, [X[1], np.maximum(X[0], X[2])])
    np.testing.assert_allclose(LAYERS.build("global_sum_pool")(X, batch).data, [X[1], X[0] + X[2]])
    np.testing.assert_allclose(GlobalMeanPool()(X).data, X.mean(axis=0, keepdims=True), rtol=1e-6)


def test_bad_edge_index_is_reported():
    with pytest.raises(ShapeError, match=r"valid ids 0\.\.2"):
        GCNConv(out_channels=2)(X, np.array([[0, 3], [1, 0]]))
    with pytest.raises(ShapeError, match=r"shape \(2, E\)"):
        GATConv(out_channels=2)(X, np.array([0, 1, 2]))
    with pytest.raises(ShapeError, match=r"batch as integers of shape \(num_nodes,\)"):
        GlobalMeanPool()(X, np.array([0, 1]))


SAMPLES = [(name, sample) for name, samples in LAYER_SAMPLES.items() for sample in samples]


@pytest.mark.parametrize("name,sample", SAMPLES, ids=[f"{n}-{s.id}" for n, s in SAMPLES])
def test_every_sequence_and_graph_sample_passes_gradcheck(name, sample):
    random.seed(0)
    layer = LAYERS.build(name, **sample.kwargs)
    layer(*sample.inputs, **sample.call_kwargs)
    layer.to(np.float64)
    layer.train(sample.train)

    def run(*inputs):
        random.seed(0)  # the same dropout masks on every evaluation
        return layer(*inputs, **sample.call_kwargs)

    assert gradcheck(run, sample.inputs, params=list(layer.parameters()))
