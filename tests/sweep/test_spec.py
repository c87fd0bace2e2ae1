"""Sweep-file validation: every mistake located at file:line:column with expected/found."""

from __future__ import annotations

import pytest

from nnrun.errors import ConfigError
from nnrun.sweep.spec import check_base, load_sweep


def problems(path):
    with pytest.raises(ConfigError) as info:
        check_base(load_sweep(path))
    return info.value.problems


def test_valid_sweep_fills_defaults(write_sweep, base_config):
    spec = load_sweep(write_sweep("parameters:\n  optimizer.lr: {values: [0.1, 0.01]}\n"))
    assert (spec.name, spec.method, spec.metric, spec.goal) == (
        "sweep",
        "grid",
        "val_loss",
        "minimize",
    )
    assert spec.base == base_config.resolve()
    assert (spec.repeats, spec.workers, spec.seed) == (1, 1, 0)


def test_goal_is_inferred_from_the_metric(write_sweep):
    spec = load_sweep(
        write_sweep("metric: {name: val_accuracy}\nparameters:\n  optimizer.lr: {value: 0.1}\n")
    )
    assert spec.goal == "maximize"


def test_unknown_distribution_is_located_with_a_suggestion(write_sweep):
    path = write_sweep(
        "method: random\nrun_cap: 3\nparameters:\n"
        "  optimizer.lr: {distribution: log_unifrom, min: 0.1, max: 1}\n"
    )
    (problem,) = problems(path)
    assert problem.location.file == str(path)
    assert (problem.location.line, problem.location.column) == (5, 32)
    assert "log_uniform" in problem.message and problem.found == "str 'log_unifrom'"


def test_several_mistakes_are_reported_together_in_file_order(write_sweep):
    path = write_sweep(
        "method: grid\nrepeats: 0\nparameters:\n"
        "  optimizer.lr: {distribution: uniform, min: 0.1, max: 1}\n"
        "  model.layers.0.units: {values: []}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_sweep(path)
    lines = [p.location.line for p in info.value.problems]
    assert lines == [3], "range errors of plain keys come first, alone"
    path = write_sweep(
        "method: grid\nparameters:\n"
        "  optimizer.lr: {distribution: uniform, min: 0.1, max: 1}\n"
        "  model.layers.0.units: {values: []}\n"
        "  train.epochs: {min: 5, max: 2}\n"
    )
    found = problems(path)
    assert [p.location.line for p in found] == [4, 5, 6]
    assert "cannot enumerate" in found[0].message
    assert "non-empty list" in found[1].message
    assert found[2].path == "parameters.train.epochs.max"


def test_random_needs_run_cap_and_log_uniform_a_positive_min(write_sweep):
    path = write_sweep(
        "method: random\nparameters:\n  optimizer.lr: {distribution: log_uniform, min: 0, max: 1}\n"
    )
    found = problems(path)
    assert ["run_cap" in p.message for p in found] == [True, False]
    assert found[1].location.line == 4 and "positive min" in found[1].message


def test_parameter_key_the_base_config_cannot_take_points_at_the_sweep_file(write_sweep):
    path = write_sweep(
        "parameters:\n  optimizer.lrr: {values: [0.1]}\n  model.layers.0.units: {values: [8, -5]}\n"
    )
    (problem,) = problems(path)  # a bad value (-5) is left to its trial
    assert problem.location.file == str(path) and problem.location.line == 3
    assert "lrr" in problem.message and "did you mean 'lr'" in problem.message


def test_seed_cannot_be_swept_and_pruning_needs_bayes(write_sweep):
    path = write_sweep("early_terminate: {type: median}\nparameters:\n  seed: {values: [1, 2]}\n")
    found = problems(path)
    assert [p.location.line for p in found] == [2, 4]
    assert "bayes" in found[0].message and "repeats" in found[1].message
