"""One sweep trial, as plain data in and out, so any worker (a local process or a Dask
worker) can run it: the resolved trial config is exactly a normal run's config.

Payload (all JSON-able)::

    {"trial": "0003-r0", "base": "/abs/base.yaml", "overrides": ["optimizer.lr=0.01"],
     "seed": 12345, "run_dir": "/abs/sweep/trials/0003-r0", "command": "nnrun train ...",
     "metric": "val_accuracy"}

Result::

    {"trial", "status": "finished" | "failed" | "pruned", "final": {...}, "test": {...},
     "best": {...}, "epochs", "wall_time", "curve": [metric per epoch], "error"}

The parent asks a running trial to stop (pruning, interrupt) by creating ``STOP`` in its
run directory; the trial checks for it after every epoch.
"""

from __future__ import annotations

import json
import math
import time
import traceback
from pathlib import Path
from typing import Any

from rich.console import Console

from nnrun.errors import NnrunError
from nnrun.markup import make_console
from nnrun.train.display import EpochRow, PlainReporter, RunInfo

STOP_FILE = "STOP"
LOG_FILE = "train.log"


class TrialReporter:
    """Per-epoch lines to ``train.log``, the metric's curve, and the STOP-file check."""

    def __init__(self, run_dir: Path, metric: str, log: Console):
        self.lines = PlainReporter(log)
        self.stop_file = Path(run_dir) / STOP_FILE
        self.metric = metric
        self.curve: list[float | None] = []
        self.trainer: Any = None  # set by run_trial, so a STOP file can end the run
        self.pruned_after: int | None = None

    def start(self, info: RunInfo) -> None:
        self.lines.start(info)

    def epoch_start(self, epoch: int) -> None:
        pass

    def batch_end(self, batch: int, loss: float, metrics: dict[str, float], samples: int) -> None:
        pass

    def epoch_end(self, row: EpochRow) -> None:
        self.lines.epoch_end(row)
        value = row.values().get(self.metric)
        self.curve.append(None if value is None or not math.isfinite(value) else float(value))
        if self.stop_file.exists() and self.pruned_after is None:
            self.pruned_after = row.epoch
            self.trainer.request_stop("pruned")

    def message(self, text: str, style: str = "") -> None:
        self.lines.message(text, style)

    def end(self, summary: dict[str, Any]) -> None:
        self.lines.end(summary)


def run_trial(payload: dict[str, Any]) -> dict[str, Any]:
    """Train one trial into ``payload["run_dir"]``; never raises for a failing trial (its
    error is returned), so one bad point does not stop the sweep."""
    from threadpoolctl import threadpool_limits

    started = time.time()
    run_dir = Path(payload["run_dir"])
    result: dict[str, Any] = {"trial": payload["trial"], "status": "failed", "curve": []}
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / LOG_FILE, "a", encoding="utf-8") as log, threadpool_limits(1):
        reporter = TrialReporter(
            run_dir, payload["metric"], make_console(file=log, width=120, no_color=True)
        )
        try:
            summary = _train(payload, run_dir, reporter)
            result.update(
                status="finished" if reporter.pruned_after is None else "pruned",
                **{k: summary.get(k) for k in ("final", "test", "best", "epochs", "stopped_early")},
            )
            if reporter.pruned_after is not None:
                result["error"] = f"stopped by the sweep after epoch {reporter.pruned_after}"
        except NnrunError as error:
            result.update(error=f"{type(error).__name__}: {error}", epochs=len(reporter.curve))
        except Exception as error:  # a bug in one trial must not stop the sweep
            log.write(traceback.format_exc())
            result.update(error=f"{type(error).__name__}: {error}", epochs=len(reporter.curve))
    result["curve"] = reporter.curve
    result["wall_time"] = time.time() - started
    return result


def _train(payload: dict[str, Any], run_dir: Path, reporter: TrialReporter) -> dict[str, Any]:
    from nnrun.experiment import build_experiment, resolve
    from nnrun.fileio import write_json_atomic
    from nnrun.loggers import LoggingReporter, build_loggers, run_context
    from nnrun.train.loop import Trainer
    from nnrun.train.session import RUN_FILE, start_run

    cfg = resolve(payload["base"], payload["overrides"], payload["seed"])
    experiment = build_experiment(cfg)
    loggers = build_loggers(experiment.train.loggers)
    start_run(experiment, out=run_dir)
    # start_run records this worker's argv; the command that re-runs the trial is more use.
    info = json.loads((run_dir / RUN_FILE).read_text())
    write_json_atomic(run_dir / RUN_FILE, {**info, "command": payload["command"]})
    context = run_context(
        experiment, run_dir, parents=payload.get("parents", {}), trial=payload["trial"]
    )
    trainer = Trainer(experiment, run_dir, LoggingReporter(reporter, loggers, context))
    reporter.trainer = trainer
    return trainer.fit()
