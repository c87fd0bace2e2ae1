"""Convolutions (1-d and 2-d, plain and transposed): ONNX Conv / ConvTranspose take torch's
weight layouts unchanged."""

from __future__ import annotations

from typing import Any

from nnrun.export.activation import apply_activation
from nnrun.export.graph import Call, OnnxGraph
from nnrun.export.registry import converter
from nnrun.nn.conv import _ConvNd, _ConvTransposeNd


def _write(g: OnnxGraph, op_type: str, call: Call, **attrs: Any) -> str:
    """The convolution node (weight, optional bias, the shared geometry), then the layer's
    activation."""
    layer = call.layer
    weights = [g.param(layer.weight)]
    if layer.bias is not None:
        weights.append(g.param(layer.bias))
    out = g.op(
        op_type,
        call.x.name,
        *weights,
        kernel_shape=list(layer.kernel_size),
        strides=list(layer.stride),
        dilations=list(layer.dilation),
        group=layer.groups,
        **attrs,
    )
    return apply_activation(g, layer.activation_spec, out)


@converter(_ConvNd)
def conv(g: OnnxGraph, call: Call[_ConvNd]) -> str:
    begins, ends = zip(*call.layer.pairs, strict=True)
    return _write(g, "Conv", call, pads=[*begins, *ends])


@converter(_ConvTransposeNd)
def conv_transpose(g: OnnxGraph, call: Call[_ConvTransposeNd]) -> str:
    layer = call.layer
    pads, extra = [*layer.pads, *layer.pads], list(layer.output_padding)
    return _write(g, "ConvTranspose", call, pads=pads, output_padding=extra)
