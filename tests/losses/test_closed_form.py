"""Hand-computed loss values (no torch needed), dtype preservation, and the behaviours where
nnrun deliberately differs from or extends torch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nnrun.components  # noqa: F401  (fills the registries)
from nnrun.autograd.tensor import Tensor
from nnrun.registry import LOSSES


def _loss(name: str, *args, **kwargs) -> float:
    return float(LOSSES.build(name, **kwargs)(*args).data)


def test_mse_and_l1_of_a_worked_example():
    prediction = np.array([[1.0, 2.0], [3.0, 4.0]])
    target = np.array([[1.5, 2.0], [2.0, 6.0]])  # differences -0.5, 0, 1, -2
    assert _loss("mse", prediction, target) == pytest.approx((0.25 + 0 + 1 + 4) / 4)
    assert _loss("mse", prediction, target, reduction="sum") == pytest.approx(5.25)
    assert _loss("l1", prediction, target) == pytest.approx(3.5 / 4)


def test_smooth_l1_and_huber_are_quadratic_inside_and_linear_outside():
    prediction, target = np.array([0.5, 3.0]), np.zeros(2)
    # smooth_l1, beta=1: 0.5·0.25 = 0.125 and 3 − 0.5 = 2.5
    assert _loss("smooth_l1", prediction, target, reduction="sum") == pytest.approx(2.625)
    # huber, delta=2: 0.5·0.25 = 0.125 and 2·(3 − 1) = 4
    assert _loss("huber", prediction, target, delta=2.0, reduction="sum") == pytest.approx(4.125)
    # huber = delta · smooth_l1 with beta = delta
    huber = _loss("huber", prediction, target, delta=2.0)
    assert huber == pytest.approx(2.0 * _loss("smooth_l1", prediction, target, beta=2.0))


def test_cross_entropy_of_uniform_logits_is_log_of_the_class_count():
    assert _loss("cross_entropy", np.zeros((3, 5)), np.array([0, 2, 4])) == pytest.approx(
        math.log(5)
    )


def test_cross_entropy_of_a_worked_example():
    logits = np.array([[2.0, 1.0, 0.0]])
    log_partition = math.log(math.exp(2) + math.exp(1) + 1)
    assert _loss("cross_entropy", logits, np.array([1])) == pytest.approx(log_partition - 1)
    # label smoothing 0.3 over 3 classes: target (0.1, 0.8, 0.1)
    expected = log_partition - (0.1 * 2 + 0.8 * 1 + 0.1 * 0)
    smoothed = _loss("cross_entropy", logits, np.array([1]), label_smoothing=0.3)
    assert smoothed == pytest.approx(expected)


def test_cross_entropy_and_nll_give_zero_when_every_target_is_ignored():
    logits = Tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    target = np.full(4, -100)
    for name, options in [
        ("cross_entropy", {}),
        ("cross_entropy", {"weight": [1, 2, 3]}),
        ("nll", {}),
    ]:
        logits.grad = None
        loss = LOSSES.build(name, **options)(logits, target)
        loss.backward()
        assert loss.item() == 0.0 and not logits.grad.any()


def test_nll_picks_the_weighted_log_probability_of_the_target():
    log_probs = np.log(np.array([[0.2, 0.8], [0.6, 0.4]]))
    target = np.array([1, 0])
    weighted = _loss("nll", log_probs, target, weight=[1.0, 3.0])
    assert weighted == pytest.approx(-(3 * math.log(0.8) + 1 * math.log(0.6)) / 4)


def test_binary_losses_of_a_worked_example():
    # bce_with_logits of x=0 is log 2 whatever the label; pos_weight scales positives only
    logits, labels = np.zeros((2, 1)), np.array([[1.0], [0.0]])
    assert _loss("bce_with_logits", logits, labels) == pytest.approx(math.log(2))
    assert _loss("bce_with_logits", logits, labels, pos_weight=3.0) == pytest.approx(
        (3 * math.log(2) + math.log(2)) / 2
    )
    probs = np.array([[0.9], [0.2]])
    assert _loss("binary_cross_entropy", probs, labels) == pytest.approx(
        -(math.log(0.9) + math.log(0.8)) / 2
    )


def test_hinge_reads_zero_one_labels_as_minus_one_plus_one():
    scores = np.array([[0.5], [-2.0], [0.3]])
    signs = np.array([[1.0], [-1.0], [-1.0]])  # losses 0.5, 0, 1.3
    assert _loss("hinge", scores, signs) == pytest.approx(1.8 / 3)
    assert _loss("hinge", scores, (signs > 0).astype(np.float32)) == pytest.approx(1.8 / 3)
    assert _loss("hinge", scores, signs, margin=2.0, reduction="sum") == pytest.approx(
        1.5 + 0 + 2.3
    )


def test_multi_margin_of_a_worked_example():
    # torch's documented example: x = (0.1, 0.2, 0.4, 0.8), y = 3
    scores, target = np.array([[0.1, 0.2, 0.4, 0.8]]), np.array([3])
    expected = ((1 - 0.8 + 0.1) + (1 - 0.8 + 0.2) + (1 - 0.8 + 0.4)) / 4
    assert _loss("multi_margin", scores, target) == pytest.approx(expected)


def test_margin_ranking_is_the_lecture_ranking_loss():
    x1, x2, y = np.array([1.0, 0.2]), np.array([0.5, 0.6]), np.array([1.0, 1.0])
    # max(0, −(1 − 0.5) + 0.1) = 0 and max(0, −(0.2 − 0.6) + 0.1) = 0.5
    assert _loss("margin_ranking", x1, x2, y, margin=0.1, reduction="sum") == pytest.approx(0.5)


def test_kl_div_of_identical_distributions_is_zero_and_batchmean_divides_by_batch():
    p = np.array([[0.25, 0.75], [0.5, 0.5]])
    assert _loss("kl_div", np.log(p), p) == pytest.approx(0.0, abs=1e-12)
    q = np.array([[0.5, 0.5], [0.5, 0.5]])
    kl = 0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.5)
    assert _loss("kl_div", np.log(q), p, reduction="batchmean") == pytest.approx(kl / 2)
    assert _loss("kl_div", np.log(q), p, reduction="mean") == pytest.approx(kl / 4)
    assert _loss("kl_div", np.log(q), np.log(p), log_target=True, reduction="sum") == (
        pytest.approx(kl)
    )


def test_cosine_embedding_of_parallel_and_orthogonal_pairs():
    x1 = np.array([[1.0, 0.0], [1.0, 0.0]])
    x2 = np.array([[2.0, 0.0], [0.0, 3.0]])
    # similar & parallel: 1 − 1 = 0; dissimilar & orthogonal: max(0, 0 − (−0.5)) = 0.5
    assert _loss(
        "cosine_embedding", x1, x2, np.array([1, -1]), margin=-0.5, reduction="sum"
    ) == pytest.approx(0.5)


def test_triplet_margin_of_a_worked_example():
    anchor, positive, negative = (
        np.array([[0.0, 0.0]]),
        np.array([[3.0, 4.0]]),
        np.array([[1.0, 0.0]]),
    )
    # d(a, p) ≈ 5, d(a, n) ≈ 1 (eps = 0): max(0, 5 − 1 + 1) = 5
    assert _loss("triplet_margin", anchor, positive, negative, eps=0.0) == pytest.approx(5.0)
    # swap: d(p, n) = √20 > d(a, n), so nothing changes
    assert _loss("triplet_margin", anchor, positive, negative, eps=0.0, swap=True) == pytest.approx(
        5.0
    )


FLOAT32_CALLS = [
    ("mse", {}, lambda r: (r.standard_normal((4, 2)), r.standard_normal((4, 2)))),
    ("smooth_l1", {}, lambda r: (r.standard_normal((4, 2)), r.standard_normal((4, 2)))),
    (
        "cross_entropy",
        {"weight": [1.0, 2.0, 1.0]},
        lambda r: (r.standard_normal((4, 3)), r.integers(0, 3, 4)),
    ),
    ("cross_entropy", {}, lambda r: (r.standard_normal((4, 3)), np.full((4, 3), 1 / 3))),
    ("nll", {}, lambda r: (r.standard_normal((4, 3)), r.integers(0, 3, 4))),
    (
        "bce_with_logits",
        {"pos_weight": 2.0},
        lambda r: (r.standard_normal((4, 1)), np.ones((4, 1))),
    ),
    ("binary_cross_entropy", {}, lambda r: (r.uniform(0.1, 0.9, (4, 1)), np.ones((4, 1)))),
    ("hinge", {}, lambda r: (r.standard_normal((4, 1)), np.ones((4, 1)))),
    ("multi_margin", {}, lambda r: (r.standard_normal((4, 3)), r.integers(0, 3, 4))),
    ("kl_div", {}, lambda r: (r.standard_normal((4, 3)), np.full((4, 3), 1 / 3))),
    ("margin_ranking", {}, lambda r: (r.standard_normal(4), r.standard_normal(4), np.ones(4))),
    (
        "cosine_embedding",
        {},
        lambda r: (r.standard_normal((4, 3)), r.standard_normal((4, 3)), np.ones(4)),
    ),
    ("triplet_margin", {}, lambda r: tuple(r.standard_normal((4, 3)) for _ in range(3))),
]


@pytest.mark.parametrize("name, options, make", FLOAT32_CALLS, ids=[c[0] for c in FLOAT32_CALLS])
def test_float32_inputs_give_float32_loss_and_gradients(name, options, make):
    arrays = make(np.random.default_rng(0))
    count = len(LOSSES.get(name).inputs) - (1 if LOSSES.get(name).inputs[-1] == "target" else 0)
    inputs = [Tensor(a, requires_grad=True) for a in arrays[:count]]  # float32 by default
    targets = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays[count:]]
    loss = LOSSES.build(name, **options)(*inputs, *targets)
    loss.backward()
    assert loss.dtype == np.float32
    assert all(t.grad.dtype == np.float32 for t in inputs)


def test_regression_targets_that_require_grad_get_the_opposite_gradient():
    prediction = Tensor(np.array([1.0, 2.0]), requires_grad=True, dtype=np.float64)
    target = Tensor(np.array([0.0, 4.0]), requires_grad=True, dtype=np.float64)
    LOSSES.build("mse", reduction="sum")(prediction, target).backward()
    np.testing.assert_allclose(prediction.grad, [2.0, -4.0])
    np.testing.assert_allclose(target.grad, [-2.0, 4.0])


def test_reduction_none_keeps_the_batch_shape():
    rng = np.random.default_rng(0)
    assert LOSSES.build("mse", reduction="none")(rng.random((3, 2)), rng.random((3, 2))).shape == (
        3,
        2,
    )
    logits, labels = rng.random((3, 4, 5)), rng.integers(0, 4, (3, 5))
    assert LOSSES.build("cross_entropy", reduction="none")(logits, labels).shape == (3, 5)
    assert LOSSES.build("triplet_margin", reduction="none")(*rng.random((3, 6, 2))).shape == (6,)


def test_every_loss_declares_its_output():
    for name in LOSSES.names():
        assert LOSSES.get(name).output, name
    assert LOSSES.get("cross_entropy").output == "logits"
    assert LOSSES.get("bce_with_logits").output == "logits"
    assert LOSSES.get("binary_cross_entropy").output == "probabilities"
    assert LOSSES.get("triplet_margin").inputs == ("anchor", "positive", "negative")


def test_losses_have_a_torch_like_repr():
    assert repr(LOSSES.build("huber", delta=0.5)) == "Huber(reduction='mean', delta=0.5)"
