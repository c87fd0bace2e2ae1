"""Every registered loss and distance layer has gradcheck samples, and passes on them (the
same loop as the registry walker, so the samples are known to be good before it runs)."""

from __future__ import annotations

import numpy as np
import pytest

import nnrun.components  # noqa: F401  (fills the registries)
from nnrun.registry import LAYERS, LOSSES
from nnrun.testing.gradcheck import gradcheck
from tests.nn.samples_losses import LAYER_SAMPLES, LOSS_SAMPLES

LOSS_CASES = [
    pytest.param(name, sample, id=f"{name}-{sample.id or i}")
    for name, samples in LOSS_SAMPLES.items()
    for i, sample in enumerate(samples)
]
LAYER_CASES = [
    pytest.param(name, sample, id=f"{name}-{sample.id or i}")
    for name, samples in LAYER_SAMPLES.items()
    for i, sample in enumerate(samples)
]


def test_every_registered_loss_has_a_sample():
    assert set(LOSSES.names()) <= set(LOSS_SAMPLES)


@pytest.mark.parametrize("name, sample", LOSS_CASES)
def test_loss_gradients_match_finite_differences(name, sample):
    loss = LOSSES.build(name, **sample.kwargs)
    target = [] if sample.target is None else [sample.target]

    def fn(prediction, *extra):
        return loss(prediction, *extra, *target)

    assert gradcheck(fn, [sample.prediction, *sample.extra])


@pytest.mark.parametrize("name, sample", LAYER_CASES)
def test_distance_layer_gradients_match_finite_differences(name, sample):
    layer = LAYERS.build(name, **sample.kwargs)
    layer(*sample.inputs)
    layer.to(np.float64)
    assert gradcheck(layer, sample.inputs)
