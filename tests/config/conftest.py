"""Helpers for config tests: write YAML files into tmp_path, small sample registries."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import pytest

from nnrun.config.spec import REQUIRED, Option
from nnrun.constraints import Min, Range
from nnrun.registry import Registry


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """`write("name.yaml", text)` writes dedented `text` and returns the path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return _write


def make_registries() -> dict[str, Registry]:
    """A few components of each kind, built fresh so tests never touch global registries."""
    layers = Registry("layer", arg_aliases={"out_features": "units"})
    activations = Registry("activation")
    losses = Registry("loss")
    optimizers = Registry("optimizer", arg_aliases={"learning_rate": "lr"}, injected=("params",))

    @layers.register("dense", "linear")
    class Dense:
        def __init__(self, units: int, bias: bool = True, activation: str | None = None):
            self.units = units

    @layers.register("dropout")
    class Dropout:
        def __init__(self, p: float = 0.5):
            self.p = p

    @activations.register("relu")
    class ReLU:
        def __init__(self) -> None:
            pass

    @losses.register("cross_entropy", "ce")
    class CrossEntropy:
        def __init__(self, label_smoothing: float = 0.0, reduction: str = "mean"):
            self.label_smoothing = label_smoothing

    @optimizers.register("sgd")
    class SGD:
        def __init__(self, params: list, lr: float, momentum: float = 0.0, nesterov: bool = False):
            self.lr = lr

    @optimizers.register("adam")
    class Adam:
        def __init__(
            self, params: list, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999)
        ):
            self.lr = lr

    return {"layer": layers, "activation": activations, "loss": losses, "optimizer": optimizers}


DATA_SPEC = {
    "path": Option(str, REQUIRED, doc="CSV or NPZ file"),
    "batch_size": Option(Annotated[int, Min(1)], 32, doc="samples per step"),
    "shuffle": Option(bool, True),
    "val_fraction": Option(Annotated[float, Range(0.0, 1.0)], 0.1),
    "format": Option(Literal["csv", "npz"], "csv"),
    "columns": Option(list[str] | None, None),
}
TRAIN_SPEC = {
    "epochs": Option(Annotated[int, Min(1)], 10, aliases=("max_epochs",)),
    "early_stopping": Option(
        dict | None,
        None,
        spec={"patience": Option(Annotated[int, Min(0)], 5), "monitor": Option(str, "val_loss")},
    ),
}


@pytest.fixture
def registries() -> dict[str, Registry]:
    return make_registries()


@pytest.fixture
def sections(registries: dict[str, Registry]) -> dict:
    """A top-level layout like the lead's: plain specs, single values and components."""
    return {
        "name": Option(str, "experiment"),
        "seed": Option(int, 0),
        "data": DATA_SPEC,
        "model": None,
        "loss": registries["loss"],
        "optimizer": registries["optimizer"],
        "train": TRAIN_SPEC,
        "output_dir": Option(str, "outputs"),
    }
