"""The ranking task: pairwise_accuracy on score differences, and its run defaults."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun.errors import ArgumentError, DataError, ShapeError
from nnrun.experiment import build_experiment, resolve
from nnrun.metrics import compute_metrics, confusion_matrix, metric_mode, resolve_metrics
from nnrun.train.loop import evaluate_split

# differences s_a − s_b and ±1 targets: right, right, wrong, tie (wrong), right
DIFFERENCES = np.array([[0.5], [-2.0], [1.0], [0.0], [-0.1]], np.float32)
SIGNS = np.array([[1.0], [-1.0], [-1.0], [1.0], [-1.0]], np.float32)


def test_pairwise_accuracy_counts_ties_as_wrong():
    result = compute_metrics(["pairwise_accuracy"], DIFFERENCES, SIGNS, "ranking")
    assert result == {"pairwise_accuracy": pytest.approx(3 / 5)}


def test_alias_flat_layouts_and_zero_targets_read_as_minus_one():
    zero_one = (SIGNS > 0).astype(np.float32)
    result = compute_metrics(["ranking_accuracy"], DIFFERENCES[:, 0], zero_one, "ranking")
    assert result == {"pairwise_accuracy": pytest.approx(3 / 5)}


def test_pairwise_accuracy_is_maximized_and_only_for_ranking():
    assert metric_mode("val_pairwise_accuracy") == "max"
    assert metric_mode("test_ranking_accuracy") == "max"
    with pytest.raises(ArgumentError, match="metrics for ranking: pairwise_accuracy"):
        resolve_metrics(["accuracy"], "ranking")
    with pytest.raises(ArgumentError, match="does not apply to task 'regression'"):
        resolve_metrics(["pairwise_accuracy"], "regression")


def test_bad_ranking_inputs_are_clear_errors():
    with pytest.raises(ShapeError, match="score differences"):
        compute_metrics(["pairwise_accuracy"], DIFFERENCES, SIGNS[:3], "ranking")
    with pytest.raises(DataError, match="must be -1 or \\+1"):
        compute_metrics(["pairwise_accuracy"], DIFFERENCES, SIGNS * 2, "ranking")
    with pytest.raises(ArgumentError, match="confusion_matrix does not apply"):
        confusion_matrix(DIFFERENCES, SIGNS, "ranking")


RANKING_CONFIG = """
seed: 0
data:
  dataset: diabetes
  pairs: {per_example: 2}
model:
  inputs: [a, b]
  nodes:
    score_a: {type: linear, units: 1, in: a}
    score_b: {share: score_a, in: b}
  output: [score_a, score_b]
"""


def test_ranking_run_defaults_to_margin_ranking_and_pairwise_accuracy(tmp_path):
    path = tmp_path / "rank.yaml"
    path.write_text(RANKING_CONFIG)
    experiment = build_experiment(resolve(path))
    assert experiment.task.name == "ranking"
    assert experiment.loss.name == "margin_ranking" and experiment.loss.margin == 1.0
    assert [bound.key for bound in experiment.metrics] == ["pairwise_accuracy"]
    assert list(experiment.model.state_dict()) == ["score_a.weight", "score_a.bias"]
    results, outputs, targets = evaluate_split(experiment, "test", 64)
    split = experiment.data.splits["test"]
    np.testing.assert_array_equal(targets, split.targets)
    weight = experiment.model.state_dict()["score_a.weight"]
    bias = experiment.model.state_dict()["score_a.bias"]
    scores_a = split.inputs["a"] @ weight.T + bias
    scores_b = split.inputs["b"] @ weight.T + bias
    np.testing.assert_allclose(outputs, scores_a - scores_b, rtol=1e-5, atol=1e-5)
    expected = np.mean(np.sign(scores_a - scores_b) == split.targets)
    assert results["pairwise_accuracy"] == pytest.approx(expected)
