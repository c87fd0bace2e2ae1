"""Targets are checked once per data set, before training, not by the loss at every step."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from typer.testing import CliRunner

from nnrun.cli import app
from nnrun.data.info import Split
from nnrun.errors import DataError
from nnrun.experiment import build_experiment, resolve
from nnrun.losses import CrossEntropy, Hinge
from nnrun.losses.base import Loss
from nnrun.losses.targets import check_data_targets

SIGNS = """
name: signs
data: {{path: signs.csv, task: regression, shuffle: false, batch_size: 8,
        split: {{val: 0.0, test: 0.0}}}}
model:
  layers:
    - {{type: linear, units: 1}}
loss: hinge
optimizer: {{type: sgd, lr: 0.1}}
train: {{epochs: 2, compile: {compile}}}
metrics: [mae]
"""


def write_signs(tmp_path, last_label: int, compile_mode: str = "auto"):
    """40 rows of −1/+1 labels (five batches of 8); the last row's label is `last_label`."""
    rng = np.random.default_rng(0)
    rows = ["a,b,label"]
    for index in range(40):
        label = last_label if index == 39 else (1 if index % 2 else -1)
        a, b = rng.normal(size=2)
        rows.append(f"{a:.4f},{b:.4f},{label}")
    (tmp_path / "signs.csv").write_text("\n".join(rows) + "\n")
    config = tmp_path / "signs.yaml"
    config.write_text(textwrap.dedent(SIGNS.format(compile=compile_mode)))
    return config


@pytest.mark.parametrize("compile_mode", ["on", "off"])
def test_a_bad_label_in_the_last_batch_is_reported_before_training_starts(
    tmp_path, monkeypatch, compile_mode
):
    monkeypatch.chdir(tmp_path)
    config = write_signs(tmp_path, last_label=3, compile_mode=compile_mode)
    result = CliRunner().invoke(app, ["train", str(config), "--out", "run"])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert "signs.csv, train split: hinge: targets must be −1/+1 or 0/1 labels" in message
    assert "found the value 3.0 at example 40" in message
    assert "Traceback" not in result.output
    assert not (tmp_path / "run").exists()  # refused before the run directory was made


def test_training_steps_do_not_check_targets_again(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = write_signs(tmp_path, last_label=1)
    calls = []
    real_check = Hinge.check_targets
    monkeypatch.setattr(
        Hinge, "check_targets", lambda self, *args: calls.append(args[0]) or real_check(self, *args)
    )
    exp = build_experiment(resolve(config))
    assert calls == [(2, 1), (40, 1)]  # the dry run's sample, then the whole data set once
    assert exp.loss.checks_targets is False
    result = CliRunner().invoke(app, ["train", str(config), "--out", "run", "-q"])
    assert result.exit_code == 0, result.output
    assert calls.count((2, 1)) == 2 and len(calls) == 4  # one more build, no step


def test_class_indices_of_a_whole_split_are_checked_against_the_output_width():
    targets = np.zeros(100, dtype=np.int64)
    targets[-1] = 3
    splits = {"train": Split(np.zeros((100, 4), np.float32), targets)}
    loss = CrossEntropy()
    with pytest.raises(DataError) as raised:
        check_data_targets(loss, splits, np.zeros((2, 3), np.float32), 2, "labels.npz")
    assert str(raised.value) == (
        "labels.npz, train split: cross_entropy: target class 3 is out of range for 3 classes "
        "(valid: 0 to 2, or ignore_index=-100), at example 100"
    )
    assert loss.checks_targets is True  # nothing was turned off


def test_non_finite_regression_targets_are_refused_naming_the_example():
    targets = np.ones((5, 1), np.float32)
    targets[2, 0] = np.nan
    splits = {"val": Split(np.zeros((5, 2), np.float32), targets)}
    from nnrun.losses import MSE

    with pytest.raises(
        DataError,
        match=r"x\.csv, val split: mse: targets must be finite numbers, found nan at example 3",
    ):
        check_data_targets(MSE(), splits, np.zeros((2, 1), np.float32), 2, "x.csv")


def test_a_loss_called_directly_still_checks_each_call():
    loss = CrossEntropy()
    with pytest.raises(DataError, match="target class 5 is out of range"):
        loss(np.zeros((2, 3), np.float32), np.array([0, 5]))


def test_checked_data_turns_the_per_call_checks_off_and_outputs_without_batch_axis_keep_them():
    splits = {"train": Split(np.zeros((4, 2), np.float32), np.array([0, 1, 2, 1]))}
    kept = CrossEntropy()
    check_data_targets(kept, splits, np.zeros(3, np.float32), 2, "d")  # no batch axis
    assert kept.checks_targets is True
    checked = CrossEntropy()
    check_data_targets(checked, splits, np.zeros((2, 3), np.float32), 2, "d")
    assert checked.checks_targets is False
    assert Loss.checks_targets is True  # per instance, never the class


def test_eval_on_a_new_file_checks_its_targets_once_naming_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = write_signs(tmp_path, last_label=1)
    runner = CliRunner()
    assert runner.invoke(app, ["train", str(config), "--out", "run", "-q"]).exit_code == 0
    lines = (tmp_path / "signs.csv").read_text().splitlines()
    (tmp_path / "new.csv").write_text("\n".join([*lines[:-1], "0.1,0.2,7"]) + "\n")
    result = runner.invoke(app, ["eval", "run", "--data", "new.csv"])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert (
        "new.csv, eval split: hinge: targets must be −1/+1 or 0/1 labels, found the value 7.0"
        in message
    )
