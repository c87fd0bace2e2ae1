"""Math nodes, expression nodes and learned tensors. An expression is written by walking
its tree, each operation as the ONNX operator of the math node it stands for; the nnrun
values of each part are computed alongside (on the samples) for the ranks that transpose
and reductions over every axis need."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrun.autograd.grad_mode import no_grad
from nnrun.autograd.tensor import Tensor
from nnrun.export.activation import write_activation
from nnrun.export.graph import Call, OnnxGraph
from nnrun.export.registry import converter
from nnrun.nn import math as nodes
from nnrun.nn.expression import Apply, Expression, Name, Number, _apply
from nnrun.nn.tensor_nodes import TensorNode

BINARY = {"+": "Add", "-": "Sub", "*": "Mul", "/": "Div", "**": "Pow", "@": "MatMul"}
UNARY = {"exp": "Exp", "log": "Log", "sqrt": "Sqrt", "abs": "Abs", "cos": "Cos"}
ACTIVATIONS = {"sin": "sinusoid", "tanh": "tanh", "sigmoid": "sigmoid", "relu": "relu"}
REDUCERS = {"sum": "ReduceSum", "mean": "ReduceMean", "max": "ReduceMax", "min": "ReduceMin"}


def write_function(g: OnnxGraph, op: str, x: str) -> str:
    """An elementwise function of the expression grammar (and math node) applied to x."""
    if op in UNARY:
        return g.op(UNARY[op], x)
    if op == "softplus":
        return write_activation(g, "softplus", {}, x)
    return write_activation(g, ACTIVATIONS[op], {}, x)


def write_reduction(g: OnnxGraph, op: str, x: str, rank: int, axis: Any, keepdims: bool) -> str:
    axes = range(rank) if axis is None else [axis] if isinstance(axis, int) else axis
    return g.reduce(REDUCERS[op], x, [a % rank for a in axes], keepdims)


def write_clip(g: OnnxGraph, x: str, low: float | None, high: float | None) -> str:
    bound = float(np.finfo(np.float32).max)
    low = -bound if low is None else low
    high = bound if high is None else high
    return g.op("Clip", x, g.scalar(low), g.scalar(high))


@converter(nodes.Log, nodes.Exp, nodes.Sqrt, nodes.Abs, nodes.Cos)
def elementwise(g: OnnxGraph, call: Call) -> str:
    return write_function(g, call.layer.function, call.x.name)


@converter(nodes.Square)
def square(g: OnnxGraph, call: Call) -> str:
    return g.op("Mul", call.x.name, call.x.name)


@converter(nodes.Pow)
def power(g: OnnxGraph, call: Call) -> str:
    return g.op("Pow", call.x.name, g.scalar(call.layer.exponent))


@converter(nodes.Clip)
def clip(g: OnnxGraph, call: Call) -> str:
    return write_clip(g, call.x.name, call.layer.low, call.layer.high)


@converter(nodes._Reduction)
def reduction(g: OnnxGraph, call: Call) -> str:
    layer = call.layer
    return write_reduction(g, layer.kind, call.x.name, call.x.rank, layer.axis, layer.keepdims)


@converter(TensorNode)
def tensor_node(g: OnnxGraph, call: Call) -> str:
    return g.param(call.layer.value)


@converter(Expression)
def expression(g: OnnxGraph, call: Call) -> str:
    named = dict(call.kwargs)
    if call.inputs:
        named["x"] = call.inputs[0]
    env = {name: (named[name].name, named[name].samples[0]) for name in call.layer.names}
    return _write(g, call.layer.tree, env)[0]


def _write(g: OnnxGraph, tree: Any, env: dict[str, tuple[str, Any]]) -> tuple[str, Any]:
    """(ONNX name, nnrun value on the first sample) of one part of an expression."""
    if isinstance(tree, Number):
        return g.scalar(tree.value), tree.value
    if isinstance(tree, Name):
        return env[tree.id]
    assert isinstance(tree, Apply)
    if tree.op == "clip":
        x, sample = _write(g, tree.args[0], env)
        low, high = (bound.value for bound in tree.args[1:])
        return write_clip(g, x, low, high), _value("clip", [sample, low, high], {})
    parts = [_write(g, a, env) for a in tree.args]
    names, samples = [p[0] for p in parts], [p[1] for p in parts]
    value = _value(tree.op, samples, tree.options)
    if tree.op in BINARY:
        return g.op(BINARY[tree.op], *names), value
    if tree.op == "neg":
        return g.op("Neg", names[0]), value
    if tree.op in REDUCERS and len(names) == 2:
        return g.op("Max" if tree.op == "max" else "Min", *names), value
    if tree.op in REDUCERS:
        rank = np.ndim(_data(samples[0]))
        options = {"axis": -1, "keepdims": False, **tree.options}
        return write_reduction(g, tree.op, names[0], rank, **options), value
    if tree.op == "transpose":
        rank = np.ndim(_data(samples[0]))
        if rank < 2:
            return names[0], value
        perm = [*range(rank - 2), rank - 1, rank - 2]
        return g.transpose(names[0], perm), value
    return write_function(g, tree.op, names[0]), value


def _value(op: str, samples: list[Any], options: dict[str, Any]) -> Any:
    with no_grad(), np.errstate(all="ignore"):
        return _apply(op, samples, options)


def _data(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value
