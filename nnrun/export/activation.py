"""Activations: one ONNX writer per activation name, used by the activation layers and by
the `activation:` option of linear/conv layers. Formulas follow nnrun/ops/activations.py;
those without an ONNX operator in opset 17 (gelu, silu, mish, sinc, gaussian, polynomial, ...)
are written with elementary operators."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from nnrun.export.graph import Call, OnnxGraph, Unexportable
from nnrun.export.registry import converter
from nnrun.nn.activation import (
    _SELU_ALPHA,
    _SELU_SCALE,
    Activation,
    ActivationSpec,
    resolve_activation,
)

ActivationWriter = Callable[..., str]
WRITERS: dict[str, ActivationWriter] = {}


def writer(*names: str) -> Callable[[ActivationWriter], ActivationWriter]:
    """Decorator: register `fn(graph, x, **options) -> output name` for activation names."""

    def decorator(fn: ActivationWriter) -> ActivationWriter:
        for name in names:
            WRITERS[name] = fn
        return fn

    return decorator


def write_activation(g: OnnxGraph, name: str, options: dict[str, Any], x: str) -> str:
    canonical, options = resolve_activation(name, options)
    if canonical not in WRITERS:
        raise Unexportable(f"the activation {canonical!r} has no ONNX form")
    return WRITERS[canonical](g, x, **options)


def apply_activation(g: OnnxGraph, spec: ActivationSpec, x: str) -> str:
    """A layer's `activation:` option (None, a name or a mapping with `type`) applied to x."""
    if spec is None:
        return x
    if isinstance(spec, str):
        return write_activation(g, spec, {}, x)
    if isinstance(spec, dict):
        options = {k: v for k, v in spec.items() if k != "type"}
        return write_activation(g, spec["type"], options, x)
    raise Unexportable("an activation given as a Python function cannot be exported")


@converter(Activation)
def activation_layer(g: OnnxGraph, call: Call) -> str:
    layer = call.layer
    return write_activation(g, layer.activation_name, dict(layer.options), call.x.name)


def _unary(op_type: str) -> ActivationWriter:
    return lambda g, x: g.op(op_type, x)


for _name, _op in (
    ("identity", "Identity"),
    ("sign", "Sign"),
    ("sign_ste", "Sign"),  # the straight-through estimator only changes the gradient
    ("sigmoid", "Sigmoid"),
    ("tanh", "Tanh"),
    ("relu", "Relu"),
    ("softsign", "Softsign"),
    ("sinusoid", "Sin"),
):
    WRITERS[_name] = _unary(_op)


@writer("leaky_relu")
def leaky_relu(g: OnnxGraph, x: str, negative_slope: float = 0.01) -> str:
    return g.op("LeakyRelu", x, alpha=float(negative_slope))


@writer("elu")
def elu(g: OnnxGraph, x: str, alpha: float = 1.0) -> str:
    return g.op("Elu", x, alpha=float(alpha))


@writer("selu")
def selu(g: OnnxGraph, x: str) -> str:
    return g.op("Selu", x, alpha=_SELU_ALPHA, gamma=_SELU_SCALE)


@writer("gelu")
def gelu(g: OnnxGraph, x: str, approximate: str = "none") -> str:
    if approximate == "tanh":  # ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
        cube = g.op("Mul", g.op("Mul", x, x), x)
        inner = g.op("Add", x, g.op("Mul", cube, g.scalar(0.044715)))
        cdf = g.op("Tanh", g.op("Mul", inner, g.scalar(math.sqrt(2.0 / math.pi))))
    else:  # ½x(1 + erf(x/√2))
        cdf = g.op("Erf", g.op("Mul", x, g.scalar(math.sqrt(0.5))))
    return g.op("Mul", g.op("Mul", x, g.scalar(0.5)), g.op("Add", cdf, g.scalar(1.0)))


@writer("silu")
def silu(g: OnnxGraph, x: str) -> str:
    return g.op("Mul", x, g.op("Sigmoid", x))


@writer("softplus")
def softplus(g: OnnxGraph, x: str, beta: float = 1.0, threshold: float = 20.0) -> str:
    scaled = g.op("Mul", x, g.scalar(beta))
    smooth = g.op("Div", g.op("Softplus", scaled), g.scalar(beta))
    linear = g.op("Greater", scaled, g.scalar(threshold))
    return g.op("Where", linear, x, smooth)


@writer("hardtanh")
def hardtanh(g: OnnxGraph, x: str, min_val: float = -1.0, max_val: float = 1.0) -> str:
    return g.op("Clip", x, g.scalar(min_val), g.scalar(max_val))


@writer("hard_sigmoid")
def hard_sigmoid(g: OnnxGraph, x: str) -> str:
    return g.op("HardSigmoid", x, alpha=1.0 / 6.0, beta=0.5)


@writer("sinc")
def sinc(g: OnnxGraph, x: str) -> str:
    """sin(πx)/(πx), 1 at x = 0 (the denominator is made 1 there, so no NaN is formed)."""
    angle = g.op("Mul", x, g.scalar(math.pi))
    zero = g.op("Equal", x, g.scalar(0.0))
    one = g.scalar(1.0)
    safe = g.op("Where", zero, one, angle)
    return g.op("Where", zero, one, g.op("Div", g.op("Sin", safe), safe))


@writer("gaussian")
def gaussian(g: OnnxGraph, x: str) -> str:
    return g.op("Exp", g.op("Neg", g.op("Mul", x, x)))


@writer("polynomial")
def polynomial(g: OnnxGraph, x: str, coefficients: list[float]) -> str:
    """c0 + c1·x + ... by Horner's rule, as nnrun evaluates it."""
    highest_first = [float(c) for c in coefficients][::-1]
    if len(highest_first) == 1:  # a constant, shaped like x
        return g.op("Add", g.op("Mul", x, g.scalar(0.0)), g.scalar(highest_first[0]))
    out = g.scalar(highest_first[0])
    for c in highest_first[1:]:
        out = g.op("Add", g.op("Mul", out, x), g.scalar(c))
    return out


@writer("softmax")
def softmax(g: OnnxGraph, x: str, dim: int = -1) -> str:
    return g.op("Softmax", x, axis=int(dim))


@writer("log_softmax")
def log_softmax(g: OnnxGraph, x: str, dim: int = -1) -> str:
    return g.op("LogSoftmax", x, axis=int(dim))


@writer("mish")
def mish(g: OnnxGraph, x: str) -> str:
    """The Mish operator from opset 18; before it, x·tanh(softplus(x))."""
    if g.opset >= 18:
        return g.op("Mish", x)
    return g.op("Mul", x, g.op("Tanh", g.op("Softplus", x)))
