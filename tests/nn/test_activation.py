"""Activations: values and input gradients against torch and closed forms, dtypes, the
registry schema of the generated layers, and get_activation()."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnrun.autograd.tensor import Tensor
from nnrun.constraints import split
from nnrun.errors import ArgumentError
from nnrun.nn import activation as act
from nnrun.nn.linear import Linear
from nnrun.ops.activations import erf
from nnrun.registry import ACTIVATIONS, LAYERS
from tests.extras import need
from tests.nn.samples import away_from_kinks
from tests.nn.samples_core import ACTIVATION_SAMPLES

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _phi(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.array([math.erf(v / math.sqrt(2)) for v in x.ravel()]).reshape(x.shape))


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# Closed forms written independently of the implementation (NumPy / math only).
CLOSED_FORMS = {
    "identity": lambda x: x,
    "sign": np.sign,
    "sign_ste": np.sign,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "relu": lambda x: np.where(x > 0, x, 0.0),
    "leaky_relu": lambda x, negative_slope=0.01: np.where(x > 0, x, negative_slope * x),
    "elu": lambda x, alpha=1.0: np.where(x > 0, x, alpha * (np.exp(x) - 1)),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1)),
    "gelu": lambda x, approximate="none": (
        x * _phi(x)
        if approximate == "none"
        else 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    ),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "softplus": lambda x, beta=1.0, threshold=20.0: np.where(
        beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta
    ),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "hardtanh": lambda x, min_val=-1.0, max_val=1.0: np.minimum(np.maximum(x, min_val), max_val),
    "hard_sigmoid": lambda x: np.minimum(np.maximum(x + 3, 0), 6) / 6,
    "sinusoid": np.sin,
    "sinc": lambda x: np.sinc(x),  # NumPy's sinc is the normalized one, as torch.sinc
    "gaussian": lambda x: np.exp(-(x**2)),
    "polynomial": lambda x, coefficients: sum(c * x**k for k, c in enumerate(coefficients)),
    "softmax": lambda x, dim=-1: _softmax(x, dim),
    "log_softmax": lambda x, dim=-1: np.log(_softmax(x, dim)),
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
}

CASES = [
    pytest.param(name, options, id=f"{name}-{i}")
    for name, option_sets in ACTIVATION_SAMPLES.items()
    for i, options in enumerate(option_sets)
]


def test_every_activation_has_a_closed_form_and_samples():
    assert set(CLOSED_FORMS) == set(ACTIVATIONS.names()) == set(ACTIVATION_SAMPLES)


@pytest.mark.parametrize(("name", "options"), CASES)
def test_forward_matches_closed_form_in_float64(name, options):
    x = away_from_kinks(4, 5, seed=3) * 2
    out = ACTIVATIONS.get(name)(Tensor(x, dtype=np.float64), **options)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, CLOSED_FORMS[name](x, **options), rtol=1e-12, atol=1e-14)


def _torch_reference(torch, name: str, options: dict):
    F = torch.nn.functional
    table = {
        "identity": lambda x: x,
        "sign": torch.sign,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": F.relu,
        "leaky_relu": lambda x: F.leaky_relu(x, **options),
        "elu": lambda x: F.elu(x, **options),
        "selu": F.selu,
        "gelu": lambda x: F.gelu(x, **options),
        "silu": F.silu,
        "softplus": lambda x: F.softplus(x, **options),
        "softsign": F.softsign,
        "hardtanh": lambda x: F.hardtanh(x, **options),
        "hard_sigmoid": F.hardsigmoid,
        "sinusoid": torch.sin,
        "sinc": torch.sinc,
        "gaussian": lambda x: torch.exp(-(x**2)),
        "polynomial": lambda x: sum(c * x**k for k, c in enumerate(options["coefficients"])),
        "softmax": lambda x: F.softmax(x, **{"dim": -1, **options}),
        "log_softmax": lambda x: F.log_softmax(x, **{"dim": -1, **options}),
        "mish": F.mish,
        # Forward sign, backward hardtanh's gradient: the straight-through estimator.
        "sign_ste": lambda x: torch.sign(x).detach() + F.hardtanh(x) - F.hardtanh(x).detach(),
    }
    return table[name]


@pytest.mark.parametrize(("name", "options"), CASES)
def test_value_and_input_gradient_match_torch_in_float64(name, options):
    torch = need("torch")
    # Wider than the gradcheck inputs so softplus' threshold and hard_sigmoid's ±3 are crossed.
    x = away_from_kinks(6, 7, seed=11) * 3
    upstream = np.random.default_rng(1).standard_normal(x.shape)
    ours_x = Tensor(x, requires_grad=True, dtype=np.float64)
    ours = ACTIVATIONS.get(name)(ours_x, **options)
    ours.backward(upstream)
    torch_x = torch.tensor(x, requires_grad=True)
    theirs = _torch_reference(torch, name, options)(torch_x)
    theirs.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    # torch's hardsigmoid backward multiplies by a float32 1/6, exact only to ~3e-8.
    rtol = 1e-7 if name == "hard_sigmoid" else 1e-10
    np.testing.assert_allclose(ours_x.grad, torch_x.grad.numpy(), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize(("name", "options"), CASES)
def test_float32_in_gives_float32_out_and_gradient(name, options):
    x = away_from_kinks(3, 4, seed=2).astype(np.float32)
    t = Tensor(x, requires_grad=True)
    out = ACTIVATIONS.get(name)(t, **options)
    out.sum().backward()
    assert out.dtype == np.float32
    assert t.grad.dtype == np.float32
    expected = CLOSED_FORMS[name](x.astype(np.float64), **options)
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)


def test_erf_is_accurate_to_float64_precision_everywhere():
    x = np.linspace(-8, 8, 4001)
    reference = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(erf(x), reference, rtol=1e-15, atol=1e-16)


def test_sign_has_zero_gradient_and_sign_ste_passes_it_inside_unit_band():
    x = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    grad = np.arange(1.0, 8.0)
    plain = Tensor(x, requires_grad=True, dtype=np.float64)
    act.sign(plain).backward(grad)
    np.testing.assert_array_equal(plain.grad, np.zeros(7))
    ste = Tensor(x, requires_grad=True, dtype=np.float64)
    out = act.sign_ste(ste)
    out.backward(grad)
    np.testing.assert_array_equal(out.data, [-1, -1, -1, 0, 1, 1, 1])
    np.testing.assert_array_equal(ste.grad, [0, 2, 3, 4, 5, 6, 0])


def test_sinc_is_one_with_zero_slope_at_zero_and_smooth_nearby():
    x = np.array([0.0, 1e-9, -3e-3, 9.9e-3 / np.pi, 1.01e-2 / np.pi, 0.5])
    t = Tensor(x, requires_grad=True, dtype=np.float64)
    out = act.sinc(t)
    out.sum().backward()
    np.testing.assert_allclose(out.data, np.sinc(x), rtol=1e-15)
    exact_slope = [
        0.0 if v == 0 else (np.cos(np.pi * v) * np.pi * v - np.sin(np.pi * v)) / (np.pi * v * v)
        for v in x
    ]
    exact_slope[1] = -(np.pi**2) * 1e-9 / 3  # the quotient cancels to noise this close to 0
    np.testing.assert_allclose(t.grad, exact_slope, rtol=1e-9, atol=1e-15)


def test_softplus_and_silu_stay_finite_for_huge_inputs():
    x = Tensor(np.array([-1000.0, 1000.0]), requires_grad=True, dtype=np.float64)
    out = act.softplus(x) + act.silu(x)
    out.sum().backward()
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(out.data, [0.0, 2000.0])


def test_layer_is_built_from_options_and_rejects_unknown_ones():
    layer = LAYERS.build("leaky_relu", negative_slope=0.2)
    assert isinstance(layer, act.LeakyReLU)
    np.testing.assert_allclose(layer(np.array([-1.0, 2.0])).data, [-0.2, 2.0])
    assert repr(layer) == "LeakyReLU(negative_slope=0.2)"
    assert act.LeakyReLU(0.3).options == {"negative_slope": 0.3}  # positional, as torch
    with pytest.raises(ArgumentError, match="accepted: negative_slope") as info:
        LAYERS.build("leaky_relu", slope=0.2)
    assert info.value.key == "slope"
    with pytest.raises(ArgumentError, match="negative_slope"):
        LAYERS.build("leaky_relu", negative_slope="steep")


def test_layer_signature_carries_the_options_with_defaults():
    params = LAYERS.parameters("softplus")
    assert list(params) == ["beta", "threshold"]
    assert params["beta"].default == 1.0 and split(params["beta"].annotation)[0] is float
    assert list(LAYERS.parameters("relu")) == []
    with pytest.raises(ArgumentError, match="coefficients"):
        LAYERS.build("polynomial")


def test_activation_names_and_aliases_are_layers_except_linear():
    assert LAYERS.get("linear") is Linear
    assert LAYERS.get("identity") is act.Identity
    assert LAYERS.get("swish") is act.SiLU and LAYERS.get("sin") is act.Sinusoid
    assert ACTIVATIONS.get("linear") is act.identity
    for name in ACTIVATIONS.names():
        assert name in LAYERS


def test_get_activation_accepts_none_names_mappings_and_callables():
    x = Tensor(np.array([-2.0, 3.0]))
    assert act.get_activation(None)(x) is x
    np.testing.assert_allclose(act.get_activation("relu")(x).data, [0, 3])
    np.testing.assert_allclose(act.get_activation("swish")(x).data, act.silu(x).data)
    slope = act.get_activation({"type": "leaky_relu", "negative_slope": 0.5})
    np.testing.assert_allclose(slope(x).data, [-1, 3])
    assert act.get_activation(act.tanh) is act.tanh
    softmax = act.get_activation({"type": "softmax", "axis": 0})
    np.testing.assert_allclose(softmax(x).data.sum(), 1.0, rtol=1e-6)


@pytest.mark.parametrize(
    ("spec", "key", "message"),
    [
        ("rellu", "", "did you mean 'relu'"),
        ({"negative_slope": 0.1}, "type", "needs `type"),
        ({"type": "elu", "alpha": "big"}, "alpha", "must be float"),
        ({"type": "hardtanh", "min_val": 1.0, "max_val": 0.0}, "max_val", "below max_val"),
        ({"type": "polynomial", "coefficients": []}, "coefficients", "at least one"),
        ({"type": "softplus", "beta": 0}, "beta", "must not be 0"),
        ({"type": "gelu", "approximate": "erf"}, "approximate", "'none', 'tanh'"),
        (3, "activation", "name or a mapping"),
    ],
)
def test_bad_activation_specs_raise_argument_errors(spec, key, message):
    with pytest.raises(ArgumentError, match=message) as info:
        act.get_activation(spec)
    assert info.value.key == key


def test_softmax_layer_normalizes_along_dim_and_repr_shows_it():
    layer = LAYERS.build("softmax", dim=0)
    out = layer(np.random.default_rng(0).standard_normal((3, 4)))
    np.testing.assert_allclose(out.data.sum(axis=0), np.ones(4), rtol=1e-6)
    assert repr(layer) == "Softmax(dim=0)"
