"""The Task object: every task's defaults are usable and its answers match the data layouts."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun import components  # noqa: F401  (fills the registries)
from nnrun.errors import ArgumentError
from nnrun.metrics import resolve_metrics
from nnrun.registry import LOSSES, METRICS
from nnrun.tasks import TASKS, get_task


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_has_a_registered_default_loss_and_fitting_default_metrics(name):
    task = TASKS[name]
    spec = dict(task.default_loss)
    LOSSES.build(spec.pop("type"), **spec)
    assert [bound.key for bound in resolve_metrics(list(task.default_metrics), task)]
    assert all(METRICS.get(metric).applies_to(task) for metric in task.default_metrics)


def test_output_width_follows_the_label_kind():
    assert TASKS["classification"].output_width(7, ()) == 7
    assert TASKS["binary"].output_width(2, (1,)) == 1
    assert TASKS["ranking"].output_width(None, ()) == 1
    assert TASKS["regression"].output_width(None, (3,)) == 3


def test_batch_weight_skips_ignored_class_targets_but_not_regression_values():
    targets = np.array([1, -100, 2])
    assert TASKS["node_classification"].batch_weight(targets) == 2
    assert TASKS["regression"].batch_weight(targets) == 3


def test_binary_logits_decode_to_two_class_probabilities():
    probabilities = TASKS["binary"].class_probabilities(np.array([[0.0], [100.0]]), "logits")
    np.testing.assert_allclose(probabilities, [[0.5, 0.5], [0.0, 1.0]], atol=1e-12)
    assert TASKS["classification"].decodes_to_classes("logits")
    assert not TASKS["regression"].decodes_to_classes("values")


def test_pairwise_outputs_become_score_differences_for_metrics():
    a, b = np.array([3.0, 1.0]), np.array([1.0, 2.0])
    np.testing.assert_array_equal(TASKS["ranking"].metric_outputs((a, b)), [2.0, -1.0])
    assert TASKS["classification"].metric_outputs((a, b)) is None


def test_unknown_task_names_the_known_ones():
    with pytest.raises(ArgumentError, match="unknown task 'clasification'") as error:
        get_task("clasification")
    assert "classification" in error.value.expected
