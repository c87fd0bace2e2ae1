"""Walks the registries: every registered layer, activation and loss is gradchecked in
float64 on its samples, and float32 stays float32. Registering a component without a sample
(tests/nn/samples_*.py) fails `test_every_component_has_a_sample`."""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest

import nnrun.components  # noqa: F401  (fills the registries)
from nnrun import random
from nnrun.autograd.tensor import Tensor
from nnrun.registry import ACTIVATIONS, LAYERS, LOSSES
from nnrun.testing.gradcheck import gradcheck_report
from tests.nn import samples as samples_module
from tests.nn.samples import LayerSample, LossSample, away_from_kinks

# Components built by the config builder rather than from arguments.
NOT_STANDALONE = {"sequential": "a container; the builder fills it from a nested layer list"}


def _sample_modules():
    package = samples_module.__name__.rsplit(".", 1)[0]
    path = samples_module.__file__.rsplit("/", 1)[0]
    for info in pkgutil.iter_modules([path]):
        if info.name.startswith("samples_"):
            yield importlib.import_module(f"{package}.{info.name}")


def _collect(attribute: str) -> dict:
    merged: dict = {}
    for module in _sample_modules():
        for name, items in getattr(module, attribute, {}).items():
            merged.setdefault(name, []).extend(items)
    return merged


LAYER_SAMPLES = _collect("LAYER_SAMPLES")
LOSS_SAMPLES = _collect("LOSS_SAMPLES")
ACTIVATION_SAMPLES = _collect("ACTIVATION_SAMPLES")
SKIP = {
    name: reason
    for m in _sample_modules()
    for name, reason in getattr(m, "GRADCHECK_SKIP", {}).items()
}


def test_every_component_has_a_sample():
    assert sorted(set(LAYERS.names()) - set(LAYER_SAMPLES) - set(NOT_STANDALONE)) == []
    assert sorted(set(LOSSES.names()) - set(LOSS_SAMPLES)) == []
    assert sorted(set(ACTIVATIONS.names()) - set(ACTIVATION_SAMPLES)) == []


def _layer_cases():
    for name in sorted(LAYER_SAMPLES):
        for i, sample in enumerate(LAYER_SAMPLES[name]):
            yield pytest.param(name, sample, id=sample.id or f"{name}-{i}")


def _build(name: str, sample: LayerSample):
    random.seed(0)
    layer = LAYERS.build(name, **sample.kwargs)
    inputs = [np.asarray(x) for x in [*sample.inputs, *sample.named.values()]]
    count = len(sample.inputs)

    def call(*tensors):
        random.seed(1)  # the same dropout masks on every evaluation
        named = dict(zip(sample.named, tensors[count:], strict=True))
        out = layer(*tensors[:count], **named, **sample.call_kwargs)
        return sample.select(out) if sample.select else out

    return layer, inputs, call


@pytest.mark.parametrize("name, sample", _layer_cases())
def test_layer_gradients_match_finite_differences(name, sample):
    if name in SKIP:
        pytest.skip(SKIP[name])
    layer, inputs, call = _build(name, sample)
    as_tensors = [Tensor(x, dtype=np.float64) if x.dtype.kind == "f" else Tensor(x) for x in inputs]
    call(*as_tensors)  # builds lazily sized parameters
    layer.to(np.float64)
    layer.train(sample.train)
    params = [p for p in layer.parameters() if p.requires_grad]
    names = [f"input {i}" for i, x in enumerate(inputs) if x.dtype.kind == "f"]
    names += [n for n, p in layer.named_parameters() if p.requires_grad]
    results = gradcheck_report(call, inputs, params=params, names=names)
    failures = [r.describe() for r in results if not r.ok]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name, sample", _layer_cases())
def test_layer_float32_in_float32_out(name, sample):
    layer, inputs, call = _build(name, sample)
    tensors = [
        Tensor(x.astype(np.float32), requires_grad=True) if x.dtype.kind == "f" else Tensor(x)
        for x in inputs
    ]
    layer.train(sample.train)
    out = call(*tensors)
    assert out.dtype == np.float32
    if not out.requires_grad:  # a constant node: nothing to backpropagate
        return
    out.backward(np.ones(out.shape, dtype=np.float32))
    for t in [*tensors, *layer.parameters()]:
        assert t.grad is None or t.grad.dtype == np.float32


def _activation_cases():
    for name in sorted(ACTIVATION_SAMPLES):
        for i, options in enumerate(ACTIVATION_SAMPLES[name]):
            yield pytest.param(name, options, id=f"{name}-{i}")


@pytest.mark.parametrize("name, options", _activation_cases())
def test_activation_gradients_match_finite_differences(name, options):
    if name in SKIP:
        pytest.skip(SKIP[name])
    fn = ACTIVATIONS.get(name)
    x = away_from_kinks(3, 4, seed=7)
    results = gradcheck_report(lambda t: fn(t, **options), [x])
    assert all(r.ok for r in results), results[0].describe()


def _loss_cases():
    for name in sorted(LOSS_SAMPLES):
        for i, sample in enumerate(LOSS_SAMPLES[name]):
            yield pytest.param(name, sample, id=sample.id or f"{name}-{i}")


@pytest.mark.parametrize("name, sample", _loss_cases())
def test_loss_gradients_match_finite_differences(name, sample: LossSample):
    loss = LOSSES.build(name, **sample.kwargs)
    differentiable = [sample.prediction, *sample.extra]

    def call(*tensors):
        args = list(tensors)
        if sample.target is not None:
            args.append(sample.target)
        return loss(*args)

    results = gradcheck_report(call, differentiable)
    failures = [r.describe() for r in results if not r.ok]
    assert not failures, "\n".join(failures)
