"""The typed experiment spec: frozen sections built with keywords, which keep their YAML
locations for errors found later; and the package boundaries around the config layer."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from nnrun.config.resolve import resolve_config
from nnrun.data.options import DataSpec
from nnrun.errors import ConfigError
from nnrun.experiment import build_experiment
from nnrun.spec import ExperimentSpec, parse_spec
from nnrun.train.options import EarlyStopping, TrainSpec

PACKAGE = Path(__file__).resolve().parents[1] / "nnrun"
CONFIG = """\
name: t
data: {dataset: iris, batch_size: 16}
model:
  layers: [{type: linear, units: 3}]
optimizer: {type: sgd, lr: 0.1}
train:
  epochs: 2
  early_stopping: {patience: 1}
metrics:
  - accuracy
  - mse
"""


@pytest.fixture
def write(tmp_path: Path):
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


def parse(write, text: str = CONFIG) -> ExperimentSpec:
    return parse_spec(resolve_config(write("c.yaml", text)))


def test_sections_are_typed_frozen_and_filled_with_defaults(write):
    spec = parse(write)
    assert isinstance(spec.data, DataSpec) and spec.data.batch_size == 16
    assert spec.data.split.val == 0.1  # a nested section's default
    assert isinstance(spec.train, TrainSpec) and spec.train.epochs == 2
    assert spec.train.early_stopping == EarlyStopping(patience=1)
    assert spec.optimizer.type == "sgd" and spec.optimizer.args["lr"] == 0.1
    assert spec.optimizer.args["momentum"] == 0.0  # the constructor's default, filled in
    assert [m.type for m in spec.metrics] == ["accuracy", "mse"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.train.epochs = 3  # type: ignore[misc]


def test_every_section_knows_where_it_was_written(write):
    spec = parse(write)
    assert spec.train.at.where("epochs").line == 7
    assert spec.train.early_stopping.at.where("patience").line == 8
    assert spec.metrics[1].at.where().line == 11


def test_a_metric_unknown_to_the_task_is_reported_at_its_own_line(write):
    with pytest.raises(ConfigError) as error:
        build_experiment(resolve_config(write("c.yaml", CONFIG)))
    (problem,) = error.value.problems
    assert problem.path == "metrics[1]" and problem.location.line == 11
    assert "'mse' does not apply to task 'classification'" in problem.message


def test_data_errors_found_while_loading_point_at_the_data_section(write):
    text = CONFIG.replace("batch_size: 16}", "batch_size: 16, split: {val: 0.5, test: 0.5}}")
    with pytest.raises(ConfigError) as error:
        build_experiment(resolve_config(write("c.yaml", text)))
    assert error.value.problems[0].location.line == 2


def test_the_default_loss_and_metrics_come_from_the_task(write):
    from nnrun.tasks import TASKS

    spec = parse(write, CONFIG.split("metrics:")[0])
    assert spec.loss is None and spec.metrics is None
    regression = TASKS["regression"]
    assert spec.loss_for(regression).type == "mse"
    assert [m.type for m in spec.metrics_for(regression)] == ["mae", "r2"]


def _modules(folder: Path):
    for path in sorted(folder.rglob("*.py")):
        yield path, path.read_text()


def test_nothing_downstream_of_the_config_layer_reads_config_dicts_by_key():
    read = re.compile(r"""\b(cfg|config|data_cfg)\[["']|\.(config|train)\[["']|\[["']task["']\]""")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path, text in _modules(PACKAGE)
        if "config" not in path.relative_to(PACKAGE).parts[:1]
        for number, line in enumerate(text.splitlines(), 1)
        if read.search(line)
    ]
    assert offenders == []


def test_the_config_layer_imports_no_training_checkpoint_or_cli_module():
    banned = ("nnrun.train", "nnrun.checkpoint", "nnrun.cli", "nnrun.init_from", "nnrun.sweep")
    offenders = []
    for path, text in _modules(PACKAGE / "config"):
        for node in ast.walk(ast.parse(text)):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(banned)]
    assert offenders == []
