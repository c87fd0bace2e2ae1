"""Diagnostics during training: the recording pass leaves training untouched, records land in
diagnostics.jsonl, findings in summary.json, and the shipped configs/diagnose/ examples (and
variations of them) get the findings a user expects."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from nnrun.diagnose.probe import config_layers, record_step
from nnrun.diagnose.records import read_records
from nnrun.experiment import build_experiment, resolve
from nnrun.train.display import make_reporter
from nnrun.train.loop import Trainer
from nnrun.train.session import resume_run, start_run

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "diagnose"


def train(config: Path, out: Path, *overrides: str) -> tuple[dict, str]:
    """Train; returns the summary and what the plain reporter printed."""
    text = io.StringIO()
    exp = build_experiment(resolve(config, list(overrides)))
    run_dir = start_run(exp, out)
    summary = Trainer(exp, run_dir, make_reporter("plain", Console(file=text, width=200))).fit()
    return summary, text.getvalue()


def metric_rows(run_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    for row in rows:
        row.pop("seconds")
    return rows


def test_the_recording_pass_restores_weights_optimizer_and_random_state(small_config):
    from nnrun import random

    exp = build_experiment(resolve(small_config))
    loader = exp.data.loader("train", exp.seed)
    inputs, targets = next(iter(loader.batches(0)))
    weights = {k: v.copy() for k, v in exp.model.state_dict().items()}
    optimizer = json.dumps(exp.optimizer.state_dict(), default=lambda a: a.tolist())
    rng = random.get_state()
    layers = config_layers(exp)
    record = record_step(exp, layers, inputs, targets)
    for key, value in exp.model.state_dict().items():
        np.testing.assert_array_equal(value, weights[key])
    assert json.dumps(exp.optimizer.state_dict(), default=lambda a: a.tolist()) == optimizer
    assert random.get_state() == rng
    assert all(not layer.module._forward_hooks for layer in layers)
    assert [e["name"] for e in record["layers"]] == ["layers.0", "layers.1", "layers.2"]
    first = record["layers"][0]
    assert first["update_ratio"] > 0 and first["grad_norm"] > 0 and first["shape"][1] == 16


def test_diagnose_leaves_training_bitwise_identical(small_config, tmp_path):
    train(small_config, tmp_path / "plain")
    summary, _ = train(small_config, tmp_path / "diag", "train.diagnose=true")
    assert metric_rows(tmp_path / "plain") == metric_rows(tmp_path / "diag")
    assert "findings" in summary and "findings" not in json.loads(
        (tmp_path / "plain" / "summary.json").read_text()
    )
    assert not (tmp_path / "plain" / "diagnostics.jsonl").exists()


def test_records_once_per_epoch_or_every_n_steps(small_config, tmp_path):
    train(small_config, tmp_path / "epochs", "train.diagnose=true")
    records = read_records(tmp_path / "epochs")
    assert [r["epoch"] for r in records] == [1, 2, 3, 4]
    train(small_config, tmp_path / "steps", "train.diagnose={every: 7}")
    steps = [r["step"] for r in read_records(tmp_path / "steps")]
    assert steps and all(step % 7 == 0 for step in steps)
    text = (tmp_path / "steps" / "diagnostics.jsonl").read_text()
    assert "NaN" not in text and "Infinity" not in text


def test_resume_keeps_records_and_continues_them(small_config, tmp_path):
    train(small_config, tmp_path / "whole", "train.diagnose=true")
    train(small_config, tmp_path / "part", "train.diagnose=true", "train.epochs=2")
    exp, run_dir, checkpoint = resume_run(
        tmp_path / "part", None, ["train.epochs=4"], force=False, seed=None
    )
    Trainer(exp, run_dir, make_reporter("quiet", Console(file=io.StringIO())), checkpoint).fit()
    whole, part = read_records(tmp_path / "whole"), read_records(tmp_path / "part")
    assert [r["step"] for r in part] == [r["step"] for r in whole]
    assert part[-1]["layers"][0]["grad_norm"] == pytest.approx(whole[-1]["layers"][0]["grad_norm"])


TANH_MLP = (
    "model.layers=[{type: linear, units: 64, activation: tanh}, "
    "{type: linear, units: 64, activation: tanh}, {type: linear, units: 10}]"
)


def finding_layers(summary: dict, code: str) -> list[str]:
    return [name for f in summary["findings"] if f["code"] == code for name in f["layers"]]


@pytest.mark.parametrize(
    "overrides",
    [
        (),
        ("optimizer={type: sgd, lr: 0.05, momentum: 0.9}",),
        ("model.layers.1.bias_init={type: constant, value: -5.0}",),
    ],
    ids=["as-shipped", "sgd", "bias-5"],
)
def test_a_relu_layer_initialised_to_die_is_named(tmp_path, overrides):
    summary, printed = train(CONFIGS / "dead_relu.yaml", tmp_path / "run", *overrides)
    assert finding_layers(summary, "dead-units") == ["layers.1"]
    assert "[dead-units]" in printed and "layers.1" in printed
    assert {f["code"] for f in summary["findings"]} == {"dead-units"}


def test_a_standalone_relu_names_itself_and_the_layer_feeding_it(tmp_path):
    layers = (
        "model.layers=[{type: linear, units: 32}, {type: relu}, "
        "{type: linear, units: 32, bias_init: {type: constant, value: -10}}, {type: relu}, "
        "{type: linear, units: 10}]"
    )
    summary, _ = train(CONFIGS / "dead_relu.yaml", tmp_path / "run", layers, "train.epochs=2")
    assert finding_layers(summary, "dead-units") == ["layers.3", "layers.2"]


@pytest.mark.parametrize(
    "overrides",
    [
        (),
        ("optimizer={type: adam, lr: 0.001}",),
        (
            "model.layers=" + "[" + "{type: linear, units: 96, activation: sigmoid, "
            "init: xavier_uniform}, " * 5 + "{type: linear, units: 10}]",
        ),
    ],
    ids=["as-shipped", "adam", "5-xavier"],
)
def test_a_deep_sigmoid_stack_has_vanishing_gradients_in_its_early_layers(tmp_path, overrides):
    summary, printed = train(CONFIGS / "deep_sigmoid.yaml", tmp_path / "run", *overrides)
    named = finding_layers(summary, "vanishing-gradients")
    assert "layers.0" in named and "layers.1" in named
    assert "[vanishing-gradients]" in printed


@pytest.mark.parametrize(
    "overrides",
    [
        (),
        ("optimizer={type: sgd, lr: 0.05, momentum: 0.9}",),
        (TANH_MLP,),
        ("data.batch_size=16", "train.epochs=3"),
    ],
    ids=["as-shipped", "sgd", "tanh", "small-batches"],
)
def test_a_healthy_mlp_has_no_finding(tmp_path, overrides):
    summary, printed = train(CONFIGS / "healthy_mlp.yaml", tmp_path / "run", *overrides)
    assert summary["findings"] == []
    assert "warning" not in printed
    assert summary["test"]["test_accuracy"] > 0.9


@pytest.mark.filterwarnings(  # the run diverges on purpose: NumPy reports inf and NaN
    "ignore:overflow encountered:RuntimeWarning", "ignore:invalid value encountered:RuntimeWarning"
)
def test_a_diverging_run_records_where_non_finite_values_start(tmp_path):
    from nnrun.train.loop import NonFiniteLoss

    wide_init = "{type: linear, units: 64, activation: relu, init: {type: normal, std: 1.0}}, "
    layers = "model.layers=[" + wide_init * 4 + "{type: linear, units: 10}]"
    with pytest.raises(NonFiniteLoss):
        train(
            CONFIGS / "healthy_mlp.yaml",
            tmp_path / "run",
            layers,
            "optimizer={type: sgd, lr: 0.01}",
        )
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    records = read_records(tmp_path / "run")
    assert summary["status"] == "diverged" and records[-1]["after"] == "non-finite loss"
    assert "non-finite" in {f["code"] for f in summary["findings"]}
