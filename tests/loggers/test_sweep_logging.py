"""Sweep trials log to the base config's backends, grouped under the sweep."""

from __future__ import annotations

import io
import json
import textwrap

import pytest
from rich.console import Console

from nnrun.sweep.runner import run_sweep
from tests.extras import need
from tests.loggers.test_tensorboard import read_events

need("tensorboardX")
need("sqlalchemy")
MlflowClient = need("mlflow.tracking").MlflowClient

SWEEP = """
base: tiny.yaml
method: grid
metric: {name: val_accuracy, goal: maximize}
parameters:
  optimizer.lr: {values: [0.05, 0.01]}
workers: 2
"""


@pytest.mark.slow  # two worker processes and a fresh MLflow store: about ten seconds
def test_trials_nest_under_a_parent_mlflow_run_and_get_a_tensorboard_folder_each(tiny, tmp_path):
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    text = tiny.read_text().replace(
        "train: {epochs: 3}",
        f"train: {{epochs: 2, loggers: [tensorboard, {{type: mlflow, tracking_uri: '{store}'}}]}}",
    )
    tiny.write_text(text)
    (tmp_path / "sweep.yaml").write_text(textwrap.dedent(SWEEP))
    outcome = run_sweep(
        tmp_path / "sweep.yaml", out=tmp_path / "sweep", console=Console(file=io.StringIO())
    )
    assert {event["status"] for event in outcome.latest.values()} == {"finished"}
    trials = sorted((tmp_path / "sweep" / "trials").iterdir())
    assert len(trials) == 2
    for trial in trials:
        steps = [event.step for event in read_events(trial / "tensorboard").Scalars("val_loss")]
        assert steps == [1, 2]
    client = MlflowClient(tracking_uri=store)
    parent_id = json.loads((tmp_path / "sweep" / "mlflow.json").read_text())["run_id"]
    parent = client.get_run(parent_id)
    assert parent.info.status == "FINISHED"
    children = client.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent_id}'"
    )
    assert sorted(run.info.run_name for run in children) == [t.name for t in trials]
    assert sorted(run.data.params["optimizer.lr"] for run in children) == ["0.01", "0.05"]
    assert all(len(client.get_metric_history(r.info.run_id, "val_loss")) == 2 for r in children)
