"""Transformer layers against torch.nn.Transformer* (same weights, dropout 0, eval, float64)."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun.autograd.tensor import Tensor
from nnrun.errors import ShapeError
from nnrun.nn.transformer import (
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from tests.extras import need

torch = need("torch")

RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 5, 8))
MEMORY = RNG.normal(size=(2, 4, 8))
PADDING = np.array([[False] * 5, [False, False, False, True, True]])
MEMORY_PADDING = np.array([[False] * 4, [False, False, True, True]])
OPTIONS = [
    (norm_first, activation) for norm_first in (False, True) for activation in ("relu", "gelu")
]


def prepare(layer, reference, *inputs):
    layer(*inputs)
    layer.to(np.float64).eval()
    reference.double().eval()
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})


def leaves(*arrays):
    return [Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays], [
        torch.from_numpy(a).requires_grad_() for a in arrays
    ]


def compare(ours, theirs, ours_in, theirs_in):
    grad = np.random.default_rng(1).normal(size=tuple(theirs.shape))
    ours.backward(grad)
    theirs.backward(torch.from_numpy(grad))
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), atol=1e-9)
    for mine, reference in zip(ours_in, theirs_in, strict=True):
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), atol=1e-9)


@pytest.mark.parametrize("norm_first,activation", OPTIONS)
def test_encoder_layer_matches_torch(norm_first, activation):
    options = {
        "dim_feedforward": 16,
        "dropout": 0.0,
        "activation": activation,
        "norm_first": norm_first,
    }
    layer = TransformerEncoderLayer(nhead=2, causal=True, **options)
    reference = torch.nn.TransformerEncoderLayer(8, 2, batch_first=True, **options)
    prepare(layer, reference, X)
    assert list(layer.state_dict()) == list(reference.state_dict())
    ours_in, theirs_in = leaves(X)
    ours = layer(ours_in[0], PADDING)
    causal = torch.ones(5, 5, dtype=torch.bool).triu(1)
    theirs = reference(
        theirs_in[0], src_mask=causal, src_key_padding_mask=torch.from_numpy(PADDING)
    )
    compare(ours, theirs, ours_in, theirs_in)


@pytest.mark.parametrize("norm_first,activation", OPTIONS)
def test_decoder_layer_with_memory_matches_torch(norm_first, activation):
    options = {
        "dim_feedforward": 16,
        "dropout": 0.0,
        "activation": activation,
        "norm_first": norm_first,
    }
    layer = TransformerDecoderLayer(nhead=2, causal=True, **options)
    reference = torch.nn.TransformerDecoderLayer(8, 2, batch_first=True, **options)
    prepare(layer, reference, X, MEMORY)
    assert list(layer.state_dict()) == list(reference.state_dict())
    ours_in, theirs_in = leaves(X, MEMORY)
    ours = layer(*ours_in, tgt_key_padding_mask=PADDING, memory_key_padding_mask=MEMORY_PADDING)
    theirs = reference(
        *theirs_in,
        tgt_mask=torch.ones(5, 5, dtype=torch.bool).triu(1),
        tgt_key_padding_mask=torch.from_numpy(PADDING),
        memory_key_padding_mask=torch.from_numpy(MEMORY_PADDING),
    )
    compare(ours, theirs, ours_in, theirs_in)


def test_stacked_encoder_with_final_norm_matches_torch():
    layer = TransformerEncoder(num_layers=2, nhead=2, dim_feedforward=16, dropout=0.0, norm=True)
    reference = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True),
        2,
        norm=torch.nn.LayerNorm(8),
        enable_nested_tensor=False,
    )
    prepare(layer, reference, X)
    assert "layers.1.self_attn.in_proj_weight" in layer.state_dict()
    ours_in, theirs_in = leaves(X)
    compare(layer(ours_in[0]), reference(theirs_in[0]), ours_in, theirs_in)


def test_stacked_layers_start_from_different_weights():
    layer = TransformerEncoder(num_layers=2, nhead=2, dim_feedforward=4)
    layer(X.astype(np.float32))
    state = layer.state_dict()
    assert not np.array_equal(state["layers.0.linear1.weight"], state["layers.1.linear1.weight"])


def test_dropout_makes_training_mode_random_and_eval_deterministic():
    layer = TransformerEncoderLayer(nhead=2, dim_feedforward=4, dropout=0.5)
    x = X.astype(np.float32)
    assert not np.array_equal(layer(x).data, layer(x).data)
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, layer(x).data)


def test_wrong_widths_raise_shape_errors():
    with pytest.raises(ShapeError, match="divisible by nhead=3"):
        TransformerEncoderLayer(nhead=3)(X)
    layer = TransformerDecoderLayer(nhead=2, dim_feedforward=4)
    with pytest.raises(ShapeError, match="needs two inputs"):
        layer(X)
    layer(X, MEMORY)
    with pytest.raises(ShapeError, match=r"memory \(N, L, 8\), got \(2, 4, 6\)"):
        layer(X, MEMORY[..., :6])
