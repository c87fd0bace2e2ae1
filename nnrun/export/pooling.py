"""Pooling, padding and upsampling. Adaptive average pooling is a product with a
fixed averaging matrix per axis (torch's bins), which ONNX's AveragePool cannot express
when the bins overlap."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrun.export.graph import Call, OnnxGraph
from nnrun.export.registry import converter
from nnrun.nn.padding import (
    ConstantPad,
    ReflectionPad,
    ReplicationPad,
    Upsample,
    ZeroPad2d,
    _pairs,
    interpolation_matrix,
)
from nnrun.nn.pooling import GlobalAvgPool, _AdaptiveAvgPoolNd, _AvgPoolNd, _MaxPoolNd


def _window(layer: _MaxPoolNd | _AvgPoolNd) -> dict[str, Any]:
    return {
        "kernel_shape": list(layer.kernel_size),
        "strides": list(layer.stride),
        "pads": [*layer.padding, *layer.padding],
        "ceil_mode": int(layer.ceil_mode),
    }


@converter(_MaxPoolNd)
def max_pool(g: OnnxGraph, call: Call[_MaxPoolNd]) -> str:
    layer = call.layer
    return g.op("MaxPool", call.x.name, dilations=list(layer.dilation), **_window(layer))


@converter(_AvgPoolNd)
def avg_pool(g: OnnxGraph, call: Call[_AvgPoolNd]) -> str:
    layer = call.layer
    return g.op(
        "AveragePool",
        call.x.name,
        count_include_pad=int(layer.count_include_pad),
        **_window(layer),
    )


def averaging_matrix(size: int, out: int) -> np.ndarray:
    """(size, out): column i averages input [floor(i·size/out), ceil((i+1)·size/out))."""
    matrix = np.zeros((size, out))
    for i in range(out):
        start, stop = (i * size) // out, -(-((i + 1) * size) // out)
        matrix[start:stop, i] = 1.0 / (stop - start)
    return matrix


@converter(_AdaptiveAvgPoolNd)
def adaptive_avg_pool(g: OnnxGraph, call: Call[_AdaptiveAvgPoolNd]) -> str:
    x, out = call.x, call.output
    y = x.name
    last = x.size(-1)
    y = g.op("MatMul", y, g.const(averaging_matrix(last, out.size(-1)), "pool_cols"))
    if x.rank == 4:  # rows: (out_h, h) @ (N, C, h, out_w)
        rows = averaging_matrix(x.size(2), out.size(2)).T
        y = g.op("MatMul", g.const(rows, "pool_rows"), y)
    return y


@converter(GlobalAvgPool)
def global_avg_pool(g: OnnxGraph, call: Call[GlobalAvgPool]) -> str:
    axes = list(range(2, call.x.rank))
    return g.reduce("ReduceMean", call.x.name, axes, keepdims=call.layer.keepdims)


def _pad(g: OnnxGraph, call: Call, mode: str, value: float = 0.0) -> str:
    sample = call.x.samples[0]
    pairs = _pairs(call.layer.widths, sample, call.layer.name)
    begins, ends = zip(*pairs, strict=True)
    pads = g.ints([*begins, *ends], "pads")
    if mode == "constant":
        return g.op("Pad", call.x.name, pads, g.scalar(value), mode=mode)
    return g.op("Pad", call.x.name, pads, mode=mode)


@converter(ConstantPad)
def constant_pad(g: OnnxGraph, call: Call[ConstantPad]) -> str:
    return _pad(g, call, "constant", call.layer.value)


@converter(ZeroPad2d)
def zero_pad(g: OnnxGraph, call: Call[ZeroPad2d]) -> str:
    return _pad(g, call, "constant")


@converter(ReflectionPad)
def reflection_pad(g: OnnxGraph, call: Call[ReflectionPad]) -> str:
    return _pad(g, call, "reflect")


@converter(ReplicationPad)
def replication_pad(g: OnnxGraph, call: Call[ReplicationPad]) -> str:
    return _pad(g, call, "edge")


@converter(Upsample)
def upsample(g: OnnxGraph, call: Call[Upsample]) -> str:
    """Nearest: output position i copies input floor(i·in/out), one Gather per resized axis.
    Linear/bilinear: a product with nnrun's interpolation matrix per axis."""
    y, layer = call.x.name, call.layer
    for axis in range(2, call.x.rank):
        size, out = call.x.size(axis), call.output.size(axis)
        if layer.mode != "nearest":
            weights = interpolation_matrix(size, out, layer.align_corners)
            if axis == call.x.rank - 1:  # (..., W) @ (W, W')
                y = g.op("MatMul", y, g.const(weights.T, "upsample_cols"))
            else:  # (H', H) @ (..., H, W)
                y = g.op("MatMul", g.const(weights, "upsample_rows"), y)
        elif size != out:
            index = (np.arange(out) * size) // out
            y = g.op("Gather", y, g.const(index.astype(np.int64), "upsample_index"), axis=axis)
    return y
