"""Test-wide settings: fixed seeds and one BLAS thread (the suite runs on 2 shared cores)."""

import dataclasses
import os

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
