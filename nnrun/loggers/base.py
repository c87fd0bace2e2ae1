"""What every training logger shares: the run it logs, the interface the trainer drives,
and the check that an optional backend is installed."""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nnrun.errors import NnrunError


class MissingExtra(NnrunError):
    """A logger's backend package is not installed."""


def require(module: str, extra: str, logger: str) -> None:
    """Raise a one-line install hint when `module` cannot be imported (checked without
    importing it, so a run fails before it starts, not after its first epoch)."""
    if importlib.util.find_spec(module) is None:
        raise MissingExtra(
            f"the {logger} logger needs the {module} package, which is not installed: "
            f'pip install -e ".[{extra}]"'
        )


@dataclass(frozen=True)
class RunContext:
    """The run a logger records.

    `config` is the resolved, validated config (`config_text` the same as YAML);
    `output_dir` the config's `output_dir`; `graph` the builder's `GraphView`;
    `resumed_from_epoch` the last completed epoch of a resumed run (0 for a new run);
    `parents` a sweep's parent run ids by backend (``{"mlflow": "..."}``) for a trial.
    """

    run_dir: Path
    name: str
    config: dict[str, Any]
    config_text: str
    output_dir: Path
    graph: Any = None
    resumed_from_epoch: int = 0
    parents: dict[str, str] = field(default_factory=dict)
    trial: str | None = None

    def relative_name(self) -> str:
        """The run's path below `output_dir` (``digits_mlp/20261130-091500``), or
        ``<name>/<run dir name>`` for a run written elsewhere (``--out``)."""
        try:
            return self.run_dir.resolve().relative_to(self.output_dir.resolve()).as_posix()
        except ValueError:
            return f"{self.name}/{self.run_dir.name}"


class Logger(ABC):
    """One backend. The trainer's reporter calls, in order::

        start(run) → log_epoch(epoch, values)* → end(summary)

    `values` are the epoch's numbers named as ``nnrun train --json`` names them
    (``train_loss``, ``val_accuracy``, ``lr``, ``seconds``); `summary` is what
    ``summary.json`` holds. A sweep calls `start_group`/`end_group` once around its trials.
    """

    @abstractmethod
    def start(self, run: RunContext) -> None: ...

    @abstractmethod
    def log_epoch(self, epoch: int, values: dict[str, float]) -> None: ...

    @abstractmethod
    def end(self, summary: dict[str, Any]) -> None: ...

    def start_group(self, group: RunContext) -> str | None:
        """Open a parent for a sweep's trials; returns its id (None: nothing to group,
        the trials' run directories already sit under the sweep's)."""
        return None

    def end_group(self, status: str) -> None:  # noqa: B027 - optional hook, no-op by default
        """Close the parent opened by `start_group` (`status`: finished, interrupted, failed)."""
