"""The recording pass: one training step on a fixed batch, observed through forward hooks on
the config's layers, then undone so training continues exactly as without it.

The step runs as training would (train mode, the same loss and gradient clipping, the real
optimizer with its state) so ‖Δw‖/‖w‖ is the update the optimizer would make; afterwards
weights, buffers, optimizer state and the random generator are restored.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnrun import random
from nnrun.autograd.tensor import Tensor
from nnrun.diagnose.stats import output_stats, parameter_stats
from nnrun.experiment import Experiment, as_input, loss_arguments
from nnrun.nn.activation import Activation
from nnrun.nn.module import Module
from nnrun.optim.clip import clip_grad_norm, clip_grad_value
from nnrun.registry import ACTIVATIONS

# Layer families whose outputs are (N, C, ...) with channels as units.
_CHANNELS_FIRST_MODULES = ("nnrun.nn.conv", "nnrun.nn.pooling", "nnrun.nn.dropout2d")


@dataclass
class Layer:
    """A layer the config names (`layers.2`, or a graph node), as the records call it."""

    name: str
    type: str
    path: str
    module: Module
    activation: str | None
    options: dict[str, Any]
    channels_first: bool
    params: list[Any]  # its trainable parameters (fixed once the model is built)


def _activation_of(module: Module) -> tuple[str | None, dict[str, Any]]:
    """(canonical activation name, options) a layer applies to its output, if any."""
    if isinstance(module, Activation):
        return module.activation_name, dict(module.options)
    spec = getattr(module, "activation_spec", None)
    if isinstance(spec, str):
        return ACTIVATIONS.canonical(spec), {}
    if isinstance(spec, dict) and isinstance(spec.get("type"), str):
        options = {k: v for k, v in spec.items() if k != "type"}
        return ACTIVATIONS.canonical(spec["type"]), options
    return None, {}


def config_layers(exp: Experiment) -> list[Layer]:
    """The layers of the model graph in forward order (inputs and shared re-uses left out)."""
    modules = dict(exp.model.named_modules())
    layers: list[Layer] = []
    previous_channels_first = False
    for name, kind, path in exp.view.nodes:
        module = modules.get(name)
        if module is None or kind == "input":
            continue
        activation, options = _activation_of(module)
        channels_first = type(module).__module__ in _CHANNELS_FIRST_MODULES or (
            # a standalone activation after a convolution keeps its channel layout
            isinstance(module, Activation) and previous_channels_first
        )
        params = [p for p in module.parameters() if p.requires_grad]
        layers.append(Layer(name, kind, path, module, activation, options, channels_first, params))
        previous_channels_first = channels_first
    return layers


def record_step(
    exp: Experiment,
    layers: list[Layer],
    inputs: Any,
    targets: np.ndarray,
    clip_norm: float | None = None,
    clip_value: float | None = None,
) -> dict[str, Any]:
    """Run one observed training step on (inputs, targets) and undo it; returns the loss and
    one entry per layer (output statistics, and parameter statistics where it has any)."""
    model, optimizer = exp.model, exp.optimizer
    assert optimizer is not None, "a model that trains has an optimizer"
    saved_weights = {name: array.copy() for name, array in model.state_dict().items()}
    saved_optimizer = optimizer.state_dict()  # already copies of the state arrays
    saved_rng = copy.deepcopy(random.get_state())
    was_training = model.training
    outputs: dict[str, np.ndarray] = {}

    def keep(name: str):
        def hook(module: Module, args: tuple[Any, ...], output: Any) -> None:
            first = output[0] if isinstance(output, tuple) and output else output
            if isinstance(first, Tensor) and first.dtype.kind == "f":
                outputs[name] = first.data.copy()

        return hook

    handles = [layer.module.register_forward_hook(keep(layer.name)) for layer in layers]
    try:
        model.train()
        optimizer.zero_grad()
        prediction = model(as_input(inputs))
        loss = exp.loss(*loss_arguments(prediction, targets, exp.loss))
        if loss.data.size != 1:
            loss = loss.mean()
        loss.backward()
        before = {id(p): p.data.copy() for layer in layers for p in layer.params}
        grads = {
            id(p): (p.grad.copy() if p.grad is not None else np.zeros_like(p.data))
            for layer in layers
            for p in layer.params
        }
        params = [p for p in model.parameters() if p.requires_grad]
        if clip_norm is not None:
            clip_grad_norm(params, clip_norm)
        if clip_value is not None:
            clip_grad_value(params, clip_value)
        optimizer.step()
        entries = []
        for layer in layers:
            entry: dict[str, Any] = {
                "name": layer.name,
                "type": layer.type,
                "path": layer.path,
                "activation": layer.activation,
            }
            trainable = layer.params
            if trainable:
                entry.update(
                    parameter_stats(
                        [before[id(p)] for p in trainable],
                        [grads[id(p)] for p in trainable],
                        [p.data - before[id(p)] for p in trainable],
                    )
                )
            if layer.name in outputs:
                entry.update(
                    output_stats(
                        outputs[layer.name], layer.activation, layer.options, layer.channels_first
                    )
                )
            entries.append(entry)
        return {"loss": float(loss.data), "layers": entries}
    finally:
        for handle in handles:
            handle.remove()
        optimizer.zero_grad()
        model.load_state_dict(saved_weights)
        optimizer.load_state_dict(saved_optimizer)
        random.set_state(saved_rng)
        model.train(was_training)
