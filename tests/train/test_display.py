"""Progress reporters: plain lines, JSON lines, the Rich live display, auto-selection."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pytest
from rich.console import Console

from nnrun.train.display import (
    EpochRow,
    JsonReporter,
    PlainReporter,
    RichReporter,
    RunInfo,
    format_duration,
    format_value,
    make_reporter,
)

RUN_DIR = Path("outputs/mnist/20250101-120000")
INFO = RunInfo(
    run_dir=RUN_DIR,
    config_name="mnist",
    epochs=3,
    batches_per_epoch=4,
    samples_per_epoch=100,
    parameters=101770,
    metrics=("accuracy",),
)
ROWS = [
    EpochRow(1, 0.5, {"accuracy": 0.8}, 0.6, {"accuracy": 0.75}, 1e-3, 1.23, best=True),
    EpochRow(2, 0.3, {"accuracy": 0.9}, 0.65, {"accuracy": 0.74}, 9.51e-4, 1.2, patience_left=1),
    EpochRow(3, 0.2314, {"accuracy": 0.9312}, 0.2551, {"accuracy": 0.925}, 9.51e-4, 1.2, True),
]
SUMMARY = {
    "status": "finished",
    "run_dir": str(RUN_DIR),
    "epochs": 3,
    "wall_time": 83.4,
    "best": {"metric": "val_accuracy", "value": 0.925, "epoch": 3},
    "test": {"test_loss": 0.26, "test_accuracy": 0.92},
}


def console(terminal: bool = False) -> Console:
    return Console(file=io.StringIO(), force_terminal=terminal, width=100, color_system=None)


def run_fake_training(reporter, warning_after_epoch: int = 2) -> None:
    reporter.start(INFO)
    for row in ROWS:
        reporter.epoch_start(row.epoch)
        for batch in range(1, 5):
            reporter.batch_end(batch, 1.0 / batch, {"accuracy": 0.2 * batch}, 25)
        reporter.epoch_end(row)
        if row.epoch == warning_after_epoch:
            reporter.message("NaN loss at epoch 2 step 3, batch skipped", "warning")
    reporter.end(SUMMARY)


def test_plain_reporter_prints_one_line_per_epoch_between_start_and_end_lines():
    out = console()
    run_fake_training(PlainReporter(out))
    lines = out.file.getvalue().splitlines()
    assert lines[0] == f"run {RUN_DIR}"
    assert "101,770 parameters" in lines[1]
    assert lines[2] == (
        "epoch 1/3  train_loss 0.5000  train_accuracy 0.8000  val_loss 0.6000  "
        "val_accuracy 0.7500  lr 1.00e-03  1.23s  *best"
    )
    assert lines[3].endswith("lr 9.51e-04  1.20s  patience 1 left")
    assert lines[4] == "warning: NaN loss at epoch 2 step 3, batch skipped"
    assert lines[5] == (
        "epoch 3/3  train_loss 0.2314  train_accuracy 0.9312  val_loss 0.2551  "
        "val_accuracy 0.9250  lr 9.51e-04  1.20s  *best"
    )
    assert lines[6] == "finished after 3 epochs in 1m23s"
    assert lines[-1] == f"run {RUN_DIR}"


def test_quiet_reporter_prints_only_start_end_and_warnings():
    out = console()
    run_fake_training(make_reporter("quiet", out))
    text = out.file.getvalue()
    assert "epoch 1/3" not in text and "train_loss" not in text
    assert text.splitlines()[0] == f"run {RUN_DIR}"
    assert "warning: NaN loss" in text
    assert "best val_accuracy 0.9250 (epoch 3)" in text
    assert text.splitlines()[-1] == f"run {RUN_DIR}"


def test_json_reporter_writes_only_json_objects_to_stdout():
    out, err = console(), console()
    run_fake_training(JsonReporter(out, err_console=err))
    records = [json.loads(line) for line in out.file.getvalue().splitlines()]
    assert len(records) == 4
    for row, record in zip(ROWS, records[:3], strict=True):
        assert record["event"] == "epoch"
        assert record["epoch"] == row.epoch
        assert record["train_loss"] == row.train_loss
        assert record["train_accuracy"] == row.train_metrics["accuracy"]
        assert record["val_loss"] == row.val_loss
        assert record["val_accuracy"] == row.val_metrics["accuracy"]
        assert record["lr"] == row.lr and record["seconds"] == row.seconds
        assert record["best"] is row.best
    assert records[1]["patience_left"] == 1
    assert records[3] == {"event": "end", **SUMMARY}
    assert "NaN loss" in err.file.getvalue() and f"run {RUN_DIR}" in err.file.getvalue()


def test_json_reporter_writes_non_finite_values_as_null():
    out = console()
    reporter = JsonReporter(out, err_console=console())
    reporter.epoch_end(EpochRow(1, math.nan, {"accuracy": math.inf}))
    reporter.end({"status": "failed", "final": {"train_loss": math.nan}, "wall_time": math.nan})
    epoch, end = (json.loads(line) for line in out.file.getvalue().splitlines())
    assert epoch["train_loss"] is None and epoch["train_accuracy"] is None
    assert "val_loss" not in epoch  # no validation split: no val keys
    assert end["wall_time"] is None and end["final"] == {"train_loss": None}


def test_rich_reporter_prints_table_rows_and_run_path_on_a_terminal():
    out = console(terminal=True)
    run_fake_training(RichReporter(out))
    text = out.file.getvalue()
    assert text.count(f"run {RUN_DIR}") == 2  # start and end
    assert "train" in text and "val" in text and "accuracy" in text
    for row in ROWS:
        assert f"{row.epoch}/3" in text
    assert "0.2314" in text and "0.9312" in text and "0.2551" in text and "0.9250" in text
    assert "★" in text and "1 left" in text
    assert "warning: NaN loss at epoch 2 step 3" in text
    assert "best val_accuracy 0.9250 (epoch 3)" in text


def test_rich_reporter_handles_unknown_epoch_length_and_resumed_runs():
    out = console(terminal=True)
    reporter = RichReporter(out)
    info = RunInfo(RUN_DIR, "mnist", 3, None, None, 10, resumed_from_epoch=2)
    reporter.start(info)
    reporter.epoch_start(3)
    reporter.batch_end(1, 0.5, {}, 8)
    reporter.epoch_end(EpochRow(3, 0.5, lr=0.1, seconds=0.5))
    reporter.end({"status": "interrupted", "run_dir": str(RUN_DIR)})
    text = out.file.getvalue()
    assert "resuming after epoch 2" in text and "3/3" in text and "interrupted" in text


@pytest.mark.parametrize(
    ("mode", "terminal", "expected"),
    [
        ("auto", True, RichReporter),
        ("auto", False, PlainReporter),
        ("rich", False, RichReporter),
        ("plain", True, PlainReporter),
        ("quiet", True, PlainReporter),
        ("json", True, JsonReporter),
    ],
)
def test_make_reporter_picks_rich_only_for_terminals_in_auto_mode(mode, terminal, expected):
    assert type(make_reporter(mode, console(terminal))) is expected


def test_make_reporter_rejects_unknown_modes():
    with pytest.raises(ValueError, match="unknown reporter mode"):
        make_reporter("fancy", console())


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.23141, "0.2314"),
        (0.0, "0.0000"),
        (1.5e-5, "1.500e-05"),
        (123456.0, "1.235e+05"),
        (math.nan, "nan"),
        (None, "-"),
    ],
)
def test_values_are_formatted_compactly(value, text):
    assert format_value(value) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0123, "12ms"),
        (1.234, "1.23s"),
        (12.34, "12.3s"),
        (83.4, "1m23s"),
        (3725.0, "1h02m"),
        (None, "-"),
    ],
)
def test_durations_are_formatted_compactly(seconds, text):
    assert format_duration(seconds) == text
