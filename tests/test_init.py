"""Initializers: statistics on large tensors against torch.nn.init's formulas, fan
conventions, aliases and errors; layers' defaults equal PyTorch's."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nnrun.components  # noqa: F401
from nnrun import random
from nnrun.errors import ArgumentError
from nnrun.init import fans, gain, initialize
from nnrun.registry import INITIALIZERS, LAYERS

SHAPE = (400, 300)  # fan_in 300, fan_out 400
FAN_IN, FAN_OUT = 300, 400


def draw(spec, shape=SHAPE):
    random.seed(0)
    return initialize(spec, shape, np.float64)


def test_fans_follow_torch_for_linear_and_conv_shapes():
    assert fans((8, 4)) == (4, 8)
    assert fans((16, 3, 5, 5)) == (75, 400)


def test_gain_matches_torch_calculate_gain():
    assert gain("relu") == pytest.approx(math.sqrt(2))
    assert gain("tanh") == pytest.approx(5 / 3)
    assert gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert gain("selu") == pytest.approx(0.75)


@pytest.mark.parametrize(
    "spec, std",
    [
        ("kaiming_normal", math.sqrt(2 / FAN_IN)),
        (
            {"type": "kaiming_normal", "mode": "fan_out", "nonlinearity": "relu"},
            math.sqrt(2 / FAN_OUT),
        ),
        ("xavier_normal", math.sqrt(2 / (FAN_IN + FAN_OUT))),
        ("lecun_normal", math.sqrt(1 / FAN_IN)),
        ({"type": "normal", "mean": 0.0, "std": 0.02}, 0.02),
    ],
)
def test_normal_initializers_have_the_documented_spread(spec, std):
    values = draw(spec)
    assert abs(values.mean()) < 0.05 * std * 10
    assert values.std() == pytest.approx(std, rel=0.02)


@pytest.mark.parametrize(
    "spec, bound",
    [
        ("kaiming_uniform", math.sqrt(6 / FAN_IN)),
        ({"type": "kaiming_uniform", "a": math.sqrt(5)}, 1 / math.sqrt(FAN_IN)),
        ("xavier_uniform", math.sqrt(6 / (FAN_IN + FAN_OUT))),
        ({"type": "xavier_uniform", "gain": 2.0}, 2 * math.sqrt(6 / (FAN_IN + FAN_OUT))),
        ({"type": "uniform", "a": -0.3, "b": 0.3}, 0.3),
    ],
)
def test_uniform_initializers_fill_their_bounds(spec, bound):
    values = draw(spec)
    assert values.min() >= -bound and values.max() <= bound
    assert values.max() > 0.99 * bound and values.min() < -0.99 * bound
    assert values.var() == pytest.approx(bound**2 / 3, rel=0.03)


def test_truncated_normal_stays_in_bounds():
    values = draw({"type": "truncated_normal", "std": 1.0, "a": -0.5, "b": 1.0})
    assert values.min() >= -0.5 and values.max() <= 1.0


def test_constants():
    assert np.all(draw("zeros") == 0) and np.all(draw("ones") == 1)
    assert np.all(draw({"type": "constant", "value": 0.25}) == 0.25)


@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (8, 3, 2, 2)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    flat = draw({"type": "orthogonal", "gain": 1.5}, shape).reshape(shape[0], -1) / 1.5
    small = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(small, np.eye(len(small)), atol=1e-10)


def test_aliases_and_float32_default():
    random.seed(0)
    a = initialize("he_normal", SHAPE)
    random.seed(0)
    b = initialize("kaiming_normal", SHAPE)
    assert a.dtype == np.float32 and np.array_equal(a, b)
    assert "glorot_uniform" in INITIALIZERS


def test_unknown_initializer_and_option_are_clear_errors():
    with pytest.raises(ArgumentError, match="did you mean 'kaiming_normal'"):
        initialize("kaiming_normel", SHAPE)
    with pytest.raises(ArgumentError, match="accepted"):
        initialize({"type": "normal", "sd": 1.0}, SHAPE)


def test_linear_default_init_is_torchs():
    random.seed(0)
    layer = LAYERS.build("linear", units=400)
    layer(np.zeros((1, FAN_IN), dtype=np.float32))
    bound = 1 / math.sqrt(FAN_IN)
    for values in (layer.weight.data, layer.bias.data):
        assert values.min() >= -bound and values.max() <= bound
    assert layer.weight.data.var() == pytest.approx(bound**2 / 3, rel=0.03)


def test_layer_init_options_are_used():
    random.seed(0)
    layer = LAYERS.build(
        "linear",
        units=64,
        init={"type": "normal", "std": 0.02},
        bias_init={"type": "constant", "value": 0.5},
    )
    layer(np.zeros((1, 500), dtype=np.float32))
    assert layer.weight.data.std() == pytest.approx(0.02, rel=0.05)
    assert np.all(layer.bias.data == 0.5)


def test_same_seed_same_initialization():
    random.seed(3)
    first = initialize("xavier_uniform", (20, 10))
    random.seed(3)
    assert np.array_equal(first, initialize("xavier_uniform", (20, 10)))


@pytest.mark.parametrize("name", INITIALIZERS.names())
def test_every_registered_initializer_fills_the_shape_reproducibly(name):
    shape = (6, 4, 3)
    first, second = draw(name, shape), draw(name, shape)
    assert first.shape == shape and np.isfinite(first).all()
    np.testing.assert_array_equal(first, second)
    random.seed(0)
    assert initialize(name, shape).dtype == np.float32
