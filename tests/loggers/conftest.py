"""The logger tests train the shared `tiny` iris experiment through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nnrun.cli import app


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test in a fresh working directory: relative `--out`s and the default
    `output_dir: outputs` land in tmp_path."""
    monkeypatch.chdir(tmp_path)


def train(*args: str) -> None:
    result = CliRunner().invoke(app, ["train", *args, "--quiet"])
    assert result.exit_code == 0, result.output
