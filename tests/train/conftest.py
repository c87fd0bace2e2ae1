"""A tiny, fast experiment for training-loop tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

SMALL = """
name: small
seed: 3
data: {dataset: digits, batch_size: 64, split: {val: 0.1, test: 0.2}}
model:
  layers:
    - {type: linear, units: 16, activation: relu}
    - {type: dropout, p: 0.2}
    - {type: linear, units: 10}
optimizer: {type: adam, lr: 0.003}
schedule: {type: step, step_size: 2, gamma: 0.5}
train: {epochs: 4}
metrics: [accuracy, f1]
"""


@pytest.fixture
def small_config(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(textwrap.dedent(SMALL))
    return path
