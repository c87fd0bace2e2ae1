"""Convolutions (1-d and 2-d, plain and transposed): ONNX Conv / ConvTranspose take torch's
weight layouts unchanged."""

from __future__ import annotations

from nnrun.export.activation import apply_activation
from nnrun.export.graph import Call, OnnxGraph
from nnrun.export.registry import converter
from nnrun.nn.conv import _ConvNd, _ConvTransposeNd


def _weights(g: OnnxGraph, layer: _ConvNd | _ConvTransposeNd) -> list[str]:
    names = [g.param(layer.weight)]
    if layer.bias is not None:
        names.append(g.param(layer.bias))
    return names


@converter(_ConvNd)
def conv(g: OnnxGraph, call: Call) -> str:
    layer = call.layer
    begins, ends = zip(*layer.pairs)
    out = g.op(
        "Conv",
        call.x.name,
        *_weights(g, layer),
        kernel_shape=list(layer.kernel_size),
        strides=list(layer.stride),
        dilations=list(layer.dilation),
        pads=[*begins, *ends],
        group=layer.groups,
    )
    return apply_activation(g, layer.activation_spec, out)


@converter(_ConvTransposeNd)
def conv_transpose(g: OnnxGraph, call: Call) -> str:
    layer = call.layer
    out = g.op(
        "ConvTranspose",
        call.x.name,
        *_weights(g, layer),
        kernel_shape=list(layer.kernel_size),
        strides=list(layer.stride),
        dilations=list(layer.dilation),
        pads=[*layer.pads, *layer.pads],
        output_padding=list(layer.output_padding),
        group=layer.groups,
    )
    return apply_activation(g, layer.activation_spec, out)
