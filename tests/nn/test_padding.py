"""Padding and upsampling layers against torch, plus argument and shape errors."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun.errors import ArgumentError, ShapeError
from nnrun.nn.padding import ConstantPad, ReflectionPad, ReplicationPad, Upsample, ZeroPad2d
from nnrun.registry import LAYERS
from tests.extras import need
from tests.nn.samples_conv import compare_with_torch


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _padding(padding):
    return tuple(padding) if isinstance(padding, list) else padding


@pytest.mark.parametrize("padding", [2, [1, 0, 2, 3]])
def test_zero_pad2d_matches_torch(padding):
    torch = need("torch")
    reference = torch.nn.ZeroPad2d(_padding(padding))
    compare_with_torch(ZeroPad2d(padding), reference, _x(2, 3, 4, 5))


@pytest.mark.parametrize(
    "padding,shape,torch_name",
    [
        ([2, 1], (2, 3, 4), "ConstantPad1d"),
        (1, (2, 3, 5), "ConstantPad1d"),
        ([1, 2, 0, 3], (2, 3, 4, 4), "ConstantPad2d"),
        (2, (1, 2, 3, 3), "ConstantPad2d"),
    ],
)
def test_constant_pad_matches_torch_by_padding_length_or_input_rank(padding, shape, torch_name):
    torch = need("torch")
    reference = getattr(torch.nn, torch_name)(_padding(padding), 0.75)
    compare_with_torch(ConstantPad(padding, value=0.75), reference, _x(*shape))


@pytest.mark.parametrize(
    "layer,torch_prefix", [(ReflectionPad, "ReflectionPad"), (ReplicationPad, "ReplicationPad")]
)
@pytest.mark.parametrize(
    "padding,shape,dims",
    [
        ([2, 1], (2, 3, 4), 1),
        (2, (2, 3, 5), 1),
        ([1, 2, 3, 0], (2, 3, 4, 5), 2),
        (1, (1, 2, 3, 3), 2),
    ],
)
def test_reflection_and_replication_match_torch(layer, torch_prefix, padding, shape, dims):
    torch = need("torch")
    reference = getattr(torch.nn, f"{torch_prefix}{dims}d")(_padding(padding))
    compare_with_torch(layer(padding), reference, _x(*shape))


def test_reflection_padding_must_be_smaller_than_the_axis():
    with pytest.raises(ShapeError, match="smaller than the padded axis"):
        ReflectionPad([3, 0])(np.zeros((1, 1, 3), dtype=np.float32))


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"scale_factor": 2}, (2, 3, 3, 4)),
        ({"scale_factor": [2, 3]}, (1, 2, 3, 2)),
        ({"size": [5, 7]}, (2, 3, 3, 4)),
        ({"size": [2, 3]}, (1, 2, 5, 7)),
        ({"scale_factor": 3}, (2, 3, 4)),
        ({"size": 7}, (2, 3, 5)),
    ],
)
def test_upsample_nearest_matches_torch(kwargs, shape):
    torch = need("torch")
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    if "scale_factor" in args:
        factor = args["scale_factor"]
        args["scale_factor"] = tuple(map(float, factor)) if isinstance(factor, tuple) else factor
    reference = torch.nn.Upsample(mode="nearest", **args)
    compare_with_torch(Upsample(**kwargs), reference, _x(*shape))


def test_registry_builds_every_padding_layer():
    for name, kwargs in [
        ("zero_pad2d", {"padding": 1}),
        ("constant_pad", {"padding": [1, 1]}),
        ("reflection_pad2d", {"padding": 1}),
        ("replication_pad", {"padding": 1}),
        ("upsampling", {"scale_factor": 2}),
    ]:
        out = LAYERS.build(name, **kwargs)(np.ones((1, 1, 2, 2), dtype=np.float32))
        assert out.dtype == np.float32


@pytest.mark.parametrize(
    "name,kwargs,key",
    [
        ("zero_pad2d", {"padding": [1, 2]}, "padding"),
        ("constant_pad", {"padding": [1, 2, 3]}, "padding"),
        ("reflection_pad", {"padding": -1}, "padding"),
        ("upsample", {}, "scale_factor"),
        ("upsample", {"size": 4, "scale_factor": 2}, "size"),
        ("upsample", {"scale_factor": 0}, "scale_factor"),
    ],
)
def test_bad_arguments_name_the_key(name, kwargs, key):
    with pytest.raises(ArgumentError) as error:
        LAYERS.build(name, **kwargs)
    assert error.value.key == key


def test_shape_errors():
    with pytest.raises(ShapeError, match="needs input"):
        ConstantPad(1)(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ShapeError, match="spatial axes"):
        Upsample(size=[2, 3, 4])(np.zeros((1, 1, 2, 2), dtype=np.float32))
