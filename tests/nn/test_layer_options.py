"""Layer options against torch in float64: recurrent initial/final states, attention
weights, pooling ceil_mode/return_indices, bilinear upsampling, GCN edge weights (against
the dense formula: PyG is not installed) and column-major reshape (against NumPy)."""

from __future__ import annotations

import numpy as np
import pytest

import nnrun.components  # noqa: F401
from nnrun.autograd.tensor import Tensor
from nnrun.registry import LAYERS
from tests.extras import need

torch = need("torch")
RNG = np.random.default_rng(0)


def leaf(array):
    return Tensor(array, requires_grad=True, dtype=np.float64)


def backward_both(ours, theirs):
    """Backpropagate the same random cotangents through both sets of outputs."""
    grads = [RNG.normal(size=o.shape) for o in ours]
    total = ours[0] * grads[0]
    for out, grad in zip(ours[1:], grads[1:], strict=True):
        total = total.sum() + (out * grad).sum()
    total.sum().backward()
    sum((t * torch.from_numpy(g)).sum() for t, g in zip(theirs, grads, strict=True)).backward()


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional, layers", [(False, 1), (True, 2)])
@pytest.mark.parametrize("packed", [False, True])
def test_initial_and_final_states_match_torch(kind, bidirectional, layers, packed):
    directions = 2 if bidirectional else 1
    x = RNG.normal(size=(3, 4, 5))
    h0, c0 = RNG.normal(size=(2, directions * layers, 3, 6))
    ours = LAYERS.build(
        kind, hidden_size=6, num_layers=layers, bidirectional=bidirectional, return_state=True
    )
    ours(x)
    ours.to(np.float64)
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    reference = module(5, 6, layers, batch_first=True, bidirectional=bidirectional).double()
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    lengths = np.array([4, 2, 3])
    tx, th, tc = (torch.from_numpy(a).requires_grad_() for a in (x, h0, c0))
    lx, lh, lc = leaf(x), leaf(h0), leaf(c0)
    named = {"h0": lh, "c0": lc} if kind == "lstm" else {"h0": lh}
    outs = ours(lx, lengths if packed else None, **named)
    source = tx
    if packed:
        source = torch.nn.utils.rnn.pack_padded_sequence(
            tx, torch.from_numpy(lengths), batch_first=True, enforce_sorted=False
        )
    out, state = reference(source, (th, tc) if kind == "lstm" else th)
    if packed:
        out = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=4)[0]
    theirs = (out, *state) if kind == "lstm" else (out, state)
    assert ours.result_names == ("output", "h_n", "c_n")[: len(theirs)]
    for mine, reference_out in zip(outs, theirs, strict=True):
        np.testing.assert_allclose(mine.data, reference_out.detach().numpy(), atol=1e-12)
    backward_both(outs, theirs)
    pairs = [(lx, tx), (lh, th)] + ([(lc, tc)] if kind == "lstm" else [])
    for mine, reference_in in pairs:
        np.testing.assert_allclose(mine.grad, reference_in.grad.numpy(), atol=1e-12)


def test_recurrent_state_shapes_and_c0_only_for_the_lstm():
    gru = LAYERS.build("gru", hidden_size=2)
    with pytest.raises(Exception, match="c0 is for the lstm"):
        gru(np.zeros((1, 3, 2)), c0=np.zeros((1, 1, 2)))
    with pytest.raises(Exception, match=r"h0 \(D·num_layers, N, H\) = \(1, 1, 2\)"):
        gru(np.zeros((1, 3, 2)), h0=np.zeros((2, 1, 2)))


@pytest.mark.parametrize("average", [True, False])
@pytest.mark.parametrize("causal", [False, True])
def test_attention_weights_match_torch_need_weights(average, causal):
    x = RNG.normal(size=(2, 5, 8))
    padding = np.array([[False] * 5, [False, False, False, True, True]])
    layer = LAYERS.build(
        "multihead_attention",
        num_heads=2,
        causal=causal,
        return_weights=True,
        average_weights=average,
    )
    layer(x)
    layer.to(np.float64)
    reference = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    lx, tx = leaf(x), torch.from_numpy(x).requires_grad_()
    outs = layer(lx, key_padding_mask=padding)
    mask = torch.ones(5, 5, dtype=torch.bool).triu(1) if causal else None
    theirs = reference(
        tx,
        tx,
        tx,
        key_padding_mask=torch.from_numpy(padding),
        attn_mask=mask,
        need_weights=True,
        average_attn_weights=average,
    )
    for mine, reference_out in zip(outs, theirs, strict=True):
        np.testing.assert_allclose(mine.data, reference_out.detach().numpy(), atol=1e-12)
    backward_both(outs, theirs)
    np.testing.assert_allclose(lx.grad, tx.grad.numpy(), atol=1e-12)


def test_attention_with_weights_gives_the_fused_output():
    q, k = RNG.normal(size=(2, 2, 3, 4)), RNG.normal(size=(2, 2, 5, 4))
    plain = LAYERS.build("scaled_dot_product_attention", causal=True)
    weighted = LAYERS.build("scaled_dot_product_attention", causal=True, return_weights=True)
    out, weights = weighted(leaf(q), leaf(k))
    np.testing.assert_allclose(out.data, plain(leaf(q), leaf(k)).data, atol=1e-12)
    assert weights.shape == (2, 2, 3, 5)
    np.testing.assert_allclose(weights.data.sum(-1), 1.0)
    assert np.all(np.triu(weights.data[0, 0], k=1) == 0)


POOLS = [(2, 2, 0, 1), (3, 2, 1, 1), (3, 2, 0, 1), (2, 3, 1, 1), (3, 2, 1, 2)]


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("kernel, stride, padding, dilation", POOLS)
def test_max_pool_ceil_mode_and_indices_match_torch(dims, kernel, stride, padding, dilation):
    x = RNG.normal(size=(2, 3, 5, 6) if dims == 2 else (2, 3, 7))
    ours = LAYERS.build(
        f"max_pool{dims}d",
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        ceil_mode=True,
        return_indices=True,
    )
    reference = getattr(torch.nn, f"MaxPool{dims}d")(
        kernel, stride, padding, dilation, return_indices=True, ceil_mode=True
    )
    lx, tx = leaf(x), torch.from_numpy(x).requires_grad_()
    out, indices = ours(lx)
    their_out, their_indices = reference(tx)
    np.testing.assert_allclose(out.data, their_out.detach().numpy())
    np.testing.assert_array_equal(indices.data, their_indices.numpy())
    backward_both([out], [their_out])
    np.testing.assert_allclose(lx.grad, tx.grad.numpy())


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("kernel, stride, padding", [p[:3] for p in POOLS[:4]])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool_ceil_mode_matches_torch(dims, kernel, stride, padding, count_include_pad):
    x = RNG.normal(size=(2, 3, 5, 6) if dims == 2 else (2, 3, 7))
    ours = LAYERS.build(
        f"avg_pool{dims}d",
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        count_include_pad=count_include_pad,
        ceil_mode=True,
    )
    reference = getattr(torch.nn, f"AvgPool{dims}d")(
        kernel, stride, padding, ceil_mode=True, count_include_pad=count_include_pad
    )
    lx, tx = leaf(x), torch.from_numpy(x).requires_grad_()
    out, theirs = ours(lx), reference(tx)
    np.testing.assert_allclose(out.data, theirs.detach().numpy(), atol=1e-12)
    backward_both([out], [theirs])
    np.testing.assert_allclose(lx.grad, tx.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize(
    "mode, shape, options",
    [
        ("bilinear", (2, 3, 4, 5), {"scale_factor": 2}),
        ("bilinear", (2, 3, 4, 5), {"size": [7, 3]}),
        ("bilinear", (2, 3, 4, 5), {"scale_factor": [3, 1]}),
        ("linear", (2, 3, 4), {"size": 9}),
    ],
)
def test_linear_upsampling_matches_torch(align_corners, mode, shape, options):
    x = RNG.normal(size=shape)
    ours = LAYERS.build("upsample", mode=mode, align_corners=align_corners, **options)
    torch_options = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
    lx, tx = leaf(x), torch.from_numpy(x).requires_grad_()
    out = ours(lx)
    theirs = torch.nn.functional.interpolate(
        tx, mode=mode, align_corners=align_corners, **torch_options
    )
    np.testing.assert_allclose(out.data, theirs.detach().numpy(), atol=1e-12)
    backward_both([out], [theirs])
    np.testing.assert_allclose(lx.grad, tx.grad.numpy(), atol=1e-12)


def test_gcn_edge_weights_follow_pyg_normalization():
    edges = np.array([[0, 1, 2, 3, 0, 2, 1], [1, 2, 3, 0, 2, 2, 1]])
    weights = np.array([0.5, 1.5, 2.0, 0.7, 1.2, 3.0, 0.4])
    x = RNG.normal(size=(4, 3))
    layer = LAYERS.build("gcn_conv", out_channels=2)
    layer(x, edges)
    layer.to(np.float64)
    out = layer(leaf(x), edges, leaf(weights)).data
    # dense: A[t, s] sums the weights of s → t; a node's self loop keeps its weight, else 1
    adjacency = np.zeros((4, 4))
    loops = np.ones(4)
    for (s, t), w in zip(edges.T, weights, strict=True):
        if s == t:
            loops[s] = w
        else:
            adjacency[t, s] += w
    adjacency += np.diag(loops)
    scale = np.diag(adjacency.sum(1) ** -0.5)
    expected = scale @ adjacency @ scale @ x @ layer.lin.weight.data.T + layer.bias.data
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_unit_edge_weights_equal_no_weights():
    edges = np.array([[0, 1, 2], [1, 2, 0]])
    x = RNG.normal(size=(3, 2))
    layer = LAYERS.build("gcn_conv", out_channels=2)
    np.testing.assert_allclose(layer(x, edges, np.ones(3)).data, layer(x, edges).data, atol=1e-6)


@pytest.mark.parametrize("shape", [[-1], [2, 6], [2, -1, 2], [12]])
def test_reshape_order_f_is_numpy_column_major(shape):
    x = np.arange(24.0).reshape(2, 3, 4)
    out = LAYERS.build("reshape", shape=shape, order="F")(x).data
    expected = np.stack([example.reshape(shape, order="F") for example in x])
    np.testing.assert_array_equal(out, expected)


def test_column_major_vectorisation_stacks_the_columns():
    matrix = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    vec = LAYERS.build("reshape", shape=[-1], order="F")(matrix).data
    np.testing.assert_array_equal(vec, [[1.0, 3.0, 2.0, 4.0]])


def test_align_corners_needs_a_linear_mode():
    with pytest.raises(Exception, match="align_corners only applies"):
        LAYERS.build("upsample", scale_factor=2, align_corners=True)
