"""MLflow tracking through mlflow-skinny: params, per-epoch metrics, tags, artifacts.

By default runs go to a SQLite store next to the runs, ``<output_dir>/mlflow.db``, with
artifacts in ``<output_dir>/mlartifacts/`` (MLflow's plain-file store is deprecated), so
``mlflow ui --backend-store-uri sqlite:///outputs/mlflow.db`` shows them. The run's MLflow id
is kept in ``<run>/mlflow.json``: a resumed run continues the same MLflow run.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nnrun.fileio import write_json_atomic
from nnrun.loggers.base import Logger, RunContext, require
from nnrun.registry import LOGGERS

RUN_FILE = "mlflow.json"
DATABASE = "mlflow.db"
ARTIFACTS = "mlartifacts"
# MLflow accepts at most this many params per log_batch call.
PARAMS_PER_BATCH = 100
# nnrun's end status -> MLflow's run status.
_STATUS = {
    "finished": "FINISHED",
    "stopped": "FINISHED",  # early stopping
    "interrupted": "KILLED",
    "pruned": "KILLED",  # stopped by its sweep
}


@LOGGERS.register("mlflow")
class MlflowLogger(Logger):
    """An MLflow run per training run. `tracking_uri`: the store (default
    ``sqlite:///<output_dir>/mlflow.db``); `experiment`: the MLflow experiment (default: the
    config's name); `artifacts`: also upload the best checkpoint's files."""

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment: str | None = None,
        artifacts: bool = True,
    ):
        require("mlflow", "mlflow", "mlflow")
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.artifacts = artifacts
        self.client: Any = None
        self.run_id: str | None = None
        self.run: RunContext | None = None
        self.artifact_root = ""

    # ------------------------------------------------------------------ a run
    def start(self, run: RunContext) -> None:
        from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

        self.run = run
        tags = {
            "nnrun.version": _version(),
            "nnrun.run_dir": str(run.run_dir.resolve()),
            "nnrun.config": run.name,
        }
        if "mlflow" in run.parents:
            tags[MLFLOW_PARENT_RUN_ID] = run.parents["mlflow"]
        name = run.trial or run.relative_name()
        if self._open(run, name, tags, reopen=bool(run.resumed_from_epoch)):
            self._log_params(flatten(run.config))
            self.client.log_artifact(self.run_id, str(run.run_dir / "config.yaml"))

    def log_epoch(self, epoch: int, values: dict[str, float]) -> None:
        from mlflow.entities import Metric

        stamp = _now_ms()
        metrics = [Metric(key, value, stamp, epoch) for key, value in values.items()]
        self.client.log_batch(self.run_id, metrics=metrics)

    def end(self, summary: dict[str, Any]) -> None:
        if self.run_id is None:
            return
        from mlflow.entities import Metric

        stamp, epoch = _now_ms(), int(summary.get("epochs") or 0)
        finals = [
            Metric(key, float(value), stamp, epoch)
            for key, value in (summary.get("test") or {}).items()
            if isinstance(value, (int, float))
        ]
        if finals:
            self.client.log_batch(self.run_id, metrics=finals)
        best = self.run.run_dir / "checkpoints" / "best" if self.run else None
        if self.artifacts and best is not None and best.is_dir():
            self.client.log_artifacts(self.run_id, str(best), "checkpoints/best")
        self.client.set_terminated(self.run_id, _STATUS.get(str(summary.get("status")), "FAILED"))

    # ------------------------------------------------------------------ a sweep
    def start_group(self, group: RunContext) -> str | None:
        """The sweep's parent run (reopened when the sweep resumes); trials nest under it."""
        tags = {"nnrun.version": _version(), "nnrun.sweep_dir": str(group.run_dir.resolve())}
        self._open(group, group.relative_name(), tags, reopen=True)
        return self.run_id

    def end_group(self, status: str) -> None:
        if self.run_id is not None:
            self.client.set_terminated(self.run_id, _STATUS.get(status, "FAILED"))

    # ------------------------------------------------------------------ helpers
    def _open(self, run: RunContext, name: str, tags: dict[str, str], reopen: bool) -> bool:
        """Continue the MLflow run recorded in ``<run_dir>/mlflow.json`` when `reopen` and
        there is one, else create one and record it. True when created."""
        self.client = self._client(run)
        saved = run.run_dir / RUN_FILE
        if reopen and saved.is_file():
            self.run_id = json.loads(saved.read_text())["run_id"]
            self.client.update_run(self.run_id, status="RUNNING")
            return False
        created = self.client.create_run(self._experiment_id(run), run_name=name, tags=tags)
        self.run_id = created.info.run_id
        write_json_atomic(saved, {"tracking_uri": self.client.tracking_uri, "run_id": self.run_id})
        return True

    def _client(self, run: RunContext) -> Any:
        from mlflow.tracking import MlflowClient

        # The store's schema migrations log at INFO on first use; keep the run's output clean.
        for name in ("mlflow", "alembic"):
            logging.getLogger(name).setLevel(logging.WARNING)

        self.artifact_root = (run.output_dir / ARTIFACTS).resolve().as_uri()
        uri = self.tracking_uri or f"sqlite:///{(run.output_dir / DATABASE).resolve()}"
        if uri.startswith("sqlite:///"):
            Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return MlflowClient(tracking_uri=uri)

    def _experiment_id(self, run: RunContext) -> str:
        """The experiment's id; created on first use. Parallel sweep trials may race to
        create it: the loser reads the winner's."""
        from mlflow.exceptions import MlflowException

        name = self.experiment or run.name
        found = self.client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        try:
            location = None if self.tracking_uri else f"{self.artifact_root}/{name}"
            return self.client.create_experiment(name, artifact_location=location)
        except MlflowException:
            return self.client.get_experiment_by_name(name).experiment_id

    def _log_params(self, params: dict[str, str]) -> None:
        from mlflow.entities import Param

        items = [Param(key, value) for key, value in params.items()]
        for start in range(0, len(items), PARAMS_PER_BATCH):
            self.client.log_batch(self.run_id, params=items[start : start + PARAMS_PER_BATCH])


def flatten(config: Any, prefix: str = "") -> dict[str, str]:
    """A nested config as dotted keys (``optimizer.lr``, ``model.layers.0.units``) with
    values as text, the way MLflow stores params."""
    items: Iterable[tuple[Any, Any]]
    if isinstance(config, dict) and config:
        items = config.items()
    elif isinstance(config, list) and config:
        items = enumerate(config)
    else:
        return {prefix: "null" if config is None else str(config)} if prefix else {}
    out: dict[str, str] = {}
    for key, value in items:
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _now_ms() -> int:
    return int(time.time() * 1000)


def _version() -> str:
    from nnrun import __version__

    return __version__
