"""MLflow runs, read back with MlflowClient."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from nnrun import __version__
from nnrun.loggers.mlflow import flatten
from nnrun.train.history import read_metrics
from tests.extras import need
from tests.loggers.conftest import train

need("sqlalchemy")
MlflowClient = need("mlflow.tracking").MlflowClient


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    """One SQLite store for the module: creating its tables takes seconds."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


def logged_to(store: str) -> str:
    return f"train.loggers=[csv, {{type: mlflow, tracking_uri: '{store}', experiment: tests}}]"


def mlflow_run(store: str, run_dir: Path):
    run_id = json.loads((run_dir / "mlflow.json").read_text())["run_id"]
    return MlflowClient(tracking_uri=store).get_run(run_id)


def history(store: str, run_id: str, key: str) -> list[tuple[int, float]]:
    metrics = MlflowClient(tracking_uri=store).get_metric_history(run_id, key)
    return sorted((metric.step, metric.value) for metric in metrics)


def test_params_metrics_tags_and_best_checkpoint_are_logged(tiny, tmp_path, store):
    train(str(tiny), "--out", "run", "--set", logged_to(store))
    run_dir = tmp_path / "run"
    run = mlflow_run(store, run_dir)
    params = run.data.params
    assert params["optimizer.lr"] == "0.05"
    assert params["model.layers.0.units"] == "8"
    assert params["data.split.val"] == "0.2"
    assert run.data.tags["nnrun.version"] == __version__
    assert run.data.tags["nnrun.run_dir"] == str(run_dir.resolve())
    assert run.info.status == "FINISHED"
    for split, columns in read_metrics(run_dir).items():
        for column, values in columns.items():
            if column in ("epoch", "step", "lr", "seconds"):
                continue
            expected = [
                (e, v) for e, v in zip(columns["epoch"], values, strict=True) if not math.isnan(v)
            ]
            assert history(store, run.info.run_id, f"{split}_{column}") == pytest.approx(expected)
    assert [step for step, _ in history(store, run.info.run_id, "lr")] == [1, 2, 3]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert run.data.metrics["test_accuracy"] == pytest.approx(summary["test"]["test_accuracy"])
    files = MlflowClient(tracking_uri=store).list_artifacts(run.info.run_id, "checkpoints/best")
    assert {Path(f.path).name for f in files} >= {"model.safetensors", "state.safetensors"}


def test_resume_continues_the_same_run_without_repeating_steps(tiny, tmp_path, store):
    train(str(tiny), "--out", "run", "--set", "train.epochs=2", "--set", logged_to(store))
    train("--resume", "run", "--set", "train.epochs=4")
    run = mlflow_run(store, tmp_path / "run")
    assert [step for step, _ in history(store, run.info.run_id, "train_loss")] == [1, 2, 3, 4]
    assert run.info.status == "FINISHED"


def test_config_is_flattened_to_dotted_keys():
    config = {"optimizer": {"lr": 0.1}, "model": {"layers": [{"units": 8}, "flatten"]}, "x": None}
    assert flatten(config) == {
        "optimizer.lr": "0.1",
        "model.layers.0.units": "8",
        "model.layers.1": "flatten",
        "x": "null",
    }
