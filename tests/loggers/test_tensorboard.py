"""TensorBoard event files, read back with TensorBoard's own reader."""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nnrun.train.history import read_metrics
from tests.extras import need
from tests.loggers.conftest import train

need("tensorboardX")
event_accumulator = need("tensorboard.backend.event_processing.event_accumulator")


def read_events(path: Path) -> event_accumulator.EventAccumulator:
    events = event_accumulator.EventAccumulator(str(path), size_guidance={"scalars": 0})
    events.Reload()
    return events


def csv_values(run: Path) -> dict[str, dict[int, float]]:
    """metrics.csv as {tag: {epoch: value}}, tags named as `nnrun train --json` names them."""
    values: dict[str, dict[int, float]] = {}
    for split, columns in read_metrics(run).items():
        for column, cells in columns.items():
            if column in ("epoch", "step"):
                continue
            tag = column if column in ("lr", "seconds") else f"{split}_{column}"
            for epoch, value in zip(columns["epoch"], cells, strict=True):
                if not math.isnan(value):
                    values.setdefault(tag, {})[epoch] = value
    return values


def assert_events_match_csv(events, run: Path) -> None:
    expected = csv_values(run)
    assert sorted(events.Tags()["scalars"]) == sorted(expected)
    for tag, by_epoch in expected.items():
        logged = {event.step: event.value for event in events.Scalars(tag)}
        assert logged.keys() == by_epoch.keys(), tag
        for epoch, value in by_epoch.items():
            assert logged[epoch] == pytest.approx(value, rel=1e-6), (tag, epoch)


def test_scalars_equal_metrics_csv_with_config_text_and_graph(tiny, tmp_path):
    train(str(tiny), "--out", "run", "--logger", "tensorboard")
    run = tmp_path / "run"
    events = read_events(run / "tensorboard")
    assert_events_match_csv(events, run)
    assert {"train_loss", "val_loss", "val_accuracy", "lr"} <= set(events.Tags()["scalars"])
    text = events.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "optimizer:" in text and "lr: 0.05" in text
    graph = events.Graph()
    assert [node.op for node in graph.node] == ["input", "linear", "linear"]
    assert list(graph.node[2].input) == ["layers.0"]


def test_resume_continues_the_event_stream_without_repeating_epochs(tiny, tmp_path):
    train(str(tiny), "--out", "run", "--set", "train.epochs=2", "--logger", "tensorboard")
    train("--resume", "run", "--set", "train.epochs=4")
    run = tmp_path / "run"
    events = read_events(run / "tensorboard")
    assert [event.step for event in events.Scalars("train_loss")] == [1, 2, 3, 4]
    assert_events_match_csv(events, run)


def test_yaml_mapping_with_log_dir_puts_events_below_it_by_run_path(tiny, tmp_path):
    train(str(tiny), "--set", "train.loggers=[csv, {type: tensorboard, log_dir: tb}]")
    runs = list((tmp_path / "tb" / "tiny").iterdir())
    assert len(runs) == 1
    run = tmp_path / "outputs" / "tiny" / runs[0].name
    assert_events_match_csv(read_events(runs[0]), run)


def test_opening_a_writer_does_not_import_torch_and_leaves_it_importable():
    code = (
        "import sys, importlib.util\n"
        "from nnrun.loggers.tensorboard import _summary_writer\n"
        "_summary_writer()\n"
        "print('torch' in sys.modules, importlib.util.find_spec('torch') is not None)\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    imported, installed = result.stdout.split()
    assert imported == "False"
    assert installed == str(importlib.util.find_spec("torch") is not None)


def test_a_logger_added_on_resume_starts_at_the_next_epoch_with_the_config(tiny, tmp_path):
    train(str(tiny), "--out", "run", "--set", "train.epochs=2")
    train("--resume", "run", "--set", "train.epochs=3", "--logger", "tensorboard")
    events = read_events(tmp_path / "run" / "tensorboard")
    assert [event.step for event in events.Scalars("train_loss")] == [3]
    assert events.Tensors("config/text_summary")
