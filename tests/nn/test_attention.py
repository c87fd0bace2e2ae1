"""Attention layers against torch (same weights, float64), masks, encodings and errors."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun.autograd.tensor import Tensor
from nnrun.errors import ArgumentError, ShapeError
from nnrun.nn.attention import (
    MultiheadAttention,
    PositionalEncoding,
    ScaledDotProductAttention,
    scaled_dot_product_attention,
)
from nnrun.registry import LAYERS
from tests.extras import need

torch = need("torch")

RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 5, 8))
MEMORY = RNG.normal(size=(2, 4, 8))
PADDING = np.array([[False] * 5, [False, False, False, True, True]])
MEMORY_PADDING = np.array([[False] * 4, [False, False, True, True]])


def leaf(array):
    return Tensor(array, requires_grad=True, dtype=np.float64)


def torch_leaf(array):
    return torch.from_numpy(array).requires_grad_()


def compare(ours, theirs, pairs):
    grad = np.random.default_rng(1).normal(size=tuple(theirs.shape))
    ours.backward(grad)
    theirs.backward(torch.from_numpy(grad))
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), atol=1e-10)
    for mine, reference in pairs:
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), atol=1e-10)


def built_mha(*inputs, **kwargs):
    layer = MultiheadAttention(num_heads=2, **kwargs)
    layer(*inputs)
    layer.to(np.float64)
    reference = torch.nn.MultiheadAttention(8, 2, batch_first=True, bias=layer.bias).double()
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    return layer, reference


@pytest.mark.parametrize("causal", [False, True])
def test_self_attention_matches_torch(causal):
    layer, reference = built_mha(X, causal=causal)
    ours_x, theirs_x = leaf(X), torch_leaf(X)
    mask = torch.ones(5, 5, dtype=torch.bool).triu(1) if causal else None
    theirs, _ = reference(
        theirs_x, theirs_x, theirs_x, key_padding_mask=torch.from_numpy(PADDING), attn_mask=mask
    )
    compare(layer(ours_x, key_padding_mask=PADDING), theirs, [(ours_x, theirs_x)])


def test_cross_attention_without_bias_matches_torch():
    layer, reference = built_mha(X, MEMORY, bias=False)
    assert set(layer.state_dict()) == {"in_proj_weight", "out_proj.weight"}
    ours_q, ours_kv, theirs_q, theirs_kv = leaf(X), leaf(MEMORY), torch_leaf(X), torch_leaf(MEMORY)
    theirs, _ = reference(
        theirs_q, theirs_kv, theirs_kv, key_padding_mask=torch.from_numpy(MEMORY_PADDING)
    )
    ours = layer(ours_q, ours_kv, key_padding_mask=MEMORY_PADDING)
    compare(ours, theirs, [(ours_q, theirs_q), (ours_kv, theirs_kv)])


def test_functional_sdpa_matches_torch_with_bool_and_float_masks():
    q, k, v = (RNG.normal(size=(2, 3, 4, 5)) for _ in range(3))
    keep = RNG.random((4, 4)) > 0.3
    np.fill_diagonal(keep, True)
    additive = RNG.normal(size=(4, 4))
    for mask in (keep, additive):
        ours_in = [leaf(a) for a in (q, k, v)]
        theirs_in = [torch_leaf(a) for a in (q, k, v)]
        ours = scaled_dot_product_attention(*ours_in, attn_mask=mask)
        theirs = torch.nn.functional.scaled_dot_product_attention(
            *theirs_in, attn_mask=torch.from_numpy(mask)
        )
        compare(ours, theirs, list(zip(ours_in, theirs_in, strict=True)))


def test_sdpa_layer_is_causal_and_hides_padded_keys():
    layer = ScaledDotProductAttention(causal=True)
    x = RNG.normal(size=(2, 4, 3))
    out = layer(x, key_padding_mask=np.array([[False] * 4, [False, True, False, False]])).data
    # the first query sees only the first key under a causal mask
    np.testing.assert_allclose(out[:, 0], x[:, 0].astype(np.float32), rtol=1e-6)
    changed = x.copy()
    changed[1, 1] = 100.0  # a padded key must not matter
    again = layer(changed, key_padding_mask=np.array([[False] * 4, [False, True, False, False]]))
    np.testing.assert_allclose(again.data[1, [0, 2, 3]], out[1, [0, 2, 3]], rtol=1e-6)


def test_query_seeing_no_key_outputs_zero_not_nan():
    out = ScaledDotProductAttention()(np.ones((1, 2, 3)), key_padding_mask=np.array([[True, True]]))
    assert np.all(out.data == 0)


def test_attention_dropout_is_off_in_eval_mode():
    layer = MultiheadAttention(num_heads=2, dropout=0.5)
    layer(X)
    layer.eval()
    np.testing.assert_array_equal(layer(X).data, layer(X).data)


def test_sinusoidal_encoding_follows_the_paper_and_is_not_saved():
    layer = PositionalEncoding(max_len=10)
    out = layer(np.zeros((1, 6, 4), dtype=np.float32)).data[0]
    position, i = 5, 1
    assert out[position, 2 * i] == pytest.approx(np.sin(position / 10000 ** (2 * i / 4)), abs=1e-6)
    assert out[position, 2 * i + 1] == pytest.approx(
        np.cos(position / 10000 ** (2 * i / 4)), abs=1e-6
    )
    assert layer.state_dict() == {}


def test_learned_encoding_has_a_weight_parameter():
    layer = LAYERS.build("positional_encoding", kind="learned", max_len=7)
    layer(np.zeros((2, 3, 4), dtype=np.float32))
    assert layer.state_dict()["weight"].shape == (7, 4)


def test_bad_arguments_and_shapes_are_reported():
    with pytest.raises(ArgumentError):
        LAYERS.build("multihead_attention", num_heads=0)
    with pytest.raises(ShapeError, match="divisible by num_heads=3"):
        MultiheadAttention(num_heads=3)(X)
    with pytest.raises(ShapeError, match=r"key_padding_mask must be \(N, S\) = \(2, 5\)"):
        built_mha(X)[0](X, key_padding_mask=np.zeros((2, 4), dtype=bool))
    with pytest.raises(ShapeError, match="T <= 4"):
        PositionalEncoding(max_len=4)(np.zeros((1, 5, 2)))
