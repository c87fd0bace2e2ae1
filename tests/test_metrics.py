"""Metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun.errors import ArgumentError, DataError, ShapeError
from nnrun.metrics import compute_metrics, confusion_matrix, metric_mode, resolve_metrics
from nnrun.registry import METRICS
from nnrun.tasks import TASKS


def scores_for(predictions: list[int], num_classes: int) -> np.ndarray:
    """Logits whose argmax is `predictions`; the runner-up is the next class."""
    scores = np.zeros((len(predictions), num_classes), np.float32)
    for row, predicted in enumerate(predictions):
        scores[row, predicted] = 2.0
        scores[row, (predicted + 1) % num_classes] = 1.0
    return scores


# targets 0 1 2 0 1 2, predictions 0 2 1 0 0 1:
# confusion (rows true) [[2,0,0],[1,0,1],[0,2,0]]; TP [2,0,0], FP [1,2,1], FN [0,2,2]
TARGETS = np.array([0, 1, 2, 0, 1, 2])
OUTPUTS = scores_for([0, 2, 1, 0, 0, 1], 3)


def test_accuracy_precision_recall_f1_macro_and_per_class():
    specs = ["accuracy", {"type": "precision", "per_class": True}, "recall", "f1"]
    result = compute_metrics(specs, OUTPUTS, TARGETS, "classification", 3)
    assert result["accuracy"] == pytest.approx(2 / 6)
    assert result["precision"] == pytest.approx((2 / 3 + 0 + 0) / 3)
    assert [result[f"precision_class_{i}"] for i in range(3)] == pytest.approx([2 / 3, 0, 0])
    assert result["recall"] == pytest.approx(1 / 3)
    assert result["f1"] == pytest.approx(0.8 / 3)  # class 0: 2*2 / (2*2 + 1 + 0)
    assert "f1_class_0" not in result


def test_micro_f1_equals_accuracy_and_weighted_uses_support():
    targets = np.array([0, 0, 0, 1])
    outputs = scores_for([0, 0, 1, 1], 2)  # F1: class 0 = 2*2/(4+0+1) = 0.8, class 1 = 2/3
    result = compute_metrics(
        [
            {"type": "f1", "average": "micro", "name": "f1_micro"},
            {"type": "f1", "average": "weighted", "name": "f1_weighted"},
            "f1",
        ],
        outputs,
        targets,
        "classification",
    )
    assert result["f1_micro"] == pytest.approx(3 / 4)
    assert result["f1_weighted"] == pytest.approx((3 * 0.8 + 1 * 2 / 3) / 4)
    assert result["f1"] == pytest.approx((0.8 + 2 / 3) / 2)


def test_macro_average_skips_classes_absent_from_targets_and_predictions():
    four_class = np.concatenate([OUTPUTS, np.full((6, 1), -5.0, np.float32)], axis=1)
    three = compute_metrics(["f1", "precision"], OUTPUTS, TARGETS, "classification")
    four = compute_metrics(["f1", "precision"], four_class, TARGETS, "classification", 4)
    assert four == pytest.approx(three)


def test_top_k_accuracy_counts_targets_among_the_k_best_scores():
    scores = np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1], [0.3, 0.3, 0.4], [0.2, 0.3, 0.5]])
    targets = np.array([2, 2, 0, 0])  # ranks: 2nd, 3rd, tied 2nd, 3rd
    result = compute_metrics(
        [{"type": "top_k_accuracy", "k": 2}, {"type": "top_k", "k": 1, "name": "top1"}],
        scores,
        targets,
        "classification",
    )
    assert result == pytest.approx({"top_k_accuracy": 0.5, "top1": 0.0})


def test_targets_equal_to_ignore_index_are_left_out():
    outputs = np.concatenate([OUTPUTS, scores_for([1, 2], 3)])
    targets = np.concatenate([TARGETS, [-100, -100]])
    specs = ["accuracy", "f1", {"type": "top_k_accuracy", "k": 2}]
    masked = compute_metrics(specs, outputs, targets, "node_classification")
    assert masked == pytest.approx(compute_metrics(specs, OUTPUTS, TARGETS, "classification"))


def test_sequence_outputs_are_flattened_over_time_with_padding_ignored():
    outputs = np.stack([scores_for([0, 1, 2], 3), scores_for([1, 1, 0], 3)])  # (2, 3, 3)
    targets = np.array([[0, 1, 1], [1, -100, -100]])
    result = compute_metrics(["accuracy"], outputs, targets, "sequence")
    assert result["accuracy"] == pytest.approx(3 / 4)


def test_binary_logits_are_thresholded_at_zero():
    # predictions 1 0 0 1 1 (0.0 is negative); TP=1 (#0), FP=2 (#3, #4), FN=1 (#2), TN=1 (#1)
    logits = np.array([[2.0], [-1.0], [0.0], [3.0], [1.0], [5.0]])
    targets = np.array([[1], [0], [1], [0], [0], [-100]])
    specs = [
        "accuracy",
        "precision",
        "recall",
        "f1",
        {"type": "precision", "average": "macro", "name": "macro_precision"},
    ]
    result = compute_metrics(specs, logits, targets, "binary")
    assert result == pytest.approx(
        {
            "accuracy": 2 / 5,
            "precision": 1 / 3,
            "recall": 1 / 2,
            "f1": 2 / 5,  # 2 TP / (2 TP + FP + FN)
            "macro_precision": (1 / 2 + 1 / 3) / 2,  # class 0: TN / (TN + FN)
        }
    )
    matrix = confusion_matrix(logits[:, 0], targets[:, 0].astype(float), "binary")
    np.testing.assert_array_equal(matrix, [[1, 2], [1, 1]])


def test_confusion_matrix_rows_are_true_classes():
    matrix = confusion_matrix(OUTPUTS, TARGETS, "classification")
    np.testing.assert_array_equal(matrix, [[2, 0, 0], [1, 0, 1], [0, 2, 0]])
    both = compute_metrics(["confusion_matrix", "accuracy"], OUTPUTS, TARGETS, "classification")
    assert both == pytest.approx({"accuracy": 2 / 6})
    assert compute_metrics(["confusion_matrix"], OUTPUTS, TARGETS, "classification") == {}


def test_regression_errors_and_r2():
    outputs = np.array([1.0, 2.0, 3.0, 4.0])
    targets = np.array([2.0, 2.0, 5.0, 4.0])  # errors -1 0 -2 0; mean 3.25, SS_tot 6.75
    result = compute_metrics(["mse", "mae", "rmse", "r2"], outputs, targets, "regression")
    assert result == pytest.approx(
        {"mse": 1.25, "mae": 0.75, "rmse": np.sqrt(1.25), "r2": 1 - 5 / 6.75}
    )


def test_r2_is_one_for_a_perfect_fit_and_zero_for_the_mean_predictor():
    targets = np.array([[1.0, 10.0], [2.0, 20.0], [6.0, 30.0]])
    perfect = compute_metrics(["r2"], targets.copy(), targets, "regression")
    mean = compute_metrics(["r2"], np.broadcast_to(targets.mean(0), (3, 2)), targets, "regression")
    assert perfect["r2"] == pytest.approx(1.0) and mean["r2"] == pytest.approx(0.0)


def test_regression_counts_every_target_and_accepts_n_by_1_outputs():
    outputs = np.array([[1.0], [2.0], [3.0], [4.0], [-100.0]])
    targets = np.array([2.0, 2.0, 5.0, 4.0, -100.0])  # -100 is a value here, not a mask
    result = compute_metrics(["mse", "r2"], outputs, targets, "regression")
    variance = targets.var() * len(targets)
    assert result == pytest.approx({"mse": 1.0, "r2": 1 - 5 / variance})


def test_metric_mode_knows_direction_of_metrics_losses_and_prefixed_names():
    assert metric_mode("accuracy") == "max"
    assert metric_mode("val_loss") == "min"
    assert metric_mode("val_mse") == "min"
    assert metric_mode("r2_score") == "max"
    assert metric_mode("train_f1_class_3") == "max"
    top3 = resolve_metrics([{"type": "top_k_accuracy", "k": 3, "name": "top3"}], "classification")
    assert metric_mode("val_top3", top3) == "max"
    with pytest.raises(ArgumentError, match="go up or down"):
        metric_mode("val_banana")


def test_every_registered_metric_declares_a_mode_and_tasks():
    for name in METRICS.names():
        metric = METRICS.get(name)
        assert metric.mode in ("max", "min"), name
        assert any(metric.applies_to(task) for task in TASKS.values()), name


def test_unknown_or_misfitting_metrics_fail_when_specs_are_resolved():
    with pytest.raises(ArgumentError, match="did you mean 'accuracy'"):
        resolve_metrics(["acuracy"], "classification")
    with pytest.raises(ArgumentError, match="'mse' does not apply to task 'classification'"):
        resolve_metrics(["mse"], "classification")
    with pytest.raises(ArgumentError, match="top_k_accuracy"):
        resolve_metrics(["top_k_accuracy"], "binary")
    with pytest.raises(ArgumentError, match="no argument 'k'"):
        resolve_metrics([{"type": "accuracy", "k": 3}], "classification")
    with pytest.raises(ArgumentError, match="listed twice"):
        resolve_metrics(["f1", "f1_score"], "classification")
    with pytest.raises(ArgumentError, match="needs task 'binary'"):
        resolve_metrics([{"type": "f1", "average": "binary"}], "classification")
    with pytest.raises(ArgumentError, match="average"):
        resolve_metrics([{"type": "recall", "average": "samples"}], "classification")
    with pytest.raises(ArgumentError, match="mapping with a 'type'"):
        resolve_metrics([{"k": 3}], "classification")


def test_bad_data_gives_shape_and_data_errors():
    with pytest.raises(ArgumentError, match="exceeds the number of classes"):
        compute_metrics(["top_k_accuracy"], OUTPUTS, TARGETS, "classification")
    with pytest.raises(DataError, match=r"target class 3 is outside 0\.\.2"):
        compute_metrics(["accuracy"], OUTPUTS, np.array([0, 1, 2, 3, 1, 2]), "classification")
    with pytest.raises(DataError, match="whole class indices"):
        compute_metrics(["accuracy"], OUTPUTS, TARGETS + 0.5, "classification")
    with pytest.raises(ShapeError, match=r"outputs \(N, C\) and targets \(N,\)"):
        compute_metrics(["accuracy"], OUTPUTS, TARGETS[:4], "classification")
    with pytest.raises(ShapeError, match="3 class scores but the data has 4"):
        compute_metrics(["accuracy"], OUTPUTS, TARGETS, "classification", num_classes=4)
    with pytest.raises(ShapeError, match="same shape"):
        compute_metrics(["mse"], np.zeros((4, 2)), np.zeros(4), "regression")
