"""Gradient clipping against torch.nn.utils numbers."""

from types import SimpleNamespace

import numpy as np
import pytest

from nnrun.errors import ArgumentError
from nnrun.optim import clip_grad_norm, clip_grad_value

VALUES = [np.array([3.0, -4.0]), np.array([[1.0, 2.0], [0.5, -2.5]])]


def make_params(dtype=np.float64):
    return [
        SimpleNamespace(data=v.astype(dtype), grad=v.astype(dtype), requires_grad=True)
        for v in VALUES
    ]


# (norm_type, total norm, clipped grads) from torch.nn.utils.clip_grad_norm_(max_norm=2.0),
# recorded once from torch 2.13 in float64.
RECORDED = [
    (
        2.0,
        6.041522986797286,
        [
            [0.9931269019393071, -1.3241692025857428],
            [[0.3310423006464357, 0.6620846012928714], [0.16552115032321785, -0.8276057516160893]],
        ],
    ),
    (
        float("inf"),
        4.0,
        [
            [1.4999996250000938, -1.999999500000125],
            [[0.49999987500003124, 0.9999997500000625], [0.24999993750001562, -1.249999687500078]],
        ],
    ),
    (
        1.0,
        13.0,
        [
            [0.46153842603550577, -0.615384568047341],
            [[0.15384614201183525, 0.3076922840236705], [0.07692307100591762, -0.3846153550295881]],
        ],
    ),
    (
        3.0,
        4.873492849900015,
        [
            [1.2311495991983445, -1.641532798931126],
            [[0.4103831997327815, 0.820766399465563], [0.20519159986639074, -1.0259579993319536]],
        ],
    ),
]


@pytest.mark.parametrize(("norm_type", "total", "clipped"), RECORDED)
def test_clip_grad_norm_matches_recorded_torch_values(norm_type, total, clipped):
    params = make_params()
    assert clip_grad_norm(params, 2.0, norm_type) == pytest.approx(total, rel=1e-14)
    for param, want in zip(params, clipped, strict=True):
        np.testing.assert_allclose(param.grad, want, rtol=1e-14)


def test_clip_grad_norm_leaves_small_gradients_alone():
    params = make_params()
    assert clip_grad_norm(params, 10.0) == pytest.approx(6.041522986797286, rel=1e-14)
    for param, value in zip(params, VALUES, strict=True):
        np.testing.assert_array_equal(param.grad, value)


def test_clip_grad_norm_scales_in_place_and_keeps_float32():
    params = make_params(np.float32)
    grads = [param.grad for param in params]
    clip_grad_norm(params, 1.0)
    assert all(p.grad is g and g.dtype == np.float32 for p, g in zip(params, grads, strict=True))
    total = np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads))
    assert total == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_norm_skips_missing_grads_and_returns_zero_without_any():
    params = make_params()
    params[1].grad = None
    assert clip_grad_norm(params, 100.0) == 5.0
    params[0].grad = None
    assert clip_grad_norm(params, 1.0) == 0.0


def test_clip_grad_value_clamps_in_place():
    params = make_params()
    clip_grad_value(params, 1.5)
    np.testing.assert_array_equal(params[0].grad, [1.5, -1.5])
    np.testing.assert_array_equal(params[1].grad, [[1.0, 1.5], [0.5, -1.5]])


@pytest.mark.parametrize(
    ("call", "key"),
    [
        (lambda p: clip_grad_norm(p, 0.0), "max_norm"),
        (lambda p: clip_grad_norm(p, float("nan")), "max_norm"),
        (lambda p: clip_grad_value(p, -1.0), "clip_value"),
    ],
)
def test_invalid_clip_thresholds_are_argument_errors(call, key):
    with pytest.raises(ArgumentError) as info:
        call(make_params())
    assert info.value.key == key
