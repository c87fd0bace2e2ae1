"""`nnrun export` from real trained runs: the file it writes, run by onnxruntime on the raw
inputs, gives what `nnrun predict` prints; user mistakes exit 2 with one paragraph."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from nnrun.cli import app
from tests.export.helpers import onnx, run_onnx

runner = CliRunner()

TINY = """
name: tiny
seed: 0
data: {dataset: digits, reshape: [1, 8, 8], split: {val: 0.1, test: 0.2}, normalize: standard}
model:
  layers:
    - {type: conv2d, out_channels: 4, kernel_size: 3, padding: same, activation: relu}
    - {type: batch_norm2d}
    - {type: max_pool2d, kernel_size: 2}
    - flatten
    - {type: dropout, p: 0.1}
    - {type: linear, units: 10}
train: {epochs: 1}
"""

GRAPH = """
name: tiny_gcn
data: {dataset: karate}
model:
  inputs: [x, edge_index]
  nodes:
    gcn: {type: gcn_conv, out_channels: 2, in: [x, edge_index]}
  output: gcn
train: {epochs: 1}
"""


def _train(tmp_path: Path, text: str, name: str) -> Path:
    config, run = tmp_path / f"{name}.yaml", tmp_path / name
    config.write_text(textwrap.dedent(text))
    result = runner.invoke(app, ["train", str(config), "--out", str(run)])
    assert result.exit_code == 0, result.output
    return run


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    return _train(tmp_path_factory.mktemp("export"), TINY, "tiny")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nnrun.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_exported_model_equals_predict_in_real_processes(trained, tmp_path):
    out = tmp_path / "tiny.onnx"
    done = _cli("export", str(trained), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "input float32[batch, 64]" in done.stdout and "probabilities" in done.stdout
    raw = (np.random.default_rng(0).random((9, 64)) * 16).astype(np.float32)
    np.save(tmp_path / "x.npy", raw)
    done = _cli("predict", str(trained), str(tmp_path / "x.npy"), "--proba", "--out",
                str(tmp_path / "p.npy"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    model = onnx.load(out)
    onnx.checker.check_model(model, full_check=True)
    got, expected = run_onnx(model, raw), np.load(tmp_path / "p.npy")
    np.testing.assert_allclose(got, expected, atol=1e-4)
    labels = runner.invoke(app, ["predict", str(trained), str(tmp_path / "x.npy")]).output
    assert labels.split()[1:] == [str(i) for i in got.argmax(axis=1)]


def test_last_checkpoint_goes_next_to_the_run_by_default(trained):
    result = runner.invoke(app, ["export", str(trained), "--checkpoint", "last", "--opset", "18"])
    assert result.exit_code == 0, result.output
    model = onnx.load(trained / "model.onnx")
    assert model.opset_import[0].version == 18


def test_a_checkpoint_directory_exports_as_given(trained, tmp_path):
    out = tmp_path / "last.onnx"
    result = runner.invoke(
        app, ["export", str(trained / "checkpoints" / "last"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.exists()


def test_a_missing_checkpoint_is_named(trained, tmp_path):
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(trained), str(copy)], check=True)
    subprocess.run(["rm", "-r", str(copy / "checkpoints" / "best")], check=True)
    result = runner.invoke(app, ["export", str(copy)])
    assert result.exit_code == 2
    assert "no 'best' checkpoint" in result.output and "last" in result.output


def test_a_graph_model_is_refused_with_exit_2(tmp_path):
    run = _train(tmp_path, GRAPH, "gcn")
    result = runner.invoke(app, ["export", str(run)])
    assert result.exit_code == 2
    assert "gcn_conv" in result.output and "config.yaml:" in result.output
    assert "Traceback" not in result.output


def test_without_onnx_the_error_is_an_install_hint(trained, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    result = runner.invoke(app, ["export", str(trained)])
    assert result.exit_code == 2
    assert 'pip install -e ".[export]"' in result.output
