"""Batch/layer/group norm and channel dropout: torch equivalence (outputs, gradients,
running statistics, state dict), lazy sizes, errors."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun import random
from nnrun.autograd.tensor import Tensor
from nnrun.errors import ArgumentError, ShapeError
from nnrun.nn.dropout2d import Dropout1d, Dropout2d
from nnrun.nn.normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from nnrun.registry import LAYERS
from tests.extras import need
from tests.nn.samples_conv import compare_with_torch


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape) * 2 + 0.5


def _randomize_affine(layer, seed=7):
    rng = np.random.default_rng(seed)
    for param in layer.parameters():
        param.data[...] = rng.uniform(0.5, 1.5, param.shape)


@pytest.mark.parametrize(
    "layer_cls,torch_name,shape",
    [
        (BatchNorm2d, "BatchNorm2d", (4, 3, 5, 5)),
        (BatchNorm1d, "BatchNorm1d", (6, 4)),
        (BatchNorm1d, "BatchNorm1d", (3, 4, 5)),
    ],
)
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_train_steps_then_eval_match_torch(layer_cls, torch_name, shape, momentum):
    torch = need("torch")
    layer = layer_cls(shape[1], momentum=momentum)
    _randomize_affine(layer)
    reference = getattr(torch.nn, torch_name)(shape[1], momentum=momentum)
    for step in range(3):
        compare_with_torch(layer, reference, _x(*shape, seed=step), train=True)
    ours, theirs = layer.state_dict(), reference.state_dict()
    assert list(ours) == list(theirs)
    for key, value in ours.items():
        np.testing.assert_allclose(value, theirs[key].numpy(), rtol=1e-10, err_msg=key)
    assert ours["num_batches_tracked"].dtype == np.int64 and int(ours["num_batches_tracked"]) == 3
    compare_with_torch(layer, reference, _x(*shape, seed=9), train=False)


def test_batch_norm_without_affine_or_running_stats_matches_torch():
    torch = need("torch")
    layer = BatchNorm2d(affine=False, track_running_stats=False)
    reference = torch.nn.BatchNorm2d(3, affine=False, track_running_stats=False)
    compare_with_torch(layer, reference, _x(2, 3, 4, 4), train=False)
    assert layer.state_dict() == {}


def test_batch_norm_state_dict_has_torch_names_and_dtypes_in_float32():
    layer = LAYERS.build("batch_norm2d")
    layer(np.ones((2, 5, 3, 3), dtype=np.float32))
    state = layer.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert all(state[k].dtype == np.float32 for k in list(state)[:4])
    assert state["num_batches_tracked"].shape == ()


def test_batch_norm_updates_running_stats_under_no_grad_but_not_in_eval():
    from nnrun.autograd.grad_mode import no_grad

    layer = BatchNorm1d(3)
    with no_grad():
        layer(_x(8, 3).astype(np.float32))
    assert int(layer.num_batches_tracked) == 1
    layer.eval()
    before = layer.running_mean.copy()
    layer(_x(8, 3, seed=1).astype(np.float32))
    np.testing.assert_array_equal(layer.running_mean, before)
    assert int(layer.num_batches_tracked) == 1


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        ({}, (2, 3, 5)),
        ({"normalized_shape": [3, 5]}, (2, 3, 5)),
        ({"normalized_shape": 4}, (3, 4)),
        ({"bias": False}, (2, 6)),
        ({"elementwise_affine": False}, (2, 3, 4)),
    ],
)
def test_layer_norm_matches_torch(kwargs, shape):
    torch = need("torch")
    normalized = kwargs.get("normalized_shape", shape[-1])
    normalized = tuple(normalized) if isinstance(normalized, list) else normalized
    torch_kwargs = {k: v for k, v in kwargs.items() if k != "normalized_shape"}
    reference = torch.nn.LayerNorm(normalized, **torch_kwargs)
    layer = LayerNorm(**kwargs)
    layer(_x(*shape))
    _randomize_affine(layer)
    compare_with_torch(layer, reference, _x(*shape, seed=1))


@pytest.mark.parametrize(
    "groups,shape,affine",
    [(2, (2, 4, 3, 3), True), (3, (2, 6, 5), False), (1, (3, 4, 2, 2), True), (4, (2, 4), True)],
)
def test_group_norm_matches_torch(groups, shape, affine):
    torch = need("torch")
    layer = GroupNorm(groups, affine=affine)
    layer(_x(*shape))
    _randomize_affine(layer)
    reference = torch.nn.GroupNorm(groups, shape[1], affine=affine)
    compare_with_torch(layer, reference, _x(*shape, seed=1))


def test_float32_stays_float32():
    for layer in (BatchNorm2d(), LayerNorm(), GroupNorm(2)):
        x = Tensor(_x(2, 4, 3, 3).astype(np.float32), requires_grad=True)
        out = layer(x)
        out.sum().backward()
        assert out.dtype == np.float32 and x.grad.dtype == np.float32
        assert all(p.grad.dtype == np.float32 for p in layer.parameters())


def test_errors():
    with pytest.raises(ShapeError, match="more than one value per channel"):
        BatchNorm1d()(np.ones((1, 3), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\)"):
        BatchNorm2d()(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(ShapeError, match="C=3"):
        BatchNorm2d(3)(np.ones((2, 4, 2, 2), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"\(\.\.\., 3, 4\)"):
        LayerNorm([3, 4])(np.ones((2, 4, 3), dtype=np.float32))
    with pytest.raises(ShapeError, match="divisible by num_groups"):
        GroupNorm(3)(np.ones((2, 4, 2), dtype=np.float32))
    for name, kwargs, key in [
        ("batch_norm2d", {"eps": 0.0}, "eps"),
        ("batch_norm2d", {"momentum": 1.5}, "momentum"),
        ("layer_norm", {"normalized_shape": []}, "normalized_shape"),
        ("group_norm", {"num_groups": 0}, "num_groups"),
    ]:
        with pytest.raises(ArgumentError) as error:
            LAYERS.build(name, **kwargs)
        assert error.value.key == key


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    random.seed(0)
    x = np.ones((8, 16, 3, 3), dtype=np.float32)
    out = Dropout2d(0.5)(x).data
    per_channel = out.reshape(8, 16, -1)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel == 2).all(axis=2))
    assert 0.2 < (per_channel[:, :, 0] == 0).mean() < 0.8
    assert out.dtype == np.float32


def test_channel_dropout_is_reproducible_and_the_identity_in_eval():
    x = np.ones((4, 6, 5), dtype=np.float32)
    random.seed(3)
    first = Dropout1d(0.3)(x).data
    random.seed(3)
    np.testing.assert_array_equal(Dropout1d(0.3)(x).data, first)
    layer = Dropout1d(0.3).eval()
    np.testing.assert_array_equal(layer(x).data, x)
    with pytest.raises(ShapeError, match=r"\(N, C, L\)"):
        Dropout1d(0.3)(np.ones((2, 3, 4, 4), dtype=np.float32))
    with pytest.raises(ArgumentError):
        LAYERS.build("dropout2d", p=1.5)
