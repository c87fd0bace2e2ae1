"""A small iris experiment for the logger tests, trained through the CLI."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nnrun.cli import app

CONFIG = """
name: logged
seed: 3
data: {dataset: iris, batch_size: 32, split: {val: 0.2, test: 0.2}}
model:
  layers:
    - {type: linear, units: 8, activation: tanh}
    - {type: linear, units: 3}
optimizer: {type: adam, lr: 0.05}
train: {epochs: 3}
metrics: [accuracy]
output_dir: outputs
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The config in a fresh working directory (so `output_dir: outputs` lands there)."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "logged.yaml"
    path.write_text(textwrap.dedent(CONFIG))
    return path


def train(*args: str) -> None:
    result = CliRunner().invoke(app, ["train", *args, "--quiet"])
    assert result.exit_code == 0, result.output
