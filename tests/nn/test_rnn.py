"""Recurrent layers against torch.nn.RNN/LSTM/GRU (same weights, float64) and their errors."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun.autograd.tensor import Tensor
from nnrun.errors import ShapeError
from nnrun.nn.rnn import GRU, LSTM, RNN
from nnrun.registry import LAYERS
from tests.extras import need

torch = need("torch")

PAIRS = [(RNN, "RNN"), (LSTM, "LSTM"), (GRU, "GRU")]
CASES = [
    ({}, None),
    ({"bidirectional": True, "num_layers": 2}, None),
    ({"bidirectional": True, "num_layers": 2}, [5, 2, 3]),
    ({"bidirectional": True, "output": "last"}, [5, 2, 3]),
    ({"output": "last", "bias": False}, None),
]


def run_both(layer_class, torch_name, kwargs, lengths):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 3))
    layer = layer_class(hidden_size=4, **kwargs)
    layer(x)
    layer.to(np.float64)
    torch_kwargs = {k: v for k, v in kwargs.items() if k != "output"}
    reference = getattr(torch.nn, torch_name)(3, 4, batch_first=True, **torch_kwargs).double()
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    ours_x = Tensor(x, requires_grad=True, dtype=np.float64)
    ours = layer(ours_x, None if lengths is None else np.array(lengths))
    theirs_x = torch.from_numpy(x).requires_grad_()
    if lengths is None:
        theirs, state = reference(theirs_x)
    else:
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            theirs_x, torch.tensor(lengths), batch_first=True, enforce_sorted=False
        )
        theirs, state = reference(packed)
        theirs, _ = torch.nn.utils.rnn.pad_packed_sequence(theirs, batch_first=True, total_length=5)
    if kwargs.get("output") == "last":
        h_n = state[0] if isinstance(state, tuple) else state
        directions = 2 if kwargs.get("bidirectional") else 1
        theirs = torch.cat([h_n[-directions + i] for i in range(directions)], dim=-1)
    grad = rng.normal(size=tuple(theirs.shape))
    ours.backward(grad)
    theirs.backward(torch.from_numpy(grad))
    return ours, ours_x, theirs, theirs_x, layer, reference


@pytest.mark.parametrize("layer_class,torch_name", PAIRS)
@pytest.mark.parametrize("kwargs,lengths", CASES)
def test_recurrent_layers_match_torch_outputs_and_gradients(
    layer_class, torch_name, kwargs, lengths
):
    ours, ours_x, theirs, theirs_x, layer, reference = run_both(
        layer_class, torch_name, kwargs, lengths
    )
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(ours_x.grad, theirs_x.grad.numpy(), atol=1e-10)
    torch_grads = dict(reference.named_parameters())
    for name, param in layer.named_parameters():
        np.testing.assert_allclose(param.grad, torch_grads[name].grad.numpy(), atol=1e-10)


def test_relu_rnn_matches_torch():
    ours, ours_x, theirs, theirs_x, *_ = run_both(
        RNN, "RNN", {"nonlinearity": "relu", "bidirectional": True}, None
    )
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(ours_x.grad, theirs_x.grad.numpy(), atol=1e-10)


def test_state_dict_keys_and_shapes_follow_torch_layout():
    layer = LAYERS.build("lstm", hidden_size=4, num_layers=2, bidirectional=True)
    layer(np.zeros((2, 3, 5), dtype=np.float32))
    reference = torch.nn.LSTM(5, 4, num_layers=2, bidirectional=True)
    assert {k: v.shape for k, v in layer.state_dict().items()} == {
        k: tuple(v.shape) for k, v in reference.state_dict().items()
    }
    assert all(v.dtype == np.float32 for v in layer.state_dict().values())
    assert all(np.abs(v).max() <= 0.5 for v in layer.state_dict().values())  # U(±1/√4)


def test_boolean_mask_equals_lengths_and_padding_outputs_zero():
    x = np.random.default_rng(1).normal(size=(2, 4, 3)).astype(np.float32)
    layer = GRU(hidden_size=3, bidirectional=True)
    by_lengths = layer(x, np.array([4, 2])).data
    by_mask = layer(x, np.array([[True] * 4, [True, True, False, False]])).data
    np.testing.assert_array_equal(by_lengths, by_mask)
    assert np.all(by_lengths[1, 2:] == 0)
    alone = layer(x[1:, :2]).data
    np.testing.assert_allclose(by_lengths[1:, :2], alone, atol=1e-6)


def test_batch_first_false_takes_time_major_input():
    x = np.random.default_rng(2).normal(size=(4, 2, 3)).astype(np.float32)
    layer = LSTM(hidden_size=3, batch_first=False)
    out = layer(x)
    assert out.shape == (4, 2, 3)
    batch_major = LSTM(hidden_size=3)
    batch_major(x.transpose(1, 0, 2))
    batch_major.load_state_dict(layer.state_dict())
    np.testing.assert_allclose(batch_major(x.transpose(1, 0, 2)).data, out.data.transpose(1, 0, 2))


def test_wrong_inputs_raise_shape_errors():
    layer = LSTM(hidden_size=3)
    with pytest.raises(ShapeError, match=r"\(N, T, features\)"):
        layer(np.zeros((2, 3)))
    layer(np.zeros((2, 3, 4)))
    with pytest.raises(ShapeError, match=r"\(N, T, 4\), got \(2, 3, 5\)"):
        layer(np.zeros((2, 3, 5)))
    with pytest.raises(ShapeError, match=r"lengths must lie in \[0, 3\]"):
        layer(np.zeros((2, 3, 4)), np.array([4, 1]))
    with pytest.raises(ShapeError, match="lengths must be integers"):
        layer(np.zeros((2, 3, 4)), np.array([1.5, 1.0]))
