"""Every loss and reduction against torch.nn.functional in float64: values and the
gradients of every differentiable input."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import nnrun.components  # noqa: F401  (fills the registries)
from nnrun.autograd.tensor import Tensor
from nnrun.registry import LOSSES
from tests.extras import need

torch = need("torch")
F = torch.nn.functional

WEIGHT4 = [0.5, 1.0, 2.0, 1.5]
REDUCTIONS = ("mean", "sum", "none")


@dataclass
class Case:
    """Our loss `name` with `kwargs` vs `F.<torch_fn>` with `torch_kwargs` (list options
    become tensors); `make(rng)` returns (differentiable inputs, constant target or None)."""

    name: str
    kwargs: dict[str, Any]
    torch_fn: str
    make: Callable[[np.random.Generator], tuple[list[np.ndarray], np.ndarray | None]]
    torch_kwargs: dict[str, Any] = field(default_factory=dict)
    reductions: tuple[str, ...] = REDUCTIONS


def _normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def _pair(*shape):
    return lambda rng: ([rng.standard_normal(shape)], rng.standard_normal(shape))


def _labels(shape, classes, rng, ignored=None):
    """Class indices; every third one set to `ignored` when given."""
    labels = rng.integers(0, classes, shape)
    if ignored is not None:
        labels.reshape(-1)[::3] = ignored
    return labels


def _probabilities(shape, rng, axis=1):
    p = rng.uniform(0.05, 1, shape)
    return p / p.sum(axis=axis, keepdims=True)


def _signs(shape, rng):
    return np.where(rng.uniform(-1, 1, shape) > 0, 1.0, -1.0)


CASES = [
    Case("mse", {}, "mse_loss", _pair(5, 3)),
    Case("l1", {}, "l1_loss", _pair(5, 3)),
    Case("smooth_l1", {}, "smooth_l1_loss", _pair(6, 4)),
    Case("smooth_l1", {"beta": 0.3}, "smooth_l1_loss", _pair(6, 4), {"beta": 0.3}),
    Case("smooth_l1", {"beta": 0.0}, "smooth_l1_loss", _pair(6, 4), {"beta": 0.0}),
    Case("huber", {}, "huber_loss", _pair(6, 4)),
    Case("huber", {"delta": 0.4}, "huber_loss", _pair(6, 4), {"delta": 0.4}),
    Case(
        "nll",
        {},
        "nll_loss",
        lambda rng: ([rng.standard_normal((6, 4))], _labels(6, 4, rng)),
    ),
    Case(
        "nll",
        {"weight": WEIGHT4, "ignore_index": -100},
        "nll_loss",
        lambda rng: ([rng.standard_normal((3, 4, 5))], _labels((3, 5), 4, rng, ignored=-100)),
        {"weight": WEIGHT4},
    ),
    Case(
        "binary_cross_entropy",
        {},
        "binary_cross_entropy",
        lambda rng: ([rng.uniform(0.02, 0.98, (5, 3))], rng.uniform(0, 1, (5, 3))),
    ),
    Case(
        "binary_cross_entropy",
        {"weight": [1.0, 2.0, 0.5]},
        "binary_cross_entropy",
        lambda rng: ([rng.uniform(0.02, 0.98, (5, 3))], rng.integers(0, 2, (5, 3)) * 1.0),
        {"weight": [1.0, 2.0, 0.5]},
    ),
    Case(
        "bce_with_logits",
        {},
        "binary_cross_entropy_with_logits",
        lambda rng: ([rng.standard_normal((5, 1)) * 4], rng.integers(0, 2, (5, 1)) * 1.0),
    ),
    Case(
        "bce_with_logits",
        {"weight": [1.0, 2.0, 0.5], "pos_weight": [3.0, 0.5, 1.0]},
        "binary_cross_entropy_with_logits",
        lambda rng: ([rng.standard_normal((5, 3)) * 4], rng.uniform(0, 1, (5, 3))),
        {"weight": [1.0, 2.0, 0.5], "pos_weight": [3.0, 0.5, 1.0]},
    ),
    Case(
        "multi_margin",
        {},
        "multi_margin_loss",
        lambda rng: ([rng.standard_normal((6, 4))], _labels(6, 4, rng)),
    ),
    Case(
        "multi_margin",
        {"p": 2, "margin": 0.7, "weight": WEIGHT4},
        "multi_margin_loss",
        lambda rng: ([rng.standard_normal((6, 4))], _labels(6, 4, rng)),
        {"p": 2, "margin": 0.7, "weight": WEIGHT4},
    ),
    Case(
        "margin_ranking",
        {"margin": 0.3},
        "margin_ranking_loss",
        lambda rng: ([rng.standard_normal(7), rng.standard_normal(7)], _signs(7, rng)),
        {"margin": 0.3},
    ),
    Case(
        "kl_div",
        {},
        "kl_div",
        lambda rng: (
            [np.log(_probabilities((4, 5), rng))],
            np.where(rng.uniform(size=(4, 5)) > 0.2, _probabilities((4, 5), rng), 0.0),
        ),
        reductions=("mean", "batchmean", "sum", "none"),
    ),
    Case(
        "kl_div",
        {"log_target": True},
        "kl_div",
        lambda rng: ([rng.standard_normal((4, 5))], np.log(_probabilities((4, 5), rng))),
        {"log_target": True},
        reductions=("mean", "batchmean", "sum", "none"),
    ),
    Case(
        "cosine_embedding",
        {"margin": 0.2},
        "cosine_embedding_loss",
        lambda rng: ([rng.standard_normal((6, 3)), rng.standard_normal((6, 3))], _signs(6, rng)),
        {"margin": 0.2},
    ),
    Case(
        "triplet_margin",
        {},
        "triplet_margin_loss",
        lambda rng: ([rng.standard_normal((5, 3)) for _ in range(3)], None),
    ),
    Case(
        "triplet_margin",
        {"margin": 0.5, "p": 1.0, "swap": True},
        "triplet_margin_loss",
        lambda rng: ([rng.standard_normal((5, 3)) for _ in range(3)], None),
        {"margin": 0.5, "p": 1.0, "swap": True},
    ),
    Case(
        "triplet_margin",
        {"p": 3.0, "eps": 1e-3},
        "triplet_margin_loss",
        lambda rng: ([rng.standard_normal(4) for _ in range(3)], None),
        {"p": 3.0, "eps": 1e-3},
    ),
]


def _torch_option(value: Any) -> Any:
    return torch.tensor(value, dtype=torch.float64) if isinstance(value, list) else value


def _compare(ours_fn, theirs_fn, inputs, target, seed=0):
    """Run both on float64 copies of `inputs`; compare outputs and input gradients."""
    ours_inputs = [Tensor(x, requires_grad=True, dtype=np.float64) for x in inputs]
    extra = [] if target is None else [target]
    ours = ours_fn(*ours_inputs, *extra)
    torch_inputs = [torch.tensor(x, requires_grad=True) for x in inputs]
    theirs = theirs_fn(*torch_inputs, *[torch.as_tensor(t) for t in extra])
    upstream = np.random.default_rng(seed).standard_normal(ours.shape)
    ours.backward(upstream)
    theirs.backward(torch.from_numpy(upstream))
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    for mine, reference in zip(ours_inputs, torch_inputs, strict=True):
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")  # torch's kl_div
@pytest.mark.parametrize(
    "case, reduction",
    [
        pytest.param(case, reduction, id=f"{case.name}-{i}-{reduction}")
        for i, case in enumerate(CASES)
        for reduction in case.reductions
    ],
)
def test_loss_matches_torch(case, reduction):
    inputs, target = case.make(np.random.default_rng(0))
    loss = LOSSES.build(case.name, **case.kwargs, reduction=reduction)
    torch_kwargs = {k: _torch_option(v) for k, v in case.torch_kwargs.items()}
    function = getattr(F, case.torch_fn)
    _compare(
        loss, lambda *args: function(*args, **torch_kwargs, reduction=reduction), inputs, target
    )


CE_COMBINATIONS = list(
    itertools.product(
        [(6, 4), (3, 4, 5), (2, 4, 3, 2)],  # (N, C), (N, C, T), (N, C, H, W)
        ["indices", "probabilities"],
        [None, WEIGHT4],
        [0.0, 0.25],
        [-100, 1],
        REDUCTIONS,
    )
)


@pytest.mark.parametrize(
    "shape, kind, weight, smoothing, ignore_index, reduction",
    [
        c
        for c in CE_COMBINATIONS
        if not (c[1] == "probabilities" and c[4] != -100)  # ignore_index is for indices
    ],
)
def test_cross_entropy_matches_torch_for_every_option(
    shape, kind, weight, smoothing, ignore_index, reduction
):
    rng = np.random.default_rng(len(shape))
    logits = rng.standard_normal(shape) * 2
    if kind == "indices":
        target = _labels(shape[:1] + shape[2:], shape[1], rng, ignored=ignore_index)
    else:
        target = _probabilities(shape, rng)
    options = {"weight": weight, "label_smoothing": smoothing, "ignore_index": ignore_index}
    loss = LOSSES.build("cross_entropy", **options, reduction=reduction)
    torch_options = {k: _torch_option(v) for k, v in options.items()}
    _compare(
        loss,
        lambda x, t: F.cross_entropy(x, t, **torch_options, reduction=reduction),
        [logits],
        target,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", ["indices", "probabilities"])
def test_cross_entropy_class_dim_last_equals_torch_on_moved_logits(kind, reduction):
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((3, 5, 4))  # (N, T, C)
    if kind == "indices":
        target = _labels((3, 5), 4, rng, ignored=-100)
        torch_target = torch.from_numpy(target)
    else:
        target = _probabilities((3, 5, 4), rng, axis=-1)
        torch_target = torch.from_numpy(target).movedim(-1, 1)
    loss = LOSSES.build("cross_entropy", class_dim=-1, label_smoothing=0.1, reduction=reduction)
    _compare(
        lambda x, t: loss(x, t),
        lambda x, _: F.cross_entropy(
            x.movedim(-1, 1), torch_target, label_smoothing=0.1, reduction=reduction
        ),
        [logits],
        target,
    )


@pytest.mark.parametrize(
    "name, torch_fn", [("cross_entropy", "cross_entropy"), ("nll", "nll_loss")]
)
def test_unbatched_prediction_matches_torch(name, torch_fn):
    rng = np.random.default_rng(2)
    for reduction in REDUCTIONS:
        loss = LOSSES.build(name, reduction=reduction)
        function = getattr(F, torch_fn)
        _compare(
            loss,
            lambda x, t, reduction=reduction, function=function: function(
                x, t, reduction=reduction
            ),
            [rng.standard_normal(5)],
            np.array(3),
        )


def test_bce_with_logits_stays_finite_for_extreme_logits():
    logits = np.array([[-800.0], [800.0], [-40.0], [40.0]])
    target = np.array([[1.0], [0.0], [0.0], [1.0]])
    loss = LOSSES.build("bce_with_logits", pos_weight=2.0)
    _compare(
        loss,
        lambda x, t: F.binary_cross_entropy_with_logits(
            x, t, pos_weight=torch.tensor([2.0], dtype=torch.float64)
        ),
        [logits],
        target,
    )


def test_binary_cross_entropy_clamps_log_at_minus_100_like_torch():
    probs = np.array([0.0, 1.0, 0.5, 1.0])
    target = np.array([1.0, 0.0, 1.0, 1.0])
    ours = LOSSES.build("binary_cross_entropy", reduction="none")(probs, target)
    theirs = F.binary_cross_entropy(
        torch.from_numpy(probs), torch.from_numpy(target), reduction="none"
    )
    np.testing.assert_allclose(ours.data, theirs.numpy())
    assert ours.data[0] == 100.0
