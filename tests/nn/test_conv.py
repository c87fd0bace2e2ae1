"""Convolution layers: torch equivalence, lazy sizes, init, fused activation, errors, and
gradcheck of every sample in samples_conv.py."""

from __future__ import annotations

import numpy as np
import pytest

import nnrun.nn.conv
import nnrun.nn.dropout2d
import nnrun.nn.normalization
import nnrun.nn.padding
import nnrun.nn.pooling
from nnrun import random
from nnrun.errors import ArgumentError, ShapeError
from nnrun.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from nnrun.registry import LAYERS
from nnrun.testing.gradcheck import gradcheck_report
from tests.extras import need
from tests.nn.samples_conv import LAYER_SAMPLES, compare_with_torch


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


CONV2D_CASES = [
    ({"kernel_size": 3}, (2, 3, 6, 5)),
    ({"kernel_size": [3, 2], "stride": [2, 1], "padding": [1, 2]}, (2, 3, 7, 6)),
    ({"kernel_size": 3, "dilation": [2, 1], "groups": 3, "bias": False}, (2, 3, 7, 6)),
    ({"kernel_size": [4, 3], "padding": "same", "dilation": 2}, (2, 3, 8, 7)),
    ({"kernel_size": 3, "padding": "valid", "stride": 3}, (2, 3, 10, 11)),
    ({"kernel_size": 3, "padding": 1, "groups": 3}, (17, 3, 5, 4)),  # batch-innermost layout
    ({"kernel_size": [2, 3], "stride": 2, "dilation": 2}, (16, 3, 7, 8)),
]


@pytest.mark.parametrize("kwargs,shape", CONV2D_CASES)
def test_conv2d_matches_torch(kwargs, shape):
    torch = need("torch")
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    reference = torch.nn.Conv2d(shape[1], 6, **args)
    compare_with_torch(Conv2d(6, **kwargs), reference, _x(*shape))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": 3},
        {"kernel_size": 4, "stride": 2, "padding": 3, "groups": 3},
        {"kernel_size": 2, "padding": "same", "dilation": 3},
    ],
)
# torch notes that it pads a copy of the input for 'same' with an even kernel: its concern
@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
def test_conv1d_matches_torch(kwargs):
    torch = need("torch")
    compare_with_torch(Conv1d(6, **kwargs), torch.nn.Conv1d(3, 6, **kwargs), _x(2, 3, 9))


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"kernel_size": 3}, (2, 3, 4, 5)),
        (
            {
                "kernel_size": [3, 2],
                "stride": [2, 3],
                "padding": [1, 0],
                "output_padding": [1, 2],
                "groups": 3,
            },
            (2, 3, 4, 3),
        ),
        (
            {"kernel_size": 2, "stride": 2, "dilation": 3, "output_padding": 1, "bias": False},
            (2, 3, 3, 3),
        ),
    ],
)
def test_conv_transpose2d_matches_torch(kwargs, shape):
    torch = need("torch")
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    reference = torch.nn.ConvTranspose2d(shape[1], 6, **args)
    compare_with_torch(ConvTranspose2d(6, **kwargs), reference, _x(*shape))


def test_conv_transpose1d_matches_torch():
    torch = need("torch")
    kwargs = {"kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1}
    reference = torch.nn.ConvTranspose1d(4, 5, **kwargs)
    compare_with_torch(ConvTranspose1d(5, **kwargs), reference, _x(2, 4, 6))


def test_conv_transpose_doubles_the_size_that_a_strided_conv_halves():
    x = _x(2, 3, 8, 8).astype(np.float32)
    down = Conv2d(4, 3, stride=2, padding=1)(x)
    up = ConvTranspose2d(3, 3, stride=2, padding=1, output_padding=1)(down)
    assert down.shape == (2, 4, 4, 4) and up.shape == x.shape


@pytest.mark.parametrize(
    "activation", ["relu", "tanh", {"type": "leaky_relu", "negative_slope": 0.2}]
)
def test_activation_option_matches_torch(activation):
    torch = need("torch")
    functions = {
        "relu": torch.relu,
        "tanh": torch.tanh,
        "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.2),
    }
    function = functions[activation if isinstance(activation, str) else activation["type"]]

    class Reference(torch.nn.Conv2d):
        def forward(self, x):
            return function(super().forward(x))

    layer = Conv2d(4, 3, padding=1, activation=activation)
    compare_with_torch(layer, Reference(3, 4, 3, padding=1), _x(2, 3, 5, 5))


def test_parameters_are_created_from_the_first_input_with_torch_names_and_layouts():
    layer = LAYERS.build("conv2d", filters=8, kernel_size=[3, 5], groups=2)
    assert layer.state_dict() == {}
    out = layer(np.zeros((1, 4, 9, 9), dtype=np.float32))
    assert out.shape == (1, 8, 7, 5) and out.dtype == np.float32
    state = layer.state_dict()
    assert list(state) == ["weight", "bias"]
    assert state["weight"].shape == (8, 2, 3, 5) and state["weight"].dtype == np.float32
    transposed = ConvTranspose2d(6, 3, groups=2)
    transposed(np.zeros((1, 4, 5, 5), dtype=np.float32))
    assert transposed.weight.shape == (4, 3, 3, 3)


def test_default_init_is_torch_uniform_with_fan_in_of_the_kernel():
    random.seed(0)
    layer = Conv2d(64, 3, in_channels=8)
    bound = 1 / np.sqrt(8 * 9)
    for values in (layer.weight.data, layer.bias.data):
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.9 * bound
    ones = Conv2d(2, 3, in_channels=1, init="ones", bias_init="zeros")
    assert np.all(ones.weight.data == 1) and np.all(ones.bias.data == 0)


def test_same_padding_keeps_the_size_and_pads_the_extra_at_the_end():
    torch = need("torch")
    layer = Conv2d(2, [4, 2], padding="same", in_channels=1)
    x = _x(1, 1, 6, 5)
    reference = torch.nn.Conv2d(1, 2, (4, 2), padding="same")
    ours, _ = compare_with_torch(layer, reference, x)
    assert ours.shape == (1, 2, 6, 5)


def test_float32_stays_float32_through_forward_and_backward():
    from nnrun.autograd.tensor import Tensor

    layer = Conv2d(4, 3, padding=1, activation="relu")
    x = Tensor(_x(2, 3, 6, 6).astype(np.float32), requires_grad=True)
    out = layer(x)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
    assert layer.weight.grad.dtype == np.float32 and layer.bias.grad.dtype == np.float32


@pytest.mark.parametrize(
    "kwargs,key",
    [
        ({"out_channels": 0, "kernel_size": 3}, "out_channels"),
        ({"out_channels": 4, "kernel_size": [3, 3, 3]}, "kernel_size"),
        ({"out_channels": 4, "kernel_size": 3, "stride": 0}, "stride"),
        ({"out_channels": 4, "kernel_size": 3, "padding": -1}, "padding"),
        ({"out_channels": 4, "kernel_size": 3, "groups": 3}, "groups"),
        ({"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": "same"}, "padding"),
        ({"out_channels": 4, "kernel_size": 3, "padding": "full"}, "padding"),
    ],
)
def test_bad_arguments_name_the_key(kwargs, key):
    with pytest.raises(ArgumentError) as error:
        LAYERS.build("conv2d", **kwargs)
    assert error.value.key == key


def test_output_padding_must_be_smaller_than_stride():
    with pytest.raises(ArgumentError, match="output_padding"):
        ConvTranspose2d(3, 3, stride=2, output_padding=2)


def test_wrong_input_shapes_raise_shape_errors_with_both_shapes():
    layer = Conv2d(4, 3)
    layer(np.zeros((2, 3, 8, 8), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"C=3.*\(2, 5, 8, 8\)"):
        layer(np.zeros((2, 5, 8, 8), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\)"):
        layer(np.zeros((3, 8, 8), dtype=np.float32))
    with pytest.raises(ShapeError, match="too small"):
        layer(np.zeros((2, 3, 2, 8), dtype=np.float32))
    with pytest.raises(ShapeError, match="divisible by groups"):
        Conv2d(4, 3, groups=2)(np.zeros((1, 3, 5, 5), dtype=np.float32))


def test_repr_reads_like_torch():
    layer = Conv2d(8, 3, stride=2, padding=1, activation="relu", in_channels=3)
    assert repr(layer) == (
        "Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=1, activation=relu)"
    )


SAMPLES = [
    pytest.param(name, sample, id=f"{name}-{sample.id or i}")
    for name, samples in LAYER_SAMPLES.items()
    for i, sample in enumerate(samples)
]


@pytest.mark.parametrize("name,sample", SAMPLES)
def test_every_sample_passes_gradcheck(name, sample):
    """What the registry walker does: seeded forward, build, float64, mode, gradcheck."""
    layer = LAYERS.build(name, **sample.kwargs)
    random.seed(0)
    layer(*sample.inputs)
    layer.to(np.float64).train(sample.train)
    params = list(layer.parameters())

    def fn(*inputs):
        random.seed(0)
        return layer(*inputs)

    failures = [r.describe() for r in gradcheck_report(fn, sample.inputs, params) if not r.ok]
    assert not failures, "\n".join(failures)


def test_every_registered_layer_of_these_modules_has_a_sample():
    modules = {
        m.__name__
        for m in (
            nnrun.nn.conv,
            nnrun.nn.dropout2d,
            nnrun.nn.normalization,
            nnrun.nn.padding,
            nnrun.nn.pooling,
        )
    }
    mine = {name for name in LAYERS.names() if LAYERS.get(name).__module__ in modules}
    assert mine == set(LAYER_SAMPLES)
