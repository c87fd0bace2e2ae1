"""Training loggers: where a run's numbers go besides the terminal.

``train.loggers`` lists them (default ``[csv]``; also ``tensorboard`` and ``mlflow``, each
also as a mapping with options); ``nnrun train --logger NAME`` adds one. Each is a class in
the `LOGGERS` registry (one module per backend); backends are optional extras, imported only
when a run starts. The trainer drives them through its reporter: `LoggingReporter` passes
the reporter calls on and feeds the loggers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nnrun.config.resolve import ResolvedConfig
from nnrun.config.sections import ComponentSpec
from nnrun.errors import Location
from nnrun.loggers import csv, mlflow, tensorboard  # noqa: F401  (fill the registry)
from nnrun.loggers.base import Logger, MissingExtra, RunContext
from nnrun.registry import LOGGERS
from nnrun.train.display import EpochRow, RunInfo
from nnrun.train.rundir import MetricsLogger

if TYPE_CHECKING:
    from nnrun.spec import ExperimentSpec

__all__ = [
    "Logger",
    "LoggingReporter",
    "MissingExtra",
    "RunContext",
    "SweepLoggers",
    "add_loggers",
    "build_loggers",
    "run_context",
]


def add_loggers(cfg: ResolvedConfig, names: Iterable[str]) -> None:
    """Append loggers named on the command line to a (not yet validated) config's
    ``train.loggers``, unless already listed; each is located at its ``--logger`` option for
    error messages. The default ``csv`` stays."""
    names = list(names)
    if not names:
        return
    train = cfg.data.get("train")
    if not isinstance(train, dict):
        train = cfg.data["train"] = {}
    listed = train.get("loggers")
    loggers = list(listed) if isinstance(listed, list) else ["csv"]
    present = {item.get("type") if isinstance(item, dict) else item for item in loggers}
    for name in dict.fromkeys(names):
        if name not in present:
            cfg.value_locations[("train", "loggers", len(loggers))] = Location(f"--logger {name}")
            loggers.append(name)
    train["loggers"] = loggers


def build_loggers(specs: Sequence[ComponentSpec]) -> list[Logger]:
    """The loggers of the typed ``train.loggers`` entries, their backends checked to be
    installed (`MissingExtra` with the install line otherwise). ``csv`` is the trainer's own
    metrics.csv, written for every run, so it adds nothing here."""
    return [spec.build(LOGGERS) for spec in specs if LOGGERS.get(spec.type) is not MetricsLogger]


def run_context(experiment: Any, run_dir: Path, **extra: Any) -> RunContext:
    """What the loggers need to know about an experiment's run in `run_dir`."""
    return RunContext(
        run_dir=Path(run_dir),
        name=experiment.name,
        config=experiment.cfg.data,
        config_text=experiment.config_text,
        output_dir=Path(experiment.spec.output_dir),
        graph=experiment.view,
        **extra,
    )


class LoggingReporter:
    """A reporter that also logs: every call goes to `reporter`; starts, finished epochs
    and the end also go to `loggers`. Loggers start before the display, so a backend that
    fails to open stops the run before anything is shown."""

    def __init__(self, reporter: Any, loggers: list[Logger], run: RunContext):
        self.reporter = reporter
        self.loggers = loggers
        self.run = run

    def __getattr__(self, name: str) -> Any:  # e.g. the trainer's `shows_batch_metrics`
        return getattr(self.reporter, name)

    def start(self, info: RunInfo) -> None:
        run = RunContext(**{**vars(self.run), "resumed_from_epoch": info.resumed_from_epoch})
        for logger in self.loggers:
            logger.start(run)
        self.reporter.start(info)

    def epoch_start(self, epoch: int) -> None:
        self.reporter.epoch_start(epoch)

    def batch_end(self, batch: int, loss: float, metrics: dict[str, float], samples: int) -> None:
        self.reporter.batch_end(batch, loss, metrics, samples)

    def epoch_end(self, row: EpochRow) -> None:
        self.reporter.epoch_end(row)
        values = {**row.values(), "lr": row.lr, "seconds": row.seconds}
        logged = {key: float(value) for key, value in values.items() if value is not None}
        for logger in self.loggers:
            logger.log_epoch(row.epoch, logged)

    def message(self, text: str, style: str = "") -> None:
        self.reporter.message(text, style)

    def end(self, summary: dict[str, Any]) -> None:
        try:
            self.reporter.end(summary)
        finally:
            for logger in self.loggers:
                logger.end(summary)


class SweepLoggers:
    """The base config's loggers around a whole sweep: each may open a parent run that the
    trials nest under (MLflow); `parents` goes into every trial's payload."""

    def __init__(self, base: ExperimentSpec, config_text: str, sweep_dir: Path):
        specs = base.train.loggers
        names = [spec.type for spec in specs]
        built = build_loggers(specs)  # checks every backend is installed before any trial
        self.loggers = dict(
            zip([n for n in names if LOGGERS.get(n) is not MetricsLogger], built, strict=True)
        )
        self.group = RunContext(
            run_dir=Path(sweep_dir),
            name=base.name,
            config=base.config.data,
            config_text=config_text,
            output_dir=Path(base.output_dir),
        )
        self.parents: dict[str, str] = {}

    def start(self) -> dict[str, str]:
        for name, logger in self.loggers.items():
            parent = logger.start_group(self.group)
            if parent is not None:
                self.parents[name] = parent
        return self.parents

    def end(self, status: str) -> None:
        for logger in self.loggers.values():
            logger.end_group(status)
