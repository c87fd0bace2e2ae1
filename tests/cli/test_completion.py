"""Shell completion: the callbacks, and the whole round trip as zsh asks for it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nnrun.cli import app
from nnrun.cli.completion import (
    complete_config,
    complete_logger,
    complete_run,
    complete_set,
    complete_sweep,
)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """configs/ with YAML and other files, and outputs/ with a run, a sweep and clutter."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "configs" / "sweeps").mkdir(parents=True)
    for name in (
        "configs/mlp.yaml",
        "configs/cnn.yml",
        "configs/notes.txt",
        "configs/sweeps/lr.yaml",
    ):
        (tmp_path / name).write_text("name: x\n")
    run = tmp_path / "outputs" / "mlp" / "20261130-091500"
    (run / "checkpoints" / "best").mkdir(parents=True)
    (run / "tensorboard").mkdir()
    (run / "config.yaml").write_text("name: mlp\n")
    (run / "metrics.csv").write_text("epoch,step,split,loss\n")
    (tmp_path / "outputs" / "mlp" / "latest").symlink_to("20261130-091500")
    sweep = tmp_path / "outputs" / "sweeps" / "lr" / "20261130-100000"
    sweep.mkdir(parents=True)
    (sweep / "sweep.yaml").write_text("base: x.yaml\n")
    (tmp_path / "outputs" / "mlartifacts" / "checkpoints" / "best").mkdir(parents=True)
    return tmp_path


def complete(line: str) -> list[str]:
    """What zsh offers for `line` (the word being completed is the last one)."""
    env = {"_NNRUN_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": line}
    result = CliRunner().invoke(app, [], env=env, prog_name="nnrun")
    assert result.exit_code == 0, result.output
    body = result.output.strip().removeprefix("_arguments '*: :((").removesuffix("))'")
    # One `"value"` or `"value":"help"` per item; a long help may wrap onto more lines.
    return re.findall(r'^"((?:[^"]|"")*)"(?::"|$)', body, re.MULTILINE)


def test_config_paths_are_yaml_files_and_folders(workdir):
    assert complete_config("") == ["configs/", "outputs/"]
    assert complete_config("configs/") == ["configs/cnn.yml", "configs/mlp.yaml", "configs/sweeps/"]
    assert complete_config("configs/m") == ["configs/mlp.yaml"]


def test_runs_under_outputs_with_latest_links_and_checkpoints(workdir):
    assert complete_run("outputs/mlp") == [
        "outputs/mlp/20261130-091500/",
        "outputs/mlp/20261130-091500/checkpoints/best/",
        "outputs/mlp/latest/",
    ]
    assert complete_run("configs/s") == ["configs/sweeps/"]


def test_sweeps_are_directories_holding_a_sweep_file(workdir):
    assert complete_sweep("") == ["outputs/sweeps/lr/20261130-100000/"]


def test_set_completes_keys_then_registered_names_and_choices():
    keys = [key for key, _ in complete_set("train.e")]
    assert keys == ["train.epochs=", "train.early_stopping.", "train.eval_batch_size="]
    assert "train.early_stopping.patience=" in [
        key for key, _ in complete_set("train.early_stopping.")
    ]
    assert {"data.", "train.", "loss=", "optimizer="} <= {key for key, _ in complete_set("")}
    assert ("model.layers.0.type=linear", "layer") in complete_set("model.layers.0.type=li")
    assert [v for v, _ in complete_set("model.nodes.h1.activation=rel")] == [
        "model.nodes.h1.activation=relu"
    ]
    assert [v for v, _ in complete_set("optimizer=ada")] == [
        "optimizer=adagrad",
        "optimizer=adam",
        "optimizer=adamw",
    ]
    assert [v for v, _ in complete_set("data.normalize=")] == [
        "data.normalize=standard",
        "data.normalize=minmax",
        "data.normalize=none",
    ]
    assert [v for v, _ in complete_set("data.shuffle=")] == [
        "data.shuffle=true",
        "data.shuffle=false",
    ]
    assert complete_set("seed=") == []


def test_loggers_are_the_registered_ones():
    assert complete_logger("") == ["csv", "mlflow", "tensorboard"]


def test_zsh_round_trip_completes_commands_options_paths_and_values(workdir):
    assert complete("nnrun tr") == ["train"]
    assert complete("nnrun train --lo") == ["--logger"]
    assert complete("nnrun train configs/m") == ["configs/mlp.yaml"]
    assert complete("nnrun train --resume outputs/mlp/l") == ["outputs/mlp/latest/"]
    assert complete("nnrun train configs/mlp.yaml --set model.layers.0.type=conv1") == [
        "model.layers.0.type=conv1d"
    ]
    assert complete("nnrun graph configs/mlp.yaml --format ") == ["text", "dot", "mermaid"]
    assert complete("nnrun sweep-report out") == ["outputs/sweeps/lr/20261130-100000/"]
