"""Per-layer statistics: dead units, saturation, non-finite values, update ratios."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnrun.diagnose.stats import output_stats, parameter_stats


def test_a_unit_is_dead_only_when_zero_for_the_whole_batch():
    y = np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    stats = output_stats(y, "relu", {}, channels_first=False)
    assert stats["dead_fraction"] == pytest.approx(2 / 4)  # units 0 and 3
    assert stats["zero_fraction"] == pytest.approx(10 / 12)


def test_convolution_units_are_channels_over_every_position():
    y = np.zeros((2, 3, 4, 4))
    y[1, 0, 3, 3] = 1.0  # channel 0 fires once, at one position of one example
    y[0, 2] = 0.5
    stats = output_stats(y, "relu", {}, channels_first=True)
    assert stats["dead_fraction"] == pytest.approx(1 / 3)  # only channel 1


def test_saturation_follows_the_activation():
    tanh = np.array([[0.995, -0.999, 0.2, 0.0]])
    sigmoid = np.array([[0.005, 0.995, 0.5, 0.98]])
    assert output_stats(tanh, "tanh", {}, False)["saturated_fraction"] == pytest.approx(0.5)
    assert output_stats(sigmoid, "sigmoid", {}, False)["saturated_fraction"] == pytest.approx(0.5)
    assert output_stats(tanh, "relu", {}, False)["saturated_fraction"] is None
    hard = np.array([[2.0, -2.0, 0.5, 1.9]])
    options = {"min_val": -2.0, "max_val": 2.0}
    assert output_stats(hard, "hardtanh", options, False)["saturated_fraction"] == 0.5


def test_non_finite_values_are_counted_and_left_out_of_mean_and_std():
    y = np.array([[1.0, np.nan], [3.0, np.inf]])
    stats = output_stats(y, None, {}, False)
    assert stats["nonfinite_fraction"] == 0.5
    assert stats["mean"] == 2.0 and stats["std"] == 1.0


def test_parameter_norms_and_update_ratio_cover_all_of_a_layers_parameters():
    weights = [np.full((2, 2), 1.0), np.zeros(2)]
    grads = [np.full((2, 2), 0.5), np.zeros(2)]
    updates = [np.full((2, 2), 0.01), np.array([0.02, 0.0])]
    stats = parameter_stats(weights, grads, updates)
    assert stats["param_norm"] == pytest.approx(2.0)
    assert stats["grad_norm"] == pytest.approx(1.0)
    assert stats["grad_rms"] == pytest.approx(1.0 / math.sqrt(6))
    assert stats["grad_zero_fraction"] == pytest.approx(2 / 6)
    assert stats["update_ratio"] == pytest.approx(math.sqrt(4 * 1e-4 + 4e-4) / 2.0)


def test_update_ratio_is_undefined_for_all_zero_weights():
    stats = parameter_stats([np.zeros(3)], [np.ones(3)], [np.ones(3)])
    assert stats["update_ratio"] is None
