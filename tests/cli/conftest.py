"""A tiny iris experiment and helpers to run the CLI in this process or in a real one."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nnrun.cli import app

ROOT = Path(__file__).resolve().parents[2]
TINY = """
name: tiny
seed: 1
data: {dataset: iris, batch_size: 32, split: {val: 0.2, test: 0.2}}
model:
  layers:
    - {type: linear, units: 4, activation: tanh}
    - {type: linear, units: 3}
optimizer: {type: adam, lr: 0.05}
train: {epochs: 2}
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(textwrap.dedent(TINY))
    return path


def invoke(*args: str):
    """Run `nnrun ARGS` in this process; returns Typer's result (exit_code, output)."""
    return CliRunner().invoke(app, [str(a) for a in args])


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "NNRUN_KEEP_FREED_MEMORY": "0"}


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "nnrun.cli", *(str(a) for a in args)]


def run_process(*args: str, timeout: float = 60, **options) -> subprocess.CompletedProcess:
    """Run `nnrun ARGS` as a real process; stdout and stderr together in `.stdout`."""
    return subprocess.run(
        command(*args),
        check=False,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        **options,
    )
