"""The shipped example configs: every one builds, trains for an epoch, and the headline
examples reach the test metric the gallery documents."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nnrun.checkpoint import load_checkpoint
from nnrun.cli import app
from nnrun.experiment import build_experiment, resolve

CONFIGS_DIR = Path(__file__).resolve().parents[1] / "configs"
EXAMPLES = sorted(path.stem for path in CONFIGS_DIR.glob("*.yaml"))
PRETRAINED = "cnn_digits"  # what transfer.yaml initializes from

# Smaller data for the one-epoch smoke runs where the example's full epoch is slow.
SMOKE_OVERRIDES: dict[str, list[str]] = {
    "char_lstm": ["data.stride=2048"],
    "embedding_bigram": ["data.stride=2048"],
}
# Documented in the configs' comments and docs/gallery.md.
DOCUMENTED_ACCURACY = {"quickstart": 0.95, "cnn_digits": 0.97}

runner = CliRunner()


def train(config: str, out: Path, *overrides: str) -> dict:
    """`nnrun train configs/<config>.yaml --out <out> --set ...` → the run's summary.json."""
    args = ["train", str(CONFIGS_DIR / f"{config}.yaml"), "--out", str(out), "--quiet"]
    for override in overrides:
        args += ["--set", override]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="module")
def pretrained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-epoch cnn_digits run: the checkpoint transfer.yaml loads."""
    out = tmp_path_factory.mktemp("pretrained") / PRETRAINED
    train(PRETRAINED, out, "train.epochs=1")
    return out


def example_overrides(name: str, pretrained_run: Path) -> list[str]:
    if name == "transfer":
        return [f"model.init_from.checkpoint={pretrained_run}"]
    return []


def test_every_example_is_listed() -> None:
    assert "quickstart" in EXAMPLES and "digits_mlp" in EXAMPLES
    assert set(SMOKE_OVERRIDES) <= set(EXAMPLES)


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_builds_with_sized_model(name: str, pretrained_run: Path) -> None:
    cfg = resolve(CONFIGS_DIR / f"{name}.yaml", example_overrides(name, pretrained_run))
    experiment = build_experiment(cfg)
    assert experiment.name == name
    assert sum(p.data.size for _, p in experiment.model.named_parameters()) > 0


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_trains_one_epoch(name: str, pretrained_run: Path, tmp_path: Path) -> None:
    overrides = [*example_overrides(name, pretrained_run), *SMOKE_OVERRIDES.get(name, [])]
    summary = train(name, tmp_path / name, "train.epochs=1", *overrides)
    assert summary["status"] == "finished"
    assert summary["epochs"] == 1
    assert math.isfinite(summary["test"]["test_loss"])


@pytest.mark.parametrize("unit", ["sigmoid", "relu", "sinusoid", "sign", "sign_ste"])
def test_activation_unit_override_trains(unit: str, tmp_path: Path) -> None:
    summary = train(
        "activations", tmp_path / unit, "train.epochs=1", f"model.layers.0.activation={unit}"
    )
    config = (tmp_path / unit / "config.yaml").read_text()
    assert config.count(f"activation: {unit}") == 2  # both hidden layers follow layer 0
    assert math.isfinite(summary["test"]["test_loss"])


def test_transfer_loads_and_freezes_pretrained_convolutions(
    pretrained_run: Path, tmp_path: Path
) -> None:
    summary = train(
        "transfer",
        tmp_path / "transfer",
        "train.epochs=1",
        f"model.init_from.checkpoint={pretrained_run}",
    )
    before = load_checkpoint(pretrained_run).weights
    after = load_checkpoint(tmp_path / "transfer").weights
    assert (before["layers.0.weight"] == after["conv1.weight"]).all()
    assert (before["layers.4.weight"] == after["conv2.weight"]).all()
    assert summary["trainable_parameters"] < summary["parameters"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DOCUMENTED_ACCURACY))
def test_example_reaches_documented_accuracy(name: str, tmp_path: Path) -> None:
    summary = train(name, tmp_path / name)
    assert summary["test"]["test_accuracy"] >= DOCUMENTED_ACCURACY[name]
