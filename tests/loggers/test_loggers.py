"""`train.loggers` in configs and `--logger` on the command line."""

from __future__ import annotations

import importlib.util

import pytest
from typer.testing import CliRunner

from nnrun.cli import app
from nnrun.config.sections import ComponentSpec
from nnrun.errors import ConfigError
from nnrun.experiment import resolve, validate
from nnrun.loggers import add_loggers, build_loggers


def test_default_is_csv_only(tiny):
    assert validate(resolve(tiny)).train.loggers == (ComponentSpec("csv"),)


def test_mappings_take_their_options(tiny):
    text = "train.loggers=[tensorboard, {type: mlflow, experiment: e1, tracking_uri: 'sqlite:///m.db'}]"
    loggers = validate(resolve(tiny, [text])).train.loggers
    assert loggers[0].type == "tensorboard"
    assert loggers[1] == ComponentSpec(
        "mlflow", {"experiment": "e1", "tracking_uri": "sqlite:///m.db", "artifacts": True}
    )


def test_unknown_logger_or_option_is_reported_at_its_key(tiny):
    with pytest.raises(ConfigError) as error:
        validate(resolve(tiny, ["train.loggers=[tensorbord, {type: mlflow, uri: x}]"]))
    text = str(error.value)
    assert "train.loggers[0]" in text and "did you mean 'tensorboard'" in text
    assert "train.loggers[1].uri" in text and "tracking_uri" in text


def test_command_line_loggers_are_added_once_after_the_listed_ones(tiny):
    cfg = resolve(tiny, ["train.loggers=[csv, {type: mlflow}]"])
    add_loggers(cfg, ["tensorboard", "mlflow", "tensorboard"])
    assert cfg.data["train"]["loggers"] == ["csv", {"type": "mlflow"}, "tensorboard"]
    cfg = resolve(tiny, ["train=null"])
    add_loggers(cfg, ["mlflow"])
    assert cfg.data["train"]["loggers"] == ["csv", "mlflow"]


def test_a_misspelt_command_line_logger_is_reported_at_its_option(tiny):
    cfg = resolve(tiny)
    add_loggers(cfg, ["tensorbord"])
    with pytest.raises(ConfigError) as error:
        validate(cfg)
    assert str(error.value).startswith("--logger tensorbord: train.loggers[1]: unknown logger")


def test_csv_is_the_trainers_own_log_and_adds_no_logger():
    assert build_loggers([ComponentSpec("csv")]) == []


def test_a_missing_backend_gives_an_install_hint_and_exit_2_before_the_run_starts(
    tiny, tmp_path, monkeypatch
):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "tensorboardX" else real(name, *a),
    )
    result = CliRunner().invoke(app, ["train", str(tiny), "--logger", "tensorboard"])
    assert result.exit_code == 2
    assert 'pip install -e ".[tensorboard]"' in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "outputs").exists()
