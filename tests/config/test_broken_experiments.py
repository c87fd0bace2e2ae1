"""Whole experiment configs with one mistake each, through `nnrun validate`: exit code 2, no
traceback, and the message at the right file:line:column (first line: `# expect: L:C text`;
0:0 means the message names no line, e.g. a missing data file)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nnrun.cli import app

BROKEN = sorted((Path(__file__).parent / "broken_experiments").glob("*.yaml"))
EXPECT = re.compile(r"# expect: (\d+):(\d+) (.+)")
runner = CliRunner()


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_experiment_exits_2_with_its_location(path):
    line, column, text = EXPECT.match(path.read_text().splitlines()[0]).groups()
    result = runner.invoke(app, ["validate", str(path)])
    output = " ".join(result.output.split())  # undo Rich's line wrapping
    assert result.exit_code == 2, result.output
    assert "Traceback" not in output
    assert text in output, output
    if line != "0":
        assert f"{path.name}:{line}:{column}:" in output, output
