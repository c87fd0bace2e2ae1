"""Run directories, the latest pointer, metric logs and atomic JSON."""

from __future__ import annotations

import csv
import json
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import numpy as np
import pytest

from nnrun.errors import ArgumentError, ConfigError
from nnrun.train.rundir import (
    MetricsLogger,
    create_run_dir,
    resolve_run,
    update_latest,
)

NOW = datetime(2025, 3, 4, 5, 6, 7)


def test_run_dir_is_named_by_start_time(tmp_path):
    run = create_run_dir(tmp_path / "outputs", "mlp", now=NOW)
    assert run == tmp_path / "outputs" / "mlp" / "20250304-050607" and run.is_dir()


def test_runs_started_in_the_same_second_get_distinct_dirs(tmp_path):
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _: create_run_dir(tmp_path, "mlp", now=NOW), range(8)))
    names = sorted(run.name for run in runs)
    assert len(set(names)) == 8
    assert names[0] == "20250304-050607" and "20250304-050607-7" in names


@pytest.mark.parametrize("name", ["", "..", "a/b", "latest"])
def test_run_name_must_be_a_plain_directory_name(tmp_path, name):
    with pytest.raises(ArgumentError, match="directory name"):
        create_run_dir(tmp_path, name, now=NOW)


def test_latest_symlink_follows_the_newest_update(tmp_path):
    first = create_run_dir(tmp_path, "mlp", now=NOW)
    second = create_run_dir(tmp_path, "mlp", now=NOW)
    update_latest(tmp_path, "mlp", first)
    update_latest(tmp_path, "mlp", second)
    latest = tmp_path / "mlp" / "latest"
    assert latest.is_symlink() and os.readlink(latest) == second.name  # relative: movable
    assert resolve_run(latest) == second.resolve()
    assert resolve_run(tmp_path / "mlp") == second.resolve()
    assert resolve_run(first) == first.resolve()
    assert sorted(p.name for p in (tmp_path / "mlp").iterdir()) == [
        first.name,
        second.name,
        "latest",
    ]


def test_latest_falls_back_to_a_text_file_without_symlinks(tmp_path, monkeypatch):
    run = create_run_dir(tmp_path, "mlp", now=NOW)

    def no_symlinks(*args, **kwargs):
        raise OSError("symlinks not supported")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    update_latest(tmp_path, "mlp", run)
    latest = tmp_path / "mlp" / "latest"
    assert latest.is_file() and not latest.is_symlink()
    assert latest.read_text() == run.name + "\n"
    assert resolve_run(tmp_path / "mlp") == run.resolve()
    assert resolve_run(latest) == run.resolve()


def test_name_dir_without_pointer_resolves_to_newest_run(tmp_path):
    older = create_run_dir(tmp_path, "mlp", now=NOW)
    newer = create_run_dir(tmp_path, "mlp", now=NOW)  # same second: suffix -1 sorts after
    assert resolve_run(tmp_path / "mlp") == newer.resolve() != older.resolve()


def test_resolving_missing_or_dangling_runs_says_what_is_wrong(tmp_path):
    with pytest.raises(ArgumentError, match="no such directory"):
        resolve_run(tmp_path / "nothing")
    run = create_run_dir(tmp_path, "mlp", now=NOW)
    update_latest(tmp_path, "mlp", run)
    run.rmdir()
    with pytest.raises(ArgumentError, match="no longer exists"):
        resolve_run(tmp_path / "mlp")


def log_epochs(logger: MetricsLogger, epochs: range) -> None:
    for epoch in epochs:
        logger.log(
            epoch,
            "train",
            step=10 * epoch,
            loss=1 / epoch,
            lr=0.1,
            seconds=0.5,
            metrics={"accuracy": np.float32(0.25) * epoch},
        )
        logger.log(epoch, "val", step=10 * epoch, loss=2 / epoch, metrics={"accuracy": 0.5})


def test_metrics_logger_writes_matching_csv_and_jsonl_rows(tmp_path):
    logger = MetricsLogger(tmp_path, ["accuracy", "f1"])
    log_epochs(logger, range(1, 3))
    with open(tmp_path / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    header = ["epoch", "step", "split", "loss", "accuracy", "f1", "lr", "seconds"]
    assert list(rows[0]) == header and list(records[0]) == header
    assert len(rows) == len(records) == 4
    assert rows[1] == {
        "epoch": "1",
        "step": "10",
        "split": "val",
        "loss": "2.0",
        "accuracy": "0.5",
        "f1": "",
        "lr": "",
        "seconds": "",
    }
    assert records[1]["f1"] is None and records[2]["accuracy"] == 0.5
    assert [float(row["loss"]) for row in rows] == [record["loss"] for record in records]


def test_truncate_after_resume_matches_a_straight_run(tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    straight.mkdir(), resumed.mkdir()
    log_epochs(MetricsLogger(straight, ["accuracy"]), range(1, 5))
    log_epochs(MetricsLogger(resumed, ["accuracy"]), range(1, 4))  # epochs 1-3 written ...
    with open(resumed / "metrics.csv", "a") as handle:
        handle.write("3,30,tra")  # ... and a row torn by the crash
    logger = MetricsLogger(resumed, ["accuracy"])  # resume from the epoch-2 checkpoint
    logger.truncate_after(2)
    log_epochs(logger, range(3, 5))
    for name in ("metrics.csv", "metrics.jsonl"):
        assert (resumed / name).read_bytes() == (straight / name).read_bytes()


def test_resuming_with_different_metrics_is_refused(tmp_path):
    MetricsLogger(tmp_path, ["accuracy"])
    with pytest.raises(ConfigError, match="start a new run"):
        MetricsLogger(tmp_path, ["accuracy", "f1"])


def test_unknown_metric_columns_are_refused(tmp_path):
    logger = MetricsLogger(tmp_path, ["accuracy"])
    with pytest.raises(ValueError, match="f1"):
        logger.log(1, "train", metrics={"f1": 0.3})
    with pytest.raises(ValueError, match="loss"):
        MetricsLogger(tmp_path / "x", ["loss"])
