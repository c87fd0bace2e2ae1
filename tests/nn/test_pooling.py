"""Pooling layers against torch: values, input gradients (incl. the max-pool tie rule),
layouts kept, argument and shape errors."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun.autograd.tensor import Tensor
from nnrun.errors import ArgumentError, ShapeError
from nnrun.nn.conv import Conv2d
from nnrun.nn.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    GlobalAvgPool,
    MaxPool1d,
    MaxPool2d,
)
from nnrun.registry import LAYERS
from tests.extras import need
from tests.nn.samples_conv import compare_with_torch


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _torch_args(kwargs):
    return {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"kernel_size": 2}, (2, 3, 6, 6)),
        ({"kernel_size": 2}, (2, 3, 7, 5)),
        ({"kernel_size": 3, "stride": 1, "padding": 1}, (2, 3, 5, 6)),
        ({"kernel_size": [3, 2], "stride": [2, 1], "dilation": [1, 2]}, (2, 2, 7, 7)),
        ({"kernel_size": 3, "stride": 3, "padding": 1}, (1, 2, 8, 8)),
        ({"kernel_size": 2}, (16, 2, 6, 6)),
    ],
)
def test_max_pool2d_matches_torch(kwargs, shape):
    torch = need("torch")
    reference = torch.nn.MaxPool2d(**_torch_args(kwargs))
    compare_with_torch(MaxPool2d(**kwargs), reference, _x(*shape))


def test_max_pool1d_matches_torch():
    torch = need("torch")
    kwargs = {"kernel_size": 3, "stride": 2, "padding": 1}
    compare_with_torch(MaxPool1d(**kwargs), torch.nn.MaxPool1d(**kwargs), _x(2, 3, 9))


@pytest.mark.parametrize("kernel_size,stride", [(2, 2), (3, 1)])
def test_ties_send_the_gradient_to_the_first_maximum_as_torch(kernel_size, stride):
    torch = need("torch")
    x = np.round(_x(2, 2, 6, 6)).clip(0, 1)  # many equal values per window
    reference = torch.nn.MaxPool2d(kernel_size, stride)
    compare_with_torch(MaxPool2d(kernel_size, stride), reference, x)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({"kernel_size": 2}, (2, 3, 6, 7)),
        ({"kernel_size": 3, "stride": 2, "padding": 1}, (2, 3, 7, 6)),
        ({"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}, (2, 3, 7, 6)),
        ({"kernel_size": [2, 3], "stride": 1}, (1, 2, 4, 5)),
    ],
)
def test_avg_pool2d_matches_torch(kwargs, shape):
    torch = need("torch")
    reference = torch.nn.AvgPool2d(**_torch_args(kwargs))
    compare_with_torch(AvgPool2d(**kwargs), reference, _x(*shape))


def test_avg_pool1d_matches_torch():
    torch = need("torch")
    kwargs = {"kernel_size": 4, "stride": 3, "padding": 2, "count_include_pad": False}
    compare_with_torch(AvgPool1d(**kwargs), torch.nn.AvgPool1d(**kwargs), _x(2, 3, 10))


@pytest.mark.parametrize(
    "output_size,shape",
    [(3, (2, 3, 7, 5)), ([2, 4], (2, 3, 5, 9)), ([None, 3], (1, 2, 4, 7)), (1, (2, 3, 4, 4))],
)
def test_adaptive_avg_pool2d_matches_torch(output_size, shape):
    torch = need("torch")
    size = tuple(output_size) if isinstance(output_size, list) else output_size
    reference = torch.nn.AdaptiveAvgPool2d(size)
    compare_with_torch(AdaptiveAvgPool2d(output_size), reference, _x(*shape))


def test_adaptive_avg_pool1d_matches_torch():
    torch = need("torch")
    compare_with_torch(AdaptiveAvgPool1d(4), torch.nn.AdaptiveAvgPool1d(4), _x(2, 3, 11))


def test_global_average_pooling_is_the_spatial_mean():
    torch = need("torch")
    x = _x(2, 3, 4, 5)

    class Reference(torch.nn.Module):
        def forward(self, t):
            return t.mean(dim=(2, 3))

    ours, _ = compare_with_torch(GlobalAvgPool(), Reference(), x)
    assert ours.shape == (2, 3)
    assert GlobalAvgPool(keepdims=True)(x.astype(np.float32)).shape == (2, 3, 1, 1)


@pytest.mark.parametrize("batch,order", [(2, (1, 0, 2, 3)), (16, (1, 2, 3, 0))])
def test_pooling_keeps_the_memory_layout_of_conv_outputs(batch, order):
    torch = need("torch")
    x = Tensor(_x(batch, 3, 8, 8).astype(np.float32), requires_grad=True)
    conv = Conv2d(4, 3, padding=1, activation="relu")
    hidden = conv(x)
    pooled = MaxPool2d(2)(hidden)
    assert pooled.dtype == np.float32
    assert pooled.data.transpose(order).flags.c_contiguous
    reference = torch.nn.functional.max_pool2d(
        torch.from_numpy(np.ascontiguousarray(hidden.data)), 2
    )
    np.testing.assert_array_equal(pooled.data, reference.numpy())
    pooled.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == x.shape


def test_registry_names_and_default_stride():
    layer = LAYERS.build("maxpool2d", kernel_size=3)
    assert layer.stride == (3, 3)
    assert LAYERS.build("avg_pool2d", kernel_size=[2, 3], stride=1).stride == (1, 1)


@pytest.mark.parametrize(
    "kwargs,key",
    [
        ({"kernel_size": 0}, "kernel_size"),
        ({"kernel_size": 2, "padding": 2}, "padding"),
        ({"kernel_size": 2, "stride": [1, 2, 3]}, "stride"),
    ],
)
def test_bad_arguments_name_the_key(kwargs, key):
    with pytest.raises(ArgumentError) as error:
        LAYERS.build("max_pool2d", **kwargs)
    assert error.value.key == key


def test_bad_adaptive_output_size():
    with pytest.raises(ArgumentError, match="output_size"):
        AdaptiveAvgPool2d([1, 2, 3])


def test_wrong_input_shapes_raise_shape_errors():
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\)"):
        MaxPool2d(2)(np.zeros((3, 4, 4), dtype=np.float32))
    with pytest.raises(ShapeError, match="smaller than the pooling window"):
        AvgPool2d(5)(np.zeros((1, 1, 4, 4), dtype=np.float32))
    with pytest.raises(ShapeError, match="spatial"):
        GlobalAvgPool()(np.zeros((3, 4), dtype=np.float32))
