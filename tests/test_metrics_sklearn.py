"""The score, balance and percentage metrics against scikit-learn's values."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun.metrics import compute_metrics
from tests.extras import need

metrics = need("sklearn.metrics")


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-logits))


@pytest.fixture
def multiclass() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 4, size=300)
    scores = rng.normal(size=(300, 4)) + 1.5 * np.eye(4)[targets]
    return scores, targets


@pytest.fixture
def binary() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    targets = (rng.random(200) < 0.3).astype(np.int64)
    logits = rng.normal(size=200) + 1.2 * targets
    return logits, targets


def test_binary_auc_average_precision_and_log_loss_match_sklearn(binary):
    logits, targets = binary
    got = compute_metrics(
        ["auc", "average_precision", "log_loss", "balanced_accuracy", "matthews_corrcoef"],
        logits[:, None],
        targets[:, None].astype(np.float32),
        "binary",
    )
    predictions = (logits > 0).astype(int)
    assert got["auc"] == pytest.approx(metrics.roc_auc_score(targets, logits), abs=1e-12)
    assert got["average_precision"] == pytest.approx(
        metrics.average_precision_score(targets, logits), abs=1e-12
    )
    assert got["log_loss"] == pytest.approx(metrics.log_loss(targets, sigmoid(logits)), rel=1e-9)
    assert got["balanced_accuracy"] == pytest.approx(
        metrics.balanced_accuracy_score(targets, predictions), abs=1e-12
    )
    assert got["matthews_corrcoef"] == pytest.approx(
        metrics.matthews_corrcoef(targets, predictions), abs=1e-12
    )


def test_multiclass_one_vs_rest_macro_metrics_match_sklearn(multiclass):
    scores, targets = multiclass
    got = compute_metrics(
        [
            "auc",
            "average_precision",
            "log_loss",
            "balanced_accuracy",
            "matthews_corrcoef",
            {"type": "top_k_accuracy", "k": 2},
        ],
        scores,
        targets,
        "classification",
        4,
    )
    probabilities = softmax(scores)
    predictions = scores.argmax(axis=1)
    assert got["auc"] == pytest.approx(
        metrics.roc_auc_score(targets, probabilities, multi_class="ovr", average="macro"),
        abs=1e-12,
    )
    assert got["average_precision"] == pytest.approx(
        metrics.average_precision_score(np.eye(4)[targets], probabilities, average="macro"),
        abs=1e-12,
    )
    assert got["log_loss"] == pytest.approx(
        metrics.log_loss(targets, probabilities, labels=range(4)), rel=1e-9
    )
    assert got["balanced_accuracy"] == pytest.approx(
        metrics.balanced_accuracy_score(targets, predictions), abs=1e-12
    )
    assert got["matthews_corrcoef"] == pytest.approx(
        metrics.matthews_corrcoef(targets, predictions), abs=1e-12
    )
    assert got["top_k_accuracy"] == pytest.approx(
        metrics.top_k_accuracy_score(targets, scores, k=2, labels=range(4)), abs=1e-12
    )


def test_tied_scores_count_one_half_in_auc_and_group_in_average_precision():
    targets = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    logits = np.array([0.0, 1.0, 0.0, 1.0, 2.0, -1.0, 0.0, 1.0])
    got = compute_metrics(["auc", "average_precision"], logits, targets, "binary")
    assert got["auc"] == pytest.approx(metrics.roc_auc_score(targets, logits))
    assert got["average_precision"] == pytest.approx(
        metrics.average_precision_score(targets, logits)
    )


def test_mape_matches_sklearn_including_zero_targets():
    rng = np.random.default_rng(2)
    targets = rng.normal(size=(50, 2))
    targets[3, 0] = 0.0
    outputs = targets + rng.normal(scale=0.1, size=targets.shape)
    got = compute_metrics(["mape"], outputs, targets, "regression")
    assert got["mape"] == pytest.approx(
        metrics.mean_absolute_percentage_error(targets, outputs), rel=1e-12
    )


def test_ignored_targets_are_left_out_of_the_score_metrics(multiclass):
    scores, targets = multiclass
    masked = targets.copy()
    masked[:40] = -100
    got = compute_metrics(["auc", "log_loss"], scores, masked, "classification", 4)
    expected = compute_metrics(["auc", "log_loss"], scores[40:], targets[40:], "classification", 4)
    assert got == pytest.approx(expected)
