"""Running sweeps: ledger, failure isolation, resume, re-running a trial alone, summaries,
and the process and Dask executors."""

from __future__ import annotations

import csv
import io
import json
import shlex
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from nnrun.sweep.executors import DaskExecutor, ProcessExecutor
from nnrun.sweep.ledger import LEDGER_FILE, read_ledger
from nnrun.sweep.report import aggregate, write_summaries
from nnrun.sweep.runner import SweepInterrupted, SweepRunner, open_sweep
from nnrun.sweep.trial import STOP_FILE, run_trial
from nnrun.sweep.view import PlainView
from tests.extras import need
from tests.sweep.conftest import InlineExecutor, run_inline

GRID = """\
method: grid
metric: {name: val_accuracy, goal: maximize}
parameters:
  optimizer.lr: {values: [0.01, 0.003]}
  model.layers.0.units: {values: [8, 16]}
"""


def statuses(latest):
    return {trial: event["status"] for trial, event in latest.items()}


def test_grid_sweep_records_every_trial_and_writes_summaries(write_sweep, tmp_path):
    out = tmp_path / "sweep"
    latest, executor, printed = run_inline(write_sweep(GRID + "repeats: 2\n"), out)
    assert executor.submitted == [f"{p:04d}-r{r}" for p in range(4) for r in range(2)]
    assert set(statuses(latest).values()) == {"finished"}
    events = read_ledger(out / LEDGER_FILE)
    assert [e["status"] for e in events[:2]] == ["running", "finished"]
    assert all((out / e["run_dir"] / "summary.json").exists() for e in latest.values())
    assert "finished 0000-r0 val_accuracy" in printed

    spec, _ = open_sweep(None, out=out)
    rows = aggregate(spec, latest)
    write_summaries(spec, out, rows)
    means = [row.mean for row in rows]
    assert means == sorted(means, reverse=True)
    assert all(len(row.values) == 2 and row.std is not None for row in rows)
    with open(out / "summary.csv") as handle:
        table = list(csv.DictReader(handle))
    assert [int(r["rank"]) for r in table] == [1, 2, 3, 4]
    assert float(table[0]["val_accuracy_mean"]) == pytest.approx(rows[0].mean)
    assert table[0]["trials"].split() == [t["trial"] for t in rows[0].trials]
    markdown = (out / "summary.md").read_text()
    assert f"| 1 | {rows[0].point} |" in markdown and " ± " in markdown
    best = yaml.safe_load((out / "best.yaml").read_text())
    assert best["optimizer"]["lr"] == rows[0].params["optimizer.lr"]
    assert best["model"]["layers"][0]["units"] == rows[0].params["model.layers.0.units"]
    assert best["seed"] == min(rows[0].trials, key=lambda t: t["repeat"])["seed"]
    assert best["train"]["on_nan"] == "stop", "defaults are filled in"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the diverging trial's overflow
def test_failing_and_diverging_trials_are_recorded_while_others_finish(write_sweep, tmp_path):
    sweep = write_sweep(
        "parameters:\n"
        "  model.layers.0.units: {values: [8, -5]}\n"
        "  optimizer: {values: [{type: sgd, lr: 0.01}, {type: sgd, lr: 1.0e+12}]}\n"
    )
    latest, _, _ = run_inline(sweep, tmp_path / "sweep")
    assert statuses(latest) == {
        "0000-r0": "finished",
        "0001-r0": "failed",
        "0002-r0": "failed",
        "0003-r0": "failed",
    }
    assert "NonFiniteLoss" in latest["0001-r0"]["error"]
    assert "units must be >= 1, got -5" in latest["0002-r0"]["error"]
    assert latest["0000-r0"]["metric"] is not None


def test_resume_runs_only_interrupted_failed_and_missing_trials(write_sweep, tmp_path):
    out = tmp_path / "sweep"
    sweep = write_sweep(GRID)
    run_inline(sweep, out)
    ledger = out / LEDGER_FILE
    events = read_ledger(ledger)
    # keep: 0000 finished, 0001 failed, 0002 running (killed), and a torn line; 0003 never ran
    kept = [*events[:4], events[4]]
    kept[3] = {**kept[3], "status": "failed", "error": "boom"}
    ledger.write_text("".join(json.dumps(e) + "\n" for e in kept) + '{"trial": "00')
    latest, executor, printed = run_inline(None, out)
    assert executor.submitted == ["0001-r0", "0002-r0", "0003-r0"]
    assert set(statuses(latest).values()) == {"finished"}
    assert "resuming: 1 of 4 trials already done" in printed
    # the same sweep file with the same --out resumes too: nothing is left to run
    assert run_inline(sweep, out)[1].submitted == []


def test_a_trial_rerun_alone_with_its_recorded_command_gives_the_same_metrics(
    write_sweep, tmp_path
):
    from nnrun.cli import app

    latest, _, _ = run_inline(write_sweep(GRID + "run_cap: 1\n"), tmp_path / "sweep")
    event = latest["0000-r0"]
    words = shlex.split(event["command"])
    assert words[:2] == ["nnrun", "train"] and words[-2] == "--seed"
    result = CliRunner().invoke(app, [*words[1:], "--out", str(tmp_path / "alone"), "--quiet"])
    assert result.exit_code == 0, result.output
    alone = json.loads((tmp_path / "alone" / "summary.json").read_text())
    assert alone["final"] == event["final"] and alone["test"] == event["test"]
    swept = tmp_path / "sweep" / event["run_dir"]
    assert (tmp_path / "alone" / "config.yaml").read_text() == (swept / "config.yaml").read_text()


def test_stop_file_ends_a_trial_as_pruned(base_config, tmp_path):
    run_dir = tmp_path / "trial"
    run_dir.mkdir()
    (run_dir / STOP_FILE).touch()
    result = run_trial(
        {
            "trial": "0000-r0",
            "base": str(base_config),
            "overrides": [],
            "seed": 1,
            "run_dir": str(run_dir),
            "command": "nnrun train x",
            "metric": "val_accuracy",
        }
    )
    assert result["status"] == "pruned" and result["epochs"] == 1
    assert len(result["curve"]) == 1 and "after epoch 1" in result["error"]


def run_with(executor, sweep: Path, out: Path) -> dict:
    spec, sweep_dir = open_sweep(sweep, out=out)
    view = PlainView(spec, Console(file=io.StringIO()))
    return SweepRunner(spec, sweep_dir, executor, view).run()


def test_process_executor_runs_trials_on_two_workers(write_sweep, tmp_path):
    latest = run_with(ProcessExecutor(2), write_sweep(GRID), tmp_path / "sweep")
    assert set(statuses(latest).values()) == {"finished"}
    inline, _, _ = run_inline(write_sweep(GRID, "again.yaml"), tmp_path / "inline")
    for trial, event in latest.items():
        assert event["final"] == inline[trial]["final"], "same seeds, same numbers"


def test_dask_executor_on_a_local_cluster(write_sweep, tmp_path):
    need("distributed")
    latest = run_with(DaskExecutor(2), write_sweep(GRID + "run_cap: 2\n"), tmp_path / "sweep")
    assert statuses(latest) == {"0000-r0": "finished", "0001-r0": "finished"}


class _InterruptedAtSecondStart(InlineExecutor):
    """Ctrl-C arrives while the second trial's worker is being started."""

    def submit(self, payload: dict[str, Any]) -> Future:
        if self.submitted:
            raise KeyboardInterrupt
        return super().submit(payload)

    def close(self, abort: bool = False) -> None:
        pass


def test_a_signal_while_a_trial_starts_records_it_interrupted_not_running(write_sweep, tmp_path):
    out = tmp_path / "sweep"
    with pytest.raises(SweepInterrupted, match="1 trial"):
        run_inline(write_sweep(GRID), out, _InterruptedAtSecondStart())
    events = read_ledger(out / LEDGER_FILE)
    assert [(e["trial"], e["status"]) for e in events] == [
        ("0000-r0", "running"),
        ("0000-r0", "finished"),
        ("0001-r0", "running"),
        ("0001-r0", "interrupted"),
    ]
    assert events[-1]["command"] == events[-2]["command"]
    latest, executor, _ = run_inline(None, out)
    assert executor.submitted == ["0001-r0", "0002-r0", "0003-r0"]
    assert set(statuses(latest).values()) == {"finished"}


def test_a_sweep_killed_between_writing_its_two_files_starts_again_with_the_same_out(
    write_sweep, tmp_path, monkeypatch
):
    from nnrun import locking
    from nnrun.sweep import runner

    sweep, out = write_sweep(GRID), tmp_path / "sweep"
    written: list[Path] = []

    def killed_after_one_file(write):
        def first_only(path, *args, **kwargs):
            if written:
                raise KeyboardInterrupt  # the kill
            written.append(path)
            return write(path, *args, **kwargs)

        return first_only

    for name in ("write_text_atomic", "write_json_atomic"):
        monkeypatch.setattr(runner, name, killed_after_one_file(getattr(runner, name)))
    with pytest.raises(KeyboardInterrupt):
        open_sweep(sweep, out=out)
    locking.release(out)  # the killed process's lock goes with it
    monkeypatch.undo()
    latest, executor, _ = run_inline(sweep, out)
    assert len(executor.submitted) == 4
    assert set(statuses(latest).values()) == {"finished"}
