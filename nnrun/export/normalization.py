"""Normalization in inference mode: batch norm with its running statistics, layer norm,
group norm (by its definition, since GroupNormalization only arrived in opset 18)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nnrun.export.graph import Call, OnnxGraph
from nnrun.export.registry import converter
from nnrun.nn.normalization import GroupNorm, LayerNorm, _BatchNorm


def normalize(g: OnnxGraph, x: str, axes: Sequence[int], eps: float) -> str:
    """(x − mean) / √(var + eps), mean and biased variance over `axes`."""
    centered = g.op("Sub", x, g.reduce("ReduceMean", x, axes))
    var = g.reduce("ReduceMean", g.op("Mul", centered, centered), axes)
    return g.op("Div", centered, g.op("Sqrt", g.op("Add", var, g.scalar(eps))))


def _affine(g: OnnxGraph, layer: _BatchNorm | GroupNorm, y: str, rank: int) -> str:
    """Per-channel weight and bias on axis 1."""
    shape = (-1,) + (1,) * (rank - 2)
    if layer.weight is not None:
        weight = g.param(layer.weight, "channels", lambda: layer.weight.data.reshape(shape))
        y = g.op("Mul", y, weight)
    if layer.bias is not None:
        bias = g.param(layer.bias, "channels", lambda: layer.bias.data.reshape(shape))
        y = g.op("Add", y, bias)
    return y


@converter(_BatchNorm)
def batch_norm(g: OnnxGraph, call: Call[_BatchNorm]) -> str:
    """Running statistics (eval mode); without tracked statistics nnrun normalizes with the
    batch's own, so the export does too."""
    layer, x = call.layer, call.x
    if not layer.track_running_stats:
        axes = [0, *range(2, x.rank)]
        return _affine(g, layer, normalize(g, x.name, axes, layer.eps), x.rank)
    channels = x.size(1)
    ones, zeros = np.ones(channels, np.float32), np.zeros(channels, np.float32)
    scale = g.param(layer.weight) if layer.weight is not None else g.const(ones, "bn_scale")
    bias = g.param(layer.bias) if layer.bias is not None else g.const(zeros, "bn_bias")
    mean, var = g.param(layer.running_mean), g.param(layer.running_var)
    return g.op("BatchNormalization", x.name, scale, bias, mean, var, epsilon=layer.eps)


@converter(LayerNorm)
def layer_norm(g: OnnxGraph, call: Call[LayerNorm]) -> str:
    return layer_norm_node(g, call.layer, call.x.name)


def layer_norm_node(g: OnnxGraph, layer: LayerNorm, x: str) -> str:
    """LayerNormalization over the layer's normalized_shape (trailing axes)."""
    width = layer.normalized_shape
    assert width is not None, "set by the model's dry run"
    if layer.weight is not None:
        inputs = [g.param(layer.weight)]
    else:
        inputs = [g.const(np.ones(width, np.float32), "ln_scale")]
    if layer.bias is not None:
        inputs.append(g.param(layer.bias))
    return g.op("LayerNormalization", x, *inputs, axis=-len(width), epsilon=layer.eps)


@converter(GroupNorm)
def group_norm(g: OnnxGraph, call: Call[GroupNorm]) -> str:
    layer, x = call.layer, call.x
    grouped = g.op("Reshape", x.name, g.ints([0, layer.num_groups, -1]))
    y = normalize(g, grouped, [2], layer.eps)
    y = g.op("Reshape", y, g.op("Shape", x.name))
    return _affine(g, layer, y, x.rank)
