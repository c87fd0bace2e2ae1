"""`nnrun plot`: curves from metrics.csv as terminal charts or a PNG."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from nnrun.errors import ArgumentError
from nnrun.train import plotting
from nnrun.train.history import read_metrics
from nnrun.train.plotting import collect_curves, plot_run, render_text
from nnrun.train.rundir import MetricsLogger, update_latest
from tests.extras import need

BRAILLE = range(0x2801, 0x2900)


def make_run(path: Path, epochs: int = 12, decay_lr: bool = True) -> Path:
    """A run logging loss, accuracy and per-class F1 for train/val, and a test row."""
    path.mkdir(parents=True)
    (path / "config.yaml").write_text("name: mlp\n")
    logger = MetricsLogger(path, ["accuracy", "f1_class_0"])
    for epoch in range(1, epochs + 1):
        lr = 0.1 * 0.5**epoch if decay_lr else 0.1
        for split, gap in (("train", 0.0), ("val", 0.05)):
            metrics = {"accuracy": 1 - 1 / (epoch + 1) - gap, "f1_class_0": 0.5}
            logger.log(epoch, split, loss=2 / epoch + gap, metrics=metrics, lr=lr, seconds=1.0)
    logger.log(epochs, "test", loss=0.3, metrics={"accuracy": 0.875})
    return path


def test_curves_cover_loss_metrics_and_a_changing_learning_rate(tmp_path):
    curves = collect_curves(read_metrics(make_run(tmp_path / "run")))
    assert [c.name for c in curves] == ["loss", "accuracy", "lr"]
    loss, accuracy, lr = curves
    assert list(loss.series) == ["train", "val"]
    assert loss.series["train"][0] == list(range(1, 13))
    assert accuracy.test == 0.875
    assert lr.log_scale  # 0.05 → 2.4e-5 spans more than two decades


def test_a_constant_learning_rate_is_not_plotted(tmp_path):
    curves = collect_curves(read_metrics(make_run(tmp_path / "run", decay_lr=False)))
    assert [c.name for c in curves] == ["loss", "accuracy"]


def test_terminal_chart_fits_80_columns_with_axis_labels_and_legend(tmp_path):
    text = str(plot_run(make_run(tmp_path / "run"), text=True))
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "loss (lower is better)  test 0.3" in lines
    assert "accuracy (higher is better)  test 0.875" in lines
    assert "━ train 0.1667 (best 0.1667 @ 12)  ┅ val 0.2167 (best 0.2167 @ 12)" in lines
    # y axis: the maximum labels the top row, the minimum the bottom row.
    assert any(line.startswith("  2.05 ┤") for line in lines)
    assert any(line.startswith("0.1667 ┤") for line in lines)
    assert any(line.strip().endswith("12 epoch") for line in lines)
    assert sum(ord(ch) in BRAILLE for ch in text) > 30


def test_terminal_chart_of_a_single_epoch_draws_a_point(tmp_path):
    text = str(render_text(collect_curves(read_metrics(make_run(tmp_path / "run", epochs=1)))))
    assert "loss" in text and any(ord(ch) in BRAILLE for ch in text)


def test_plot_without_logged_epochs_is_an_argument_error(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    MetricsLogger(run, ["accuracy"])
    with pytest.raises(ArgumentError, match="no finished epochs"):
        plot_run(run, text=True)


def test_asking_for_a_png_without_matplotlib_is_an_argument_error(tmp_path, monkeypatch):
    run = make_run(tmp_path / "run")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        plotting.importlib.util,
        "find_spec",
        lambda name, *args: None if name == "matplotlib" else real_find_spec(name, *args),
    )
    with pytest.raises(ArgumentError, match="needs matplotlib"):
        plot_run(run, out=tmp_path / "curves.png")
    assert "loss" in str(plot_run(run))  # without --out: the terminal chart


def test_png_is_written_to_the_run_directory_by_default(tmp_path):
    need("matplotlib")
    run = make_run(tmp_path / "outputs" / "mlp" / "20250101-120000")
    update_latest(tmp_path / "outputs", "mlp", run)
    path = plot_run(tmp_path / "outputs" / "mlp")
    assert path == run.resolve() / "curves.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_png_goes_to_the_requested_file(tmp_path):
    need("matplotlib")
    out = tmp_path / "plots" / "mlp.png"
    assert plot_run(make_run(tmp_path / "run"), out=out) == out
    assert out.stat().st_size > 1000
