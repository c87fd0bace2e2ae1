"""One differentiable case per engine op: a function of tensors and its float64 inputs.

Used by the gradcheck walker and the dtype walker; `test_every_engine_op_has_a_case` makes
sure an op added to the engine's modules gets a case here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import nnrun
import nnrun.functional as F


@dataclass
class OpCase:
    op: str  # the Function subclass's name
    fn: Callable
    inputs: list
    id: str = ""


def r(*shape, seed=0, low=-1.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def positive(*shape, seed=0):
    return r(*shape, seed=seed, low=0.5, high=2.0)


def distinct(*shape, seed=0):
    """Values at least 0.05 apart, so max/min/clip/relu have no ties or kinks nearby."""
    n = int(np.prod(shape))
    values = np.random.default_rng(seed).permutation(n) * 0.1 - n * 0.05 + 0.025
    return values.reshape(shape)


CASES = [
    OpCase("Add", lambda a, b: a + b, [r(3, 4), r(4, seed=1)], "broadcast"),
    OpCase("Sub", lambda a, b: a - b, [r(2, 1, 3), r(4, 1, seed=1)], "broadcast both"),
    OpCase("Mul", lambda a, b: a * b, [r(3, 4), r(3, 1, seed=1)]),
    OpCase("Div", lambda a, b: a / b, [r(3, 4), positive(4, seed=1)]),
    OpCase("Neg", lambda a: -a, [r(5)]),
    OpCase("PowScalar", lambda a: a**3, [r(2, 3)]),
    OpCase("PowScalar", lambda a: a**-1.5, [positive(2, 3)], "negative fractional"),
    OpCase("Pow", lambda a, b: a**b, [positive(2, 3), r(3, seed=1)]),
    OpCase("Exp", lambda a: a.exp(), [r(4)]),
    OpCase("Log", lambda a: a.log(), [positive(4)]),
    OpCase("Sqrt", lambda a: a.sqrt(), [positive(4)]),
    OpCase("Abs", lambda a: a.abs(), [distinct(6)]),
    OpCase("Sign", lambda a: F.sign(a) * a, [distinct(6)]),
    OpCase("Clip", lambda a: a.clip(-0.2, 0.3), [distinct(10)]),
    OpCase("Clip", lambda a: a.clip(min=0.1), [distinct(10)], "lower only"),
    OpCase("Tanh", lambda a: a.tanh(), [r(4)]),
    OpCase("Sigmoid", lambda a: a.sigmoid(), [r(4) * 5]),
    OpCase("Relu", lambda a: a.relu(), [distinct(8)]),
    OpCase("Sin", lambda a: a.sin(), [r(4)]),
    OpCase("Cos", lambda a: a.cos(), [r(4)]),
    OpCase("Erf", lambda a: F.erf(a), [r(6) * 3]),
    OpCase("Maximum", lambda a, b: F.maximum(a, b), [distinct(3, 4), distinct(4, seed=1) + 0.01]),
    OpCase("Minimum", lambda a, b: F.minimum(a, b), [distinct(3, 4), distinct(4, seed=1) + 0.01]),
    OpCase(
        "Where",
        lambda a, b: F.where(np.array([True, False, True]), a, b),
        [r(2, 3), r(3, seed=1)],
    ),
    OpCase("Sum", lambda a: a.sum(axis=1), [r(3, 4)]),
    OpCase("Sum", lambda a: a.sum(axis=(0, 2), keepdims=True), [r(2, 3, 4)], "keepdims"),
    OpCase("Mean", lambda a: a.mean(axis=-1), [r(3, 4)]),
    OpCase("Mean", lambda a: a.mean(), [r(3, 4)], "all"),
    OpCase("Max", lambda a: a.max(axis=0), [distinct(3, 4)]),
    OpCase("Max", lambda a: (a * 0 + 1).max(), [r(3)], "ties share"),
    OpCase("Min", lambda a: a.min(axis=1, keepdims=True), [distinct(3, 4)]),
    OpCase("Var", lambda a: a.var(axis=1), [r(3, 5)]),
    OpCase("Var", lambda a: a.var(ddof=1), [r(3, 5)], "unbiased"),
    OpCase("Reshape", lambda a: a.reshape(6, 2) * r(6, 2, seed=3), [r(3, 4)]),
    OpCase("Reshape", lambda a: a.squeeze(1).expand_dims(0), [r(3, 1, 2)], "squeeze"),
    OpCase("Transpose", lambda a: a.transpose(2, 0, 1) * r(4, 2, 3, seed=3), [r(2, 3, 4)]),
    OpCase("Transpose", lambda a: a.T.swapaxes(0, 1), [r(2, 3, 4)], "T and swapaxes"),
    OpCase("BroadcastTo", lambda a: a.broadcast_to((2, 3, 4)), [r(3, 1)]),
    OpCase("Cast", lambda a: (a.astype(np.float64) * 2).astype(a.dtype), [r(3)]),
    OpCase("GetItem", lambda a: a[1:, ::2], [r(3, 4)], "slices"),
    OpCase("GetItem", lambda a: a[np.array([0, 2, 0, 0])], [r(3, 2)], "repeated indices"),
    OpCase("GetItem", lambda a: a[a.data > 0], [r(4, 3)], "boolean mask"),
    OpCase("GetItem", lambda a: a[..., None, 1], [r(2, 3)], "ellipsis and None"),
    OpCase("Take", lambda a: F.take(a, np.array([[1, 1], [0, 2]]), axis=1), [r(2, 3)]),
    OpCase("Concatenate", lambda a, b: F.concatenate([a, b], axis=1), [r(2, 3), r(2, 2, seed=1)]),
    OpCase("Stack", lambda a, b: F.stack([a, b], axis=-1), [r(2, 3), r(2, 3, seed=1)]),
    OpCase("Pad", lambda a: F.pad(a, ((1, 0), (2, 1)), value=0.5), [r(2, 3)]),
    OpCase("MatMul", lambda a, b: a @ b, [r(3, 4), r(4, 2, seed=1)], "2d"),
    OpCase("MatMul", lambda a, b: a @ b, [r(2, 1, 3, 4), r(3, 4, 2, seed=1)], "batched broadcast"),
    OpCase("MatMul", lambda a, b: a @ b, [r(4), r(2, 4, 3, seed=1)], "vector left"),
    OpCase("MatMul", lambda a, b: a @ b, [r(2, 3, 4), r(4, seed=1)], "vector right"),
    OpCase("MatMul", lambda a, b: a @ b, [r(4), r(4, seed=1)], "dot"),
    OpCase(
        "TensorDot",
        lambda a, b: nnrun.tensordot(a, b, axes=([1], [0])),
        [r(2, 3, 4), r(3, 5, seed=1)],
        "mode-n product",
    ),
    OpCase("TensorDot", lambda a, b: nnrun.tensordot(a, b, axes=2), [r(2, 3, 4), r(3, 4, 2)]),
    OpCase(
        "TensorDot",
        lambda a, b: nnrun.tensordot(a, b, axes=([2, 0], [0, 1])),
        [r(2, 3, 4), r(4, 2, 5, seed=1)],
        "unordered axes",
    ),
    OpCase(
        "Einsum",
        lambda a, b: nnrun.einsum("mnr,nk->mrk", a, b),
        [r(2, 3, 4), r(3, 5, seed=1)],
        "mode-n product",
    ),
    OpCase(
        "Einsum",
        lambda a, b, c: nnrun.einsum("ij,jk,kl->il", a, b, c),
        [r(2, 3), r(3, 4, seed=1), r(4, 2, seed=2)],
        "chain",
    ),
    OpCase("Einsum", lambda a: nnrun.einsum("ij->", a), [r(2, 3)], "summed-only indices"),
    OpCase("Linear", lambda x, w, b: F.linear(x, w, b), [r(4, 3), r(2, 3, seed=1), r(2, seed=2)]),
    OpCase("Linear", lambda x, w: F.linear(x, w), [r(2, 4, 3), r(2, 3, seed=1)], "3d, no bias"),
    OpCase(
        "Linear",
        lambda x, w, b: F.linear(x, w, b, relu=True),
        [distinct(4, 3), r(5, 3, seed=1), r(5, seed=2) + 0.37],
        "fused relu",
    ),
    OpCase(
        "Linear",
        lambda x, w, b: F.linear(x, w, b),
        [r(1, 3), r(2, 3, seed=1), r(2, seed=2)],
        "one row",
    ),
    OpCase("LogSoftmax", lambda a: F.log_softmax(a, axis=1), [r(3, 4) * 3]),
    OpCase("Softmax", lambda a: F.softmax(a, axis=0), [r(3, 4) * 3]),
    OpCase(
        "CrossEntropy",
        lambda a: F.cross_entropy(a, np.array([0, 2, 1, 2])),
        [r(4, 3) * 2],
        "indices",
    ),
    OpCase(
        "CrossEntropy",
        lambda a: F.cross_entropy(a, np.array([0, -100, 1, 2])),
        [r(4, 3) * 2],
        "ignored target",
    ),
    OpCase(
        "CrossEntropy",
        lambda a: F.cross_entropy(a, np.array([0, 2, 1, 2]), ignore_index=1),
        [r(4, 3) * 2],
        "ignore_index in range",
    ),
    OpCase(
        "CrossEntropy",
        lambda a: F.cross_entropy(
            a, np.array([0, -100, 1, 2]), weight=[0.5, 2.0, 1.0], label_smoothing=0.1
        ),
        [r(4, 3) * 2],
        "weight smoothing ignore",
    ),
    OpCase(
        "CrossEntropy",
        lambda a: F.cross_entropy(a, np.array([[0.2, 0.3, 0.5]] * 4), reduction="sum"),
        [r(4, 3)],
        "probabilities",
    ),
    OpCase(
        "CrossEntropy",
        lambda a: F.cross_entropy(a, np.array([[0, 1], [2, 2]]), reduction="none"),
        [r(2, 3, 2)],
        "class dim 1 with extra dims",
    ),
]
