"""Initializers, registered by name, with torch.nn.init's formulas and fan conventions.

An initializer is `fn(shape, rng, **options) -> ndarray (float64)`; layers call
`initialize(spec, shape, dtype, default)` where `spec` is the config's `init:` value
(a name, `{type: name, ...options}`, or None for the layer's PyTorch default).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from nnrun import random
from nnrun.limits import check_allocation
from nnrun.registry import INITIALIZERS

Initializer = Callable[..., np.ndarray]


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) as torch computes them: dims 1 and 0 times the receptive field."""
    if len(shape) < 2:
        raise ValueError(f"fan in/out need a tensor with at least 2 dimensions, got {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def gain(nonlinearity: str, param: float | None = None) -> float:
    """torch.nn.init.calculate_gain."""
    if nonlinearity in ("linear", "identity", "sigmoid") or nonlinearity.startswith("conv"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


@INITIALIZERS.register("zeros")
def zeros(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """All zeros."""
    return np.zeros(shape)


@INITIALIZERS.register("ones")
def ones(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """All ones."""
    return np.ones(shape)


@INITIALIZERS.register("constant")
def constant(shape: tuple[int, ...], rng: np.random.Generator, value: float = 0.0) -> np.ndarray:
    """Every element `value`."""
    return np.full(shape, float(value))


@INITIALIZERS.register("normal")
def normal(
    shape: tuple[int, ...], rng: np.random.Generator, mean: float = 0.0, std: float = 1.0
) -> np.ndarray:
    """Normal(mean, std) samples."""
    return rng.normal(mean, std, shape)


@INITIALIZERS.register("uniform")
def uniform(
    shape: tuple[int, ...], rng: np.random.Generator, a: float = 0.0, b: float = 1.0
) -> np.ndarray:
    """Uniform samples from [a, b)."""
    return rng.uniform(a, b, shape)


@INITIALIZERS.register("truncated_normal", "trunc_normal")
def truncated_normal(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
) -> np.ndarray:
    """Normal(mean, std) redrawn outside [a, b] (absolute bounds, as torch.nn.init)."""
    out = rng.normal(mean, std, shape)
    outside = (out < a) | (out > b)
    while outside.any():
        out[outside] = rng.normal(mean, std, int(outside.sum()))
        outside = (out < a) | (out > b)
    return out


@INITIALIZERS.register("xavier_uniform", "glorot_uniform")
def xavier_uniform(
    shape: tuple[int, ...], rng: np.random.Generator, gain: float = 1.0
) -> np.ndarray:
    """Glorot uniform: U(−b, b) with b = gain·sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, shape)


@INITIALIZERS.register("xavier_normal", "glorot_normal")
def xavier_normal(
    shape: tuple[int, ...], rng: np.random.Generator, gain: float = 1.0
) -> np.ndarray:
    """Glorot normal: std gain·sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape)
    return rng.normal(0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), shape)


def _kaiming_std(shape: tuple[int, ...], a: float, mode: str, nonlinearity: str) -> float:
    fan_in, fan_out = fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return gain(nonlinearity, a) / math.sqrt(fan)


@INITIALIZERS.register("kaiming_uniform", "he_uniform")
def kaiming_uniform(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    a: float = 0.0,
    mode: Literal["fan_in", "fan_out"] = "fan_in",
    nonlinearity: Literal["relu", "leaky_relu", "linear", "tanh", "sigmoid", "selu"] = "leaky_relu",
) -> np.ndarray:
    """He uniform: U(−b, b) with b = sqrt(3)·gain(nonlinearity, a) / sqrt(fan)."""
    bound = math.sqrt(3.0) * _kaiming_std(shape, a, mode, nonlinearity)
    return rng.uniform(-bound, bound, shape)


@INITIALIZERS.register("kaiming_normal", "he_normal")
def kaiming_normal(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    a: float = 0.0,
    mode: Literal["fan_in", "fan_out"] = "fan_in",
    nonlinearity: Literal["relu", "leaky_relu", "linear", "tanh", "sigmoid", "selu"] = "leaky_relu",
) -> np.ndarray:
    """He normal: std gain(nonlinearity, a) / sqrt(fan), fan by `mode`."""
    return rng.normal(0.0, _kaiming_std(shape, a, mode, nonlinearity), shape)


@INITIALIZERS.register("lecun_normal")
def lecun_normal(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Normal with std 1/sqrt(fan_in) (the SELU companion)."""
    return rng.normal(0.0, 1.0 / math.sqrt(fans(shape)[0]), shape)


@INITIALIZERS.register("orthogonal")
def orthogonal(shape: tuple[int, ...], rng: np.random.Generator, gain: float = 1.0) -> np.ndarray:
    """A (semi-)orthogonal matrix on the flattened (rows, cols) view, as torch.nn.init."""
    rows = shape[0]
    cols = math.prod(shape[1:])
    flat = rng.normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return gain * q.reshape(shape)


def torch_default_uniform(fan_in: int) -> Initializer:
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)): torch's default for Linear/Conv weights (kaiming
    uniform with a=sqrt(5)) and biases, and for RNN weights with fan_in = hidden_size."""
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0

    def init(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(-bound, bound, shape)

    return init


def initialize(
    spec: str | dict[str, Any] | None,
    shape: tuple[int, ...],
    dtype: Any = np.float32,
    default: Initializer | None = None,
) -> np.ndarray:
    """Draw an array for a parameter: from `spec` (a registered name or a mapping with
    `type` and options), or from `default` when spec is None. Uses nnrun.random's generator."""
    check_allocation(math.prod(shape), 8, f"a parameter of shape {tuple(shape)}")
    rng = random.generator()
    if spec is None:
        if default is None:
            raise ValueError("initialize() needs a spec or a default")
        values = default(shape, rng)
    elif isinstance(spec, str):
        values = INITIALIZERS.build(spec, shape, rng)
    else:
        options = dict(spec)
        name = options.pop("type")
        values = INITIALIZERS.build(name, shape, rng, **options)
    return np.ascontiguousarray(values, dtype=dtype)
