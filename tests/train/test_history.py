"""Listing run directories (`nnrun runs`) and reading their metric logs."""

from __future__ import annotations

import io
import json
import math
import os
import time
from datetime import datetime
from pathlib import Path

import pytest
from rich.console import Console

from nnrun.errors import ArgumentError, DataError
from nnrun.train.history import list_runs, read_metrics, render_runs_table
from nnrun.train.rundir import MetricsLogger, update_latest


def make_run(
    path: Path,
    epochs: int,
    summary: dict | None = None,
    config: str = "name: mlp\n",
    splits: tuple[str, ...] = ("train", "val"),
) -> Path:
    """A run directory with `epochs` logged epochs of loss and accuracy."""
    path.mkdir(parents=True)
    (path / "config.yaml").write_text(config)
    logger = MetricsLogger(path, ["accuracy"])
    for epoch in range(1, epochs + 1):
        for offset, split in enumerate(splits):
            loss, accuracy = 1.0 / epoch + offset, 1 - 0.5 / epoch - 0.1 * offset
            logger.log(
                epoch,
                split,
                step=10 * epoch,
                loss=loss,
                metrics={"accuracy": accuracy},
                lr=0.1,
                seconds=2.0,
            )
    if summary is not None:
        (path / "summary.json").write_text(json.dumps(summary))
    return path


def age(run: Path, seconds_ago: float) -> None:
    stamp = time.time() - seconds_ago
    for file in run.iterdir():
        os.utime(file, (stamp, stamp))


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    root = tmp_path / "outputs"
    finished = make_run(
        root / "mlp" / "20250101-120000",
        3,
        {
            "status": "finished",
            "epochs": 3,
            "wall_time": 65.0,
            "best": {"metric": "val_accuracy", "value": 0.9722, "epoch": 3},
        },
    )
    age(finished, 3600)
    crashed = make_run(root / "mlp" / "20250102-090000", 2)
    age(crashed, 3600)
    update_latest(root, "mlp", crashed)
    make_run(root / "cnn" / "20250103-080000", 1, config="train:\n  monitor: val_accuracy\n")
    make_run(
        root / "sweeps" / "lr-search" / "trial-0",
        2,
        {"status": "stopped", "started": "2024-12-31T10:00:00", "epochs": 2},
    )
    return root


def test_runs_are_listed_newest_first_with_status(outputs):
    records = list_runs(outputs)
    assert [r.name for r in records] == [
        "cnn/20250103-080000",
        "mlp/20250102-090000",
        "mlp/20250101-120000",
        "sweeps/lr-search/trial-0",
    ]
    assert [r.status for r in records] == ["running", "failed", "finished", "stopped"]
    assert records[0].started == datetime(2025, 1, 3, 8, 0, 0)
    assert records[3].started == datetime(2024, 12, 31, 10, 0, 0)


def test_summary_values_are_preferred_and_logs_fill_the_gaps(outputs):
    running, crashed, finished, trial = list_runs(outputs)
    assert (finished.epochs, finished.best_metric, finished.best_value) == (
        3,
        "val_accuracy",
        0.9722,
    )
    assert finished.wall_time == 65.0
    # No summary: epochs from the log, best of the loop's default monitor (val_loss).
    assert crashed.epochs == 2
    assert (crashed.best_metric, crashed.best_value) == ("val_loss", 1.5)
    # The config's train.monitor decides which metric is best, and its direction.
    assert (running.best_metric, running.best_value) == ("val_accuracy", pytest.approx(0.4))
    # A summary without `best`: the best is read from the log.
    assert (trial.epochs, trial.best_metric, trial.best_value) == (2, "val_loss", 1.5)


def test_a_damaged_summary_marks_the_run_unknown_without_stopping_the_listing(tmp_path):
    run = make_run(tmp_path / "mlp" / "20250101-000000", 1)
    (run / "summary.json").write_text("{not json")
    (record,) = list_runs(tmp_path)
    assert record.status == "unknown" and record.epochs == 1


def test_directories_without_config_are_not_runs(tmp_path):
    (tmp_path / "mlp" / "20250101-000000").mkdir(parents=True)
    (tmp_path / "mlp" / "20250101-000000" / "metrics.csv").write_text("epoch,split\n")
    assert list_runs(tmp_path) == []


def test_listing_a_missing_directory_is_an_argument_error(tmp_path):
    with pytest.raises(ArgumentError, match="not a directory"):
        list_runs(tmp_path / "nowhere")


def test_runs_table_shows_each_run(outputs):
    console = Console(file=io.StringIO(), width=120, color_system=None)
    render_runs_table(list_runs(outputs), console)
    text = console.file.getvalue()
    for expected in (
        "mlp/20250101-120000",
        "sweeps/lr-search/trial-0",
        "finished",
        "failed",
        "running",
        "val_accuracy 0.9722",
        "2025-01-03 08:00",
        "1m05s",
    ):
        assert expected in text


def test_runs_table_says_when_there_are_no_runs():
    console = Console(file=io.StringIO(), color_system=None)
    render_runs_table([], console)
    assert "no runs found" in console.file.getvalue()


def test_read_metrics_groups_columns_by_split(tmp_path):
    run = make_run(tmp_path / "run", 2, splits=("train", "val", "test"))
    metrics = read_metrics(run)
    assert set(metrics) == {"train", "val", "test"}
    assert metrics["train"]["epoch"] == [1, 2]
    assert metrics["train"]["step"] == [10, 20]
    assert metrics["train"]["loss"] == [1.0, 0.5]
    assert metrics["val"]["accuracy"] == pytest.approx([0.4, 0.65])
    assert "split" not in metrics["train"]


def test_read_metrics_reads_empty_cells_as_nan_and_drops_a_torn_last_line(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    logger = MetricsLogger(run, ["accuracy"])
    logger.log(1, "train", loss=0.5)
    with open(run / "metrics.csv", "a") as handle:
        handle.write("2,,train,0.4")  # the process died mid-line
    metrics = read_metrics(run)
    assert metrics["train"]["epoch"] == [1]
    assert metrics["train"]["step"] == [None]
    assert math.isnan(metrics["train"]["accuracy"][0])


def test_read_metrics_reports_the_row_and_column_of_a_bad_cell(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.csv").write_text("epoch,step,split,loss\n1,,train,0.5\n2,,train,oops\n")
    with pytest.raises(DataError, match=r"row 3, column 'loss'.*'oops'"):
        read_metrics(run)


def test_read_metrics_without_a_log_is_an_argument_error(tmp_path):
    with pytest.raises(ArgumentError, match=r"no metrics\.csv"):
        read_metrics(tmp_path)
