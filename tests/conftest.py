"""Test-wide settings (one BLAS thread: the suite runs on 2 shared cores; the compile mode),
the shared tiny iris experiment, and skips that name the extra a test needs."""

import dataclasses
import os
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def _compile_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """NNRUN_COMPILE=on|off|auto sets train.compile's default for the whole suite, so CI
    runs every training test with compiled steps and again without (.ci/run)."""
    mode = os.environ.get("NNRUN_COMPILE")
    if mode:
        from nnrun.train.options import TRAIN_SPEC  # after the thread settings above

        option = TRAIN_SPEC["compile"]
        monkeypatch.setitem(TRAIN_SPEC, "compile", dataclasses.replace(option, default=mode))


TINY = """
name: tiny
seed: 1
data: {dataset: iris, batch_size: 16, split: {val: 0.2, test: 0.2}}
model:
  layers:
    - {type: linear, units: 8, activation: tanh}
    - {type: linear, units: 3}
optimizer: {type: adam, lr: 0.05}
train: {epochs: 3}
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """`tmp_path/tiny.yaml`: a 3-epoch iris classifier that trains in about a second."""
    path = tmp_path / "tiny.yaml"
    path.write_text(textwrap.dedent(TINY))
    return path
