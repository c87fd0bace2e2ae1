"""The dense layer: torch.nn.Linear semantics, lazy sizes, init, activation, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnrun import random
from nnrun.autograd.tensor import Tensor
from nnrun.errors import ArgumentError, DataError, ShapeError
from nnrun.nn.linear import Linear
from nnrun.registry import LAYERS
from nnrun.testing.gradcheck import gradcheck
from tests.extras import need


def _built(units: int, x: np.ndarray, **kwargs) -> Linear:
    layer = Linear(units, **kwargs)
    layer(x)
    return layer.to(np.float64)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (5,)])
def test_output_and_gradients_match_torch_linear(bias, shape):
    torch = need("torch")
    x = np.random.default_rng(0).standard_normal(shape)
    layer = _built(3, x, bias=bias)
    reference = torch.nn.Linear(5, 3, bias=bias).double()
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    upstream = np.random.default_rng(1).standard_normal((*shape[:-1], 3))

    ours_x = Tensor(x, requires_grad=True, dtype=np.float64)
    ours = layer(ours_x)
    ours.backward(upstream)
    torch_x = torch.tensor(x, requires_grad=True)
    theirs = reference(torch_x)
    theirs.backward(torch.from_numpy(upstream))

    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours_x.grad, torch_x.grad.numpy(), rtol=1e-12, atol=1e-14)
    for name, param in layer.named_parameters():
        expected = dict(reference.named_parameters())[name].grad.numpy()
        np.testing.assert_allclose(param.grad, expected, rtol=1e-12, atol=1e-14)


def test_parameters_have_torch_names_layouts_and_are_created_from_the_first_input():
    layer = LAYERS.build("dense", out_features=4)
    assert layer.state_dict() == {}
    layer(np.zeros((2, 7), dtype=np.float32))
    shapes = {k: v.shape for k, v in layer.state_dict().items()}
    assert shapes == {"weight": (4, 7), "bias": (4,)}
    assert layer.in_features == 7 and layer.num_parameters() == 32
    assert repr(layer) == "Linear(in_features=7, out_features=4, bias=True)"


def test_default_init_is_uniform_within_one_over_sqrt_fan_in():
    random.seed(3)
    layer = Linear(200, in_features=50)
    bound = 1 / math.sqrt(50)
    for param in (layer.weight.data, layer.bias.data):
        assert np.abs(param).max() <= bound
        assert np.abs(param).max() > 0.95 * bound  # fills the range, not a narrower law
    assert abs(layer.weight.data.std() - bound / math.sqrt(3)) < 0.01 * bound


def test_init_and_bias_init_specs_override_the_default():
    layer = Linear(3, init={"type": "constant", "value": 0.5}, bias_init="zeros", in_features=2)
    np.testing.assert_array_equal(layer.weight.data, np.full((3, 2), 0.5))
    np.testing.assert_array_equal(layer.bias.data, np.zeros(3))


def test_same_seed_gives_same_weights():
    random.seed(7)
    first = Linear(3, in_features=4).weight.data.copy()
    random.seed(7)
    np.testing.assert_array_equal(Linear(3, in_features=4).weight.data, first)


def test_activation_option_is_applied_to_the_output():
    layer = Linear(2, activation={"type": "leaky_relu", "negative_slope": 0.5}, in_features=2)
    layer.weight.data[...] = [[1.0, 0.0], [0.0, 1.0]]
    layer.bias.data[...] = 0
    np.testing.assert_allclose(layer(np.array([[-2.0, 3.0]])).data, [[-1.0, 3.0]])
    assert "activation=leaky_relu(negative_slope=0.5)" in repr(layer)


def test_gradcheck_with_activation_and_batch_dims():
    x = np.random.default_rng(2).uniform(-1, 1, (2, 3, 4))
    layer = _built(3, x, activation="tanh")
    assert gradcheck(layer, [x], params=list(layer.parameters()))


def test_parameters_take_the_first_input_tensors_float_dtype():
    layer = Linear(2)
    out = layer(Tensor(np.ones((1, 3)), dtype=np.float64))
    assert layer.weight.dtype == np.float64 and out.dtype == np.float64
    assert Linear(2)(np.ones((1, 3), dtype=np.float32)).dtype == np.float32


def test_later_input_with_other_width_raises_shape_error_naming_both():
    layer = Linear(2)
    layer(np.ones((4, 3)))
    with pytest.raises(ShapeError, match=r"\(\.\.\., 3\).*\(4, 5\)"):
        layer(np.ones((4, 5)))
    with pytest.raises(ShapeError, match="in_features=6"):
        Linear(2, in_features=6)(np.ones((1, 3)))


def test_bad_inputs_and_arguments_raise_nnrun_errors():
    with pytest.raises(DataError, match="floating-point"):
        Linear(2)(np.array([[1, 2]]))
    with pytest.raises(ShapeError, match="scalar"):
        Linear(2)(np.float32(1.0))
    with pytest.raises(ArgumentError, match="units") as info:
        LAYERS.build("linear", units=0)
    assert info.value.key == "units"
    with pytest.raises(ArgumentError, match="did you mean 'relu'"):
        Linear(2, activation="rellu")


def test_no_bias_layer_has_no_bias_entry():
    layer = Linear(3, bias=False, in_features=2)
    assert list(layer.state_dict()) == ["weight"]
    assert layer.bias is None
    assert "bias=False" in repr(layer)
