"""The dense layer: x @ weightᵀ + bias, then the layer's activation."""

from __future__ import annotations

from nnrun.export.activation import apply_activation
from nnrun.export.graph import Call, OnnxGraph
from nnrun.export.registry import converter
from nnrun.nn.linear import Linear


def write_linear(g: OnnxGraph, layer: Linear, x: str, rank: int) -> str:
    """Gemm for (N, in) inputs, MatMul + Add for more axes; the weight keeps its
    torch layout (units, in_features) and its checkpoint name."""
    weight = g.param(layer.weight)
    bias = None if layer.bias is None else g.param(layer.bias)
    if rank == 2:
        inputs = (x, weight) if bias is None else (x, weight, bias)
        out = g.op("Gemm", *inputs, transB=1)
    else:
        out = g.op("MatMul", x, g.transpose(weight, (1, 0)))
        if bias is not None:
            out = g.op("Add", out, bias)
    return apply_activation(g, layer.activation_spec, out)


@converter(Linear)
def linear(g: OnnxGraph, call: Call[Linear]) -> str:
    return write_linear(g, call.layer, call.x.name, call.x.rank)
