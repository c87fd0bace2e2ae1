"""`nnrun train --diagnose` and `nnrun diagnose` through the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nnrun.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
DEAD_RELU = ROOT / "configs" / "diagnose" / "dead_relu.yaml"


@pytest.fixture(scope="module")
def dead_run(tmp_path_factory) -> Path:
    """dead_relu.yaml trained for 3 epochs with --diagnose, through a real process."""
    run = tmp_path_factory.mktemp("diag") / "run"
    command = [sys.executable, "-m", "nnrun.cli", "train", str(DEAD_RELU), "--out", str(run)]
    command += ["--diagnose", "--set", "train.diagnose=false", "--set", "train.epochs=3"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    # the finding is shown once, under the epoch it appeared in
    lines = result.stdout.splitlines()
    finding = [i for i, line in enumerate(lines) if "[dead-units]" in line]
    assert len(finding) == 1 and lines[finding[0] - 1].startswith("epoch 1/3")
    return run


def test_diagnose_prints_the_last_record_and_the_findings(dead_run):
    result = runner.invoke(app, ["diagnose", str(dead_run)])
    assert result.exit_code == 0, result.output
    assert "epoch 3" in result.output and "layers.1 linear→relu" in result.output
    assert "dead-units (since epoch 1)" in result.output
    assert "dead_fraction >= 0.5" in result.output


def test_diagnose_json_for_scripts_and_an_earlier_epoch(dead_run):
    result = runner.invoke(app, ["diagnose", str(dead_run), "--epoch", "2", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["epoch"] == 2 and data["records"] == 3
    assert [f["code"] for f in data["findings"]] == ["dead-units"]
    dead = next(e for e in data["record"]["layers"] if e["name"] == "layers.1")
    assert dead["dead_fraction"] == 1.0


def test_diagnose_explains_a_missing_epoch_or_missing_diagnostics(dead_run, tmp_path):
    result = runner.invoke(app, ["diagnose", str(dead_run), "--epoch", "9"])
    assert result.exit_code == 2 and "recorded epochs: 1, 2, 3" in result.output
    plain = tmp_path / "plain"
    trained = runner.invoke(
        app, ["train", str(DEAD_RELU), "--out", str(plain), "-q", "--set", "train.diagnose=false"]
    )
    assert trained.exit_code == 0, trained.output
    result = runner.invoke(app, ["diagnose", str(plain)])
    assert result.exit_code == 2 and "--diagnose" in result.output


def test_diagnose_flag_keeps_a_schedule_the_config_sets(tmp_path):
    run = tmp_path / "run"
    args = ["train", str(DEAD_RELU), "--out", str(run), "-q", "--diagnose"]
    args += ["--set", "train.diagnose={every: 15}", "--set", "train.epochs=2"]
    assert runner.invoke(app, args).exit_code == 0
    steps = [json.loads(line)["step"] for line in (run / "diagnostics.jsonl").open()]
    assert steps == [15, 30]
