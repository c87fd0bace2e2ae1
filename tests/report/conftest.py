"""Runs and sweeps to report on: configs/quickstart.yaml trained with diagnostics, a small
regression run, and a tiny in-process sweep with a log-sampled parameter."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest
from rich.console import Console

from nnrun.experiment import build_experiment, resolve
from nnrun.report.write import write_report
from nnrun.train.display import make_reporter
from nnrun.train.loop import Trainer
from nnrun.train.session import start_run
from tests.sweep.conftest import BASE, run_inline

ROOT = Path(__file__).resolve().parents[2]


def train(config: Path, out: Path, *overrides: str) -> Path:
    exp = build_experiment(resolve(config, list(overrides)))
    run_dir = start_run(exp, out)
    Trainer(exp, run_dir, make_reporter("quiet", Console(file=io.StringIO()))).fit()
    return run_dir


@pytest.fixture(scope="session")
def quickstart_report(tmp_path_factory) -> Path:
    """The report of configs/quickstart.yaml's run (trained with --diagnose)."""
    run = train(
        ROOT / "configs" / "quickstart.yaml",
        tmp_path_factory.mktemp("quickstart") / "run",
        "train.diagnose=true",
    )
    return write_report(run)


@pytest.fixture(scope="session")
def sweep_report(tmp_path_factory) -> Path:
    """The report of a 4-trial random sweep over a log-uniform learning rate and the width."""
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "tiny.yaml").write_text(BASE)
    sweep_file = folder / "lr.yaml"
    sweep_file.write_text(
        textwrap.dedent(
            """\
            base: tiny.yaml
            method: random
            run_cap: 4
            metric: {name: val_accuracy, goal: maximize}
            parameters:
              optimizer.lr: {distribution: log_uniform, min: 1.0e-4, max: 1.0e-1}
              model.layers.0.units: {values: [8, 16]}
            """
        )
    )
    run_inline(sweep_file, folder / "out")
    return write_report(folder / "out")
