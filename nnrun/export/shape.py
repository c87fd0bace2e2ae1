"""Layers that rearrange or combine values: flatten, reshape, permute, transpose, index,
the graph-form merges (add, multiply, mean, concat, matmul), distances, and dropout (the
identity in inference)."""

from __future__ import annotations

import math

import numpy as np

from nnrun.export.graph import Call, OnnxGraph, Unexportable
from nnrun.export.registry import converter
from nnrun.nn.distance import CosineSimilarity, PairwiseDistance
from nnrun.nn.dropout import Dropout
from nnrun.nn.merge import Add, Concat, Index, MatMul, Mean, Multiply, Permute, Transpose
from nnrun.nn.shape import Flatten, Reshape

_END = 2**62  # "to the end" for ONNX Slice (clamped to the axis)


@converter(Dropout)
def dropout(g: OnnxGraph, call: Call) -> str:
    return call.x.name


@converter(Flatten, Reshape)
def reshape(g: OnnxGraph, call: Call) -> str:
    if getattr(call.layer, "order", "C") == "C":
        return g.reshape(call.x.name, call.output.shape)
    # column-major: reverse each example's axes, reshape to the reversed shape, reverse back
    out = call.output.shape
    flipped = g.transpose(call.x.name, [0, *range(call.x.rank - 1, 0, -1)])
    reshaped = g.reshape(flipped, (out[0], *out[:0:-1]))
    return g.transpose(reshaped, [0, *range(len(out) - 1, 0, -1)])


@converter(Permute)
def permute(g: OnnxGraph, call: Call) -> str:
    return g.transpose(call.x.name, [d % call.x.rank for d in call.layer.dims])


@converter(Transpose)
def transpose(g: OnnxGraph, call: Call) -> str:
    perm = list(range(call.x.rank))
    a, b = call.layer.dim0 % call.x.rank, call.layer.dim1 % call.x.rank
    perm[a], perm[b] = perm[b], perm[a]
    return g.transpose(call.x.name, perm)


def _fold(g: OnnxGraph, op_type: str, call: Call) -> str:
    out = call.inputs[0].name
    for value in call.inputs[1:]:
        out = g.op(op_type, out, value.name)
    return out


@converter(Add)
def add(g: OnnxGraph, call: Call) -> str:
    return _fold(g, "Add", call)


@converter(Multiply)
def multiply(g: OnnxGraph, call: Call) -> str:
    return _fold(g, "Mul", call)


@converter(Mean)
def mean(g: OnnxGraph, call: Call) -> str:
    if len(call.inputs) == 1:  # a reduction over `axis`
        layer = call.layer
        axes = range(call.x.rank) if layer.axis is None else np.atleast_1d(layer.axis).tolist()
        axes = [a % call.x.rank for a in axes]
        return g.reduce("ReduceMean", call.x.name, axes, layer.keepdims)
    return g.op("Mean", *(v.name for v in call.inputs))


@converter(Concat)
def concat(g: OnnxGraph, call: Call) -> str:
    return g.op("Concat", *(v.name for v in call.inputs), axis=call.layer.dim % call.x.rank)


@converter(MatMul)
def matmul(g: OnnxGraph, call: Call) -> str:
    return g.op("MatMul", call.inputs[0].name, call.inputs[1].name)


@converter(Index)
def index(g: OnnxGraph, call: Call) -> str:
    """NumPy basic indexing: ints (Gather, dropping the axis), slices (Slice), None
    (Unsqueeze) and one Ellipsis."""
    parts = call.layer.index if isinstance(call.layer.index, tuple) else (call.layer.index,)
    if sum(p is Ellipsis for p in parts) > 1 or any(
        not (p is None or p is Ellipsis or isinstance(p, (int, slice))) for p in parts
    ):
        raise Unexportable(f"the index {call.layer.spec!r} is not basic indexing")
    used = sum(p is not None and p is not Ellipsis for p in parts)
    if Ellipsis in parts:
        at = parts.index(Ellipsis)
        parts = parts[:at] + (slice(None),) * (call.x.rank - used) + parts[at + 1 :]
    y, axis = call.x.name, 0
    for part in parts:
        if part is None:
            y = g.op("Unsqueeze", y, g.ints([axis], "axes"))
            axis += 1
        elif isinstance(part, int):
            y = g.op("Gather", y, g.const(np.asarray(part, np.int64), "index"), axis=axis)
        else:
            step = part.step or 1
            start = part.start if part.start is not None else (0 if step > 0 else _END)
            stop = part.stop if part.stop is not None else (_END if step > 0 else -_END)
            if (start, stop, step) != (0, _END, 1):
                ends = g.ints([stop])
                y = g.op("Slice", y, g.ints([start]), ends, g.ints([axis]), g.ints([step]))
            axis += 1
    return y


@converter(CosineSimilarity)
def cosine_similarity(g: OnnxGraph, call: Call) -> str:
    x1, x2 = call.inputs
    rank = max(x1.rank, x2.rank)
    axis = call.layer.dim % rank

    def unit(x: str) -> str:
        norm = g.op("Sqrt", g.reduce("ReduceSum", g.op("Mul", x, x), [axis]))
        return g.op("Div", x, g.op("Max", norm, g.scalar(call.layer.eps)))

    product = g.op("Mul", unit(x1.name), unit(x2.name))
    return g.reduce("ReduceSum", product, [axis], keepdims=False)


@converter(PairwiseDistance)
def pairwise_distance(g: OnnxGraph, call: Call) -> str:
    x1, x2 = call.inputs
    layer, keep = call.layer, call.layer.keepdim
    diff = g.op("Add", g.op("Sub", x1.name, x2.name), g.scalar(layer.eps))
    if layer.p == 2:
        return g.op("Sqrt", g.reduce("ReduceSum", g.op("Mul", diff, diff), [-1], keep))
    if layer.p == 1:
        return g.reduce("ReduceSum", g.op("Abs", diff), [-1], keep)
    if math.isinf(layer.p):
        return g.reduce("ReduceMax", g.op("Abs", diff), [-1], keep)
    powered = g.op("Pow", g.op("Abs", diff), g.scalar(layer.p))
    return g.op("Pow", g.reduce("ReduceSum", powered, [-1], keep), g.scalar(1.0 / layer.p))
