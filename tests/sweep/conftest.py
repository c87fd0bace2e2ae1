"""Tiny sweeps for the sweep tests: a 2-epoch digits MLP base config in a temp folder, and
an executor that runs trials in this process (the runner's logic without process start-up)."""

from __future__ import annotations

import io
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from nnrun.sweep.runner import SweepRunner, open_sweep
from nnrun.sweep.trial import run_trial
from nnrun.sweep.view import PlainView

BASE = """\
name: tiny
seed: 0
data:
  dataset: digits
  split: {val: 0.2, test: 0.2}
  normalize: standard
  batch_size: 128
model:
  layers:
    - {type: linear, units: 16, activation: relu}
    - {type: linear, units: 10}
loss: cross_entropy
optimizer: {type: adam, lr: 0.01}
train:
  epochs: 2
metrics: [accuracy]
"""


class InlineExecutor:
    """Runs each trial at submission, in this process; records what was submitted."""

    workers = 1

    def __init__(self) -> None:
        self.submitted: list[str] = []

    def submit(self, payload: dict[str, Any]) -> Future:
        self.submitted.append(payload["trial"])
        future: Future = Future()
        future.set_result(run_trial(payload))
        return future

    def describe(self) -> str:
        return "this process"

    def close(self) -> None:
        pass


@pytest.fixture
def base_config(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(BASE)
    return path


@pytest.fixture
def write_sweep(tmp_path: Path, base_config: Path):
    """Write a sweep file next to the base config; returns its path."""

    def write(body: str, name: str = "sweep.yaml") -> Path:
        path = tmp_path / name
        path.write_text(f"base: {base_config.name}\n" + body)
        return path

    return write


def run_inline(
    sweep_file: Path | None, out: Path, executor: InlineExecutor | None = None
) -> tuple[dict[str, dict[str, Any]], InlineExecutor, str]:
    """Run a sweep in this process; returns (last event per trial, executor, printed text)."""
    executor = executor or InlineExecutor()
    spec, sweep_dir = open_sweep(sweep_file, out=out)
    text = io.StringIO()
    view = PlainView(spec, Console(file=text, width=120))
    latest = SweepRunner(spec, sweep_dir, executor, view).run()
    return latest, executor, text.getvalue()
