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
from nnrun import random
from nnrun.ops import activations as A
from nnrun.ops import losses as L
from nnrun.ops.attention import Attention
from nnrun.ops.conv import Conv, ConvTranspose
from nnrun.ops.derived import Derived
from nnrun.ops.dropout import Dropout
from nnrun.ops.norm import Normalize
from nnrun.ops.pooling import AdaptiveAvgPool, AvgPool, MaxPool
from nnrun.ops.rnn import GRU, LSTM, ElmanRNN


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


def outside_unit(*shape, seed=0):
    """Values with 1.1 <= |x| <= 1.9: where the straight-through gradient agrees with sign's."""
    return np.sign(distinct(*shape, seed=seed)) * r(*shape, seed=seed + 1, low=1.1, high=1.9)


def seeded_dropout(x, p=0.4, mask_shape=None):
    random.seed(0)  # the same mask on every evaluation of the finite differences
    return Dropout.apply(x, p=p, mask_shape=mask_shape or x.shape)


CONV_GEOMETRY = {"stride": (2, 1), "padding": ((1, 0), (1, 1)), "dilation": (1, 2), "groups": 2}
POOL_GEOMETRY = {"kernel": (2, 2), "stride": (2, 1), "padding": (1, 0)}
LAYER_NORM = {"view": (4, 6), "axes": (1,), "param_shape": (1, 6), "batch_stats": True}
BATCH_NORM = {"view": (3, 2, 4), "axes": (0, 2), "param_shape": (1, 2, 1, 1)}
TARGET = np.random.default_rng(9).uniform(0.1, 0.9, (4, 3))


def like(values, tensor):
    """A constant in the tensor's dtype, as the loss layers cast targets and options."""
    return np.asarray(values, dtype=tensor.dtype)


def target(tensor):
    return nnrun.Tensor(like(TARGET, tensor), dtype=tensor.dtype)


LABELS = np.array([0, 2, -100, 1])


def recurrent_inputs(gates, features=3, hidden=4, initial=0, seed=0):
    """x (2, 3, features), weights, biases and `initial` states for a G-gate recurrence."""
    rows = gates * hidden
    weights = [r(2, 3, features, seed=seed), r(rows, features, seed=seed + 1)]
    weights += [r(rows, hidden, seed=seed + 2), r(rows, seed=seed + 3), r(rows, seed=seed + 4)]
    return weights + [r(2, hidden, seed=seed + 5 + i) for i in range(initial)]


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
    # ------------------------------------------------------------ fused activations
    OpCase("LeakyRelu", lambda a: A.LeakyRelu.apply(a, negative_slope=0.1), [distinct(8)]),
    OpCase("Elu", lambda a: A.Elu.apply(a, alpha=0.7, scale=1.2), [distinct(8)]),
    OpCase("Gelu", lambda a: A.Gelu.apply(a, approximate="none"), [r(8) * 3]),
    OpCase("Gelu", lambda a: A.Gelu.apply(a, approximate="tanh"), [r(8) * 3], "tanh"),
    OpCase("Silu", lambda a: A.Silu.apply(a), [r(8) * 3]),
    OpCase("Softplus", lambda a: A.Softplus.apply(a, beta=2.0, threshold=1.0), [distinct(8) * 3]),
    OpCase("Softsign", lambda a: A.Softsign.apply(a), [distinct(8)]),
    OpCase("Hardtanh", lambda a: A.Hardtanh.apply(a, min_val=-0.3, max_val=0.2), [distinct(10)]),
    OpCase("HardSigmoid", lambda a: A.HardSigmoid.apply(a), [distinct(8) * 10]),
    OpCase("SignSte", lambda a: A.SignSte.apply(a) * a, [outside_unit(6)], "outside |x| <= 1"),
    OpCase("Sinc", lambda a: A.Sinc.apply(a), [np.append(r(6) * 2, 1e-3)]),
    OpCase("Gaussian", lambda a: A.Gaussian.apply(a), [r(6) * 2]),
    OpCase(
        "Polynomial",
        lambda a: A.Polynomial.apply(a, coefficients=(0.5, -1.0, 0.25, 0.1)),
        [r(6) * 2],
    ),
    OpCase("Mish", lambda a: A.Mish.apply(a), [r(8) * 4]),
    # ------------------------------------------------------------ convolution and pooling
    OpCase(
        "Conv",
        lambda x, w, b: Conv.apply(x, w, b, **CONV_GEOMETRY),
        [r(2, 4, 5, 6), r(6, 2, 2, 3, seed=1), r(6, seed=2)],
    ),
    OpCase(
        "Conv",
        lambda x, w: Conv.apply(x, w, **{**CONV_GEOMETRY, "groups": 1}, relu=True),
        [r(2, 4, 5, 6), r(3, 4, 2, 2, seed=1)],
        "fused relu, no bias",
    ),
    OpCase(
        "ConvTranspose",
        lambda x, w, b: ConvTranspose.apply(
            x,
            w,
            b,
            stride=(2, 1),
            padding=(1, 0),
            output_padding=(1, 0),
            dilation=(1, 2),
            groups=2,
        ),
        [r(2, 4, 3, 3), r(4, 3, 2, 2, seed=1), r(6, seed=2)],
    ),
    OpCase(
        "MaxPool",
        lambda a: MaxPool.apply(a, **POOL_GEOMETRY, dilation=(1, 1)),
        [distinct(2, 2, 4, 5)],
    ),
    OpCase(
        "AvgPool",
        lambda a: AvgPool.apply(a, **POOL_GEOMETRY, count_include_pad=False, ceil_mode=True),
        [r(2, 2, 4, 5)],
    ),
    OpCase(
        "AdaptiveAvgPool", lambda a: AdaptiveAvgPool.apply(a, output_size=(2, 3)), [r(1, 2, 5, 4)]
    ),
    # ------------------------------------------------------------ normalization, dropout
    OpCase(
        "Normalize",
        lambda x, w, b: Normalize.apply(x, w, b, **LAYER_NORM, affine=(True, True), eps=1e-5),
        [r(4, 6), positive(6, seed=1), r(6, seed=2)],
        "layer norm",
    ),
    OpCase(
        "Normalize",
        lambda x: Normalize.apply(
            x,
            **BATCH_NORM,
            affine=(False, False),
            batch_stats=False,
            eps=1e-5,
            stats=(np.array([0.1, -0.2]), np.array([0.5, 2.0])),
        ),
        [r(3, 2, 2, 2)],
        "running statistics",
    ),
    OpCase("Dropout", lambda a: seeded_dropout(a), [r(4, 5)]),
    OpCase("Dropout", lambda a: seeded_dropout(a, 0.5, (4, 1)), [r(4, 5)], "whole rows"),
    OpCase("Derived", lambda a: Derived.apply(a, fn=np.sign) * a, [distinct(6)], "no gradient"),
    # ------------------------------------------------------------ attention, recurrences
    OpCase(
        "Attention",
        lambda q, k, v: Attention.apply(q, k, v, scale=0.7),
        [r(2, 3, 4), r(2, 5, 4, seed=1), r(2, 5, 3, seed=2)],
    ),
    OpCase(
        "Attention",
        lambda q, k, v: Attention.apply(q, k, v, heads=2, causal=True),
        [r(2, 4, 4), r(2, 4, 4, seed=1), r(2, 4, 6, seed=2)],
        "heads causal",
    ),
    OpCase("Attention", lambda qkv: Attention.apply(qkv, heads=2), [r(2, 3, 12)], "packed"),
    OpCase("ElmanRNN", lambda *a: ElmanRNN.apply(*a), recurrent_inputs(1)),
    OpCase(
        "ElmanRNN",
        lambda *a: ElmanRNN.apply(*a, relu=True, reverse=True, initial=1, final=True),
        recurrent_inputs(1, initial=1, seed=3),
        "relu reverse initial final",
    ),
    OpCase("LSTM", lambda *a: LSTM.apply(*a), recurrent_inputs(4)),
    OpCase(
        "LSTM",
        lambda *a: LSTM.apply(*a, initial=2, final=True),
        recurrent_inputs(4, initial=2, seed=5),
        "initial final",
    ),
    OpCase("GRU", lambda *a: GRU.apply(*a), recurrent_inputs(3)),
    OpCase(
        "GRU",
        lambda *a: GRU.apply(
            *a, reverse=True, initial=1, mask=np.array([[1, 1, 0], [1, 1, 1]]) > 0
        ),
        recurrent_inputs(3, initial=1, seed=7),
        "reverse initial mask",
    ),
    # ------------------------------------------------------------ fused losses
    OpCase(
        "Pointwise",
        lambda p, t: L.Pointwise.apply(p, t, kind="smooth_l1", beta=0.5, reduction="mean"),
        [distinct(4, 3), r(4, 3, seed=1) * 0.01],
        "smooth l1, target with a gradient",
    ),
    OpCase(
        "Pointwise",
        lambda p: L.Pointwise.apply(p, target(p), kind="huber", beta=0.3, reduction="none"),
        [distinct(4, 3)],
        "huber",
    ),
    OpCase(
        "BinaryCrossEntropyWithLogits",
        lambda a: L.BinaryCrossEntropyWithLogits.apply(
            a, target(a), weight=None, pos_weight=like([0.5, 1.0, 2.0], a), reduction="sum"
        ),
        [r(4, 3) * 3],
    ),
    OpCase(
        "BinaryCrossEntropy",
        lambda a: L.BinaryCrossEntropy.apply(a, target(a), weight=None, reduction="mean"),
        [r(4, 3, low=0.1, high=0.9)],
    ),
    OpCase(
        "NegativeLogLikelihood",
        lambda a: L.NegativeLogLikelihood.apply(
            a, target=LABELS, weight=like([1.0, 0.5, 2.0], a), ignore_index=-100, reduction="mean"
        ),
        [r(4, 3)],
    ),
    OpCase(
        "KLDivergence",
        lambda a: L.KLDivergence.apply(a, target(a), log_target=False, reduction="batchmean"),
        [r(4, 3)],
    ),
]
