"""Bayesian search with Optuna (ask/tell, resume re-telling, median pruning) and the
`sweep` / `sweep-report` commands through Typer's CliRunner."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from nnrun.sweep.ledger import LEDGER_FILE, read_ledger
from nnrun.sweep.runner import SweepRunner, open_sweep
from nnrun.sweep.spec import load_sweep
from tests.extras import need
from tests.sweep.conftest import InlineExecutor, run_inline

BAYES = """\
method: bayes
metric: {name: val_accuracy}
run_cap: 4
parameters:
  optimizer.lr: {distribution: log_uniform, min: 1.0e-3, max: 3.0e-2}
  model.layers.0.units: {values: [8, 16]}
"""


def test_bayes_runs_run_cap_points_and_resume_retells_finished_ones(write_sweep, tmp_path):
    need("optuna")
    out = tmp_path / "sweep"
    latest, executor, _ = run_inline(write_sweep(BAYES), out)
    assert executor.submitted == ["0000-r0", "0001-r0", "0002-r0", "0003-r0"]
    assert {e["status"] for e in latest.values()} == {"finished"}
    for event in latest.values():
        assert 1e-3 <= event["params"]["optimizer.lr"] <= 3e-2
    # simulate a kill during point 3: its last event is `running`
    events = read_ledger(out / LEDGER_FILE)
    (out / LEDGER_FILE).write_text("".join(json.dumps(e) + "\n" for e in events[:-1]))
    spec, sweep_dir = open_sweep(None, out=out)
    executor = InlineExecutor()
    runner = SweepRunner(spec, sweep_dir, executor, _Silent())
    latest = runner.run()
    assert executor.submitted == ["0003-r0"]
    assert latest["0003-r0"]["params"] == events[-1]["params"], "the same point again"
    study = runner.bayes.study
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 4
    assert sorted(t.value for t in study.trials) == sorted(e["metric"] for e in latest.values())


def test_median_pruner_prunes_a_trial_below_the_median_of_earlier_ones(write_sweep):
    need("optuna")
    from nnrun.sweep.bayes import BayesSearch

    spec = load_sweep(
        write_sweep(BAYES + "early_terminate: {type: median, min_epochs: 2, min_trials: 2}\n")
    )
    search = BayesSearch(spec)
    for value in (0.8, 0.9):
        search.restore(
            {"optimizer.lr": 0.01, "model.layers.0.units": 8},
            "finished",
            value,
            [value - 0.2, value - 0.1, value],
        )
    search.ask(2)
    assert search.report(2, 1, 0.1) is False, "no pruning before min_epochs"
    assert search.report(2, 2, 0.3) is True
    search.tell(2, "pruned", None)
    assert search.study.trials[-1].state.name == "PRUNED"


class _Silent:
    def start(self, total, done, earlier):
        pass

    def trial_started(self, event):
        pass

    def trial_progress(self, trial_id, epoch, value):
        pass

    def trial_ended(self, event):
        pass

    def stop(self):
        pass


@pytest.fixture
def cli() -> typer.Typer:
    from nnrun.cli import app

    assert [c.name for c in app.registered_commands].count("sweep") == 1
    return app


def test_sweep_command_prints_the_ranking_and_the_best_set_line(
    cli, write_sweep, tmp_path, monkeypatch
):
    from nnrun.sweep import runner

    monkeypatch.setattr(runner, "SweepRunner", _InlineRunner)
    grid = (
        "metric: {name: val_accuracy}\nworkers: 2\nparameters:\n"
        "  optimizer.lr: {values: [0.01, 0.003]}\n"
    )
    out = tmp_path / "sweep"
    result = CliRunner().invoke(cli, ["sweep", str(write_sweep(grid)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "val_accuracy" in result.output and "best: nnrun train" in result.output
    assert "--set optimizer.lr=" in result.output
    assert (out / "summary.md").exists() and (out / "best.yaml").exists()

    report = CliRunner().invoke(cli, ["sweep-report", str(out)])
    assert report.exit_code == 0, report.output
    assert "mean val_accuracy" in report.output and "optimizer.lr" in report.output
    if _has_matplotlib():
        assert (out / "sweep_plot.png").stat().st_size > 0


def _has_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


class _InlineRunner(SweepRunner):
    """The real runner with trials run in the test process (no worker start-up)."""

    def __init__(self, spec, sweep_dir, executor, view, **options):
        executor.close()
        super().__init__(spec, sweep_dir, InlineExecutor(), view, **options)


def test_sweep_file_errors_exit_2_with_file_and_line(cli, write_sweep):
    path = write_sweep("method: grid\nparameters:\n  optimizer.lr: {valuse: [0.1]}\n")
    result = CliRunner().invoke(cli, ["sweep", str(path)])
    assert result.exit_code == 2
    assert f"{path}:4:" in result.output and "valuse" in result.output
