"""Validation: every kind of mistake reported at its exact location, all at once."""

from __future__ import annotations

import pytest

from nnrun.config.resolve import resolve_config
from nnrun.config.spec import REQUIRED, Option
from nnrun.config.validate import (
    ComponentList,
    format_path,
    validate_component,
    validate_section,
    validate_top_level,
)
from nnrun.errors import ConfigError, Location
from tests.config.conftest import DATA_SPEC, TRAIN_SPEC


def load(write, text: str):
    path = write("cfg.yaml", text)
    return resolve_config(path), str(path)


def test_format_path():
    assert format_path(("model", "layers", 2, "units")) == "model.layers[2].units"
    assert format_path(("a", 0, 1)) == "a[0][1]"
    assert format_path(()) == ""


def test_valid_section_is_normalized_with_defaults_recorded(write):
    cfg, _ = load(write, "data:\n  path: x.csv\n  val_fraction: 0\n")
    data, problems = validate_section(cfg.data["data"], DATA_SPEC, ("data",), cfg)
    assert problems == []
    assert data == {
        "path": "x.csv",
        "batch_size": 32,
        "shuffle": True,
        "val_fraction": 0.0,
        "format": "csv",
        "columns": None,
    }
    assert type(data["val_fraction"]) is float  # ints widen where a float is declared
    assert cfg.source(("data", "batch_size")) == "default"
    assert cfg.source(("data", "path")).startswith("file ")


@pytest.mark.parametrize(
    ("line", "location", "path", "fragments"),
    [
        ("batch_sise: 3", (2, 3), "data.batch_sise", ["unknown key", "did you mean 'batch_size'"]),
        ("batch_size: abc", (2, 15), "data.batch_size", ["wrong type", "int >= 1", "str 'abc'"]),
        ("batch_size: 0", (2, 15), "data.batch_size", ["out of range", "expected int >= 1"]),
        ("batch_size: 2.5", (2, 15), "data.batch_size", ["wrong type", "float 2.5"]),
        ("shuffle: 1", (2, 12), "data.shuffle", ["wrong type", "expected bool"]),
        ("val_fraction: true", (2, 17), "data.val_fraction", ["wrong type", "bool True"]),
        ("val_fraction: 1.5", (2, 17), "data.val_fraction", ["float in [0, 1]", "found 1.5"]),
        ("format: cvs", (2, 11), "data.format", ["not an allowed value", "did you mean 'csv'"]),
        ("columns: [a, 3]", (2, 12), "data.columns", ["list of str", "found a list"]),
    ],
)
def test_each_error_class_has_its_exact_location(write, line, location, path, fragments):
    cfg, file = load(write, f"data:\n  {line}\n  path: x.csv\n")
    _, problems = validate_section(cfg.data["data"], DATA_SPEC, ("data",), cfg)
    (problem,) = problems
    assert problem.location == Location(file, *location)
    assert problem.path == path
    for fragment in fragments:
        assert fragment in str(problem)


def test_missing_required_key_points_at_the_section(write):
    cfg, file = load(write, "seed: 1\ndata:\n  batch_size: 4\n")
    _, problems = validate_section(cfg.data["data"], DATA_SPEC, ("data",), cfg)
    (problem,) = problems
    assert problem.location == Location(file, 2, 1)
    assert problem.path == "data.path"
    assert "missing required key 'path' (CSV or NPZ file)" in str(problem)


def test_aliases_rename_and_both_spellings_is_an_error(write):
    cfg, file = load(write, "train:\n  max_epochs: 3\n")
    train, problems = validate_section(cfg.data["train"], TRAIN_SPEC, ("train",), cfg)
    assert problems == [] and train["epochs"] == 3
    cfg, file = load(write, "train:\n  epochs: 3\n  max_epochs: 4\n")
    _, problems = validate_section(cfg.data["train"], TRAIN_SPEC, ("train",), cfg)
    (problem,) = problems
    assert problem.location == Location(file, 3, 3)
    assert "'epochs' is given twice (as 'epochs' and 'max_epochs')" in str(problem)


def test_nested_spec_is_validated_and_filled(write):
    cfg, file = load(write, "train:\n  early_stopping:\n    patience: -1\n    monitr: x\n")
    _, problems = validate_section(cfg.data["train"], TRAIN_SPEC, ("train",), cfg)
    assert [(p.path, p.location) for p in problems] == [
        ("train.early_stopping.monitr", Location(file, 4, 5)),
        ("train.early_stopping.patience", Location(file, 3, 15)),
    ]
    cfg, _ = load(write, "train:\n  early_stopping: {}\n")
    train, problems = validate_section(cfg.data["train"], TRAIN_SPEC, ("train",), cfg)
    assert train["early_stopping"] == {"patience": 5, "monitor": "val_loss"}


def test_section_that_is_not_a_mapping(write):
    cfg, file = load(write, "data: [1, 2]\n")
    _, problems = validate_section(cfg.data["data"], DATA_SPEC, ("data",), cfg)
    (problem,) = problems
    assert problem.location == Location(file, 1, 7)
    assert "must be a mapping" in str(problem) and "found a list" in str(problem)


def test_component_string_shorthand_and_aliases(write, registries):
    cfg, _ = load(write, "loss: ce\noptimizer: {type: sgd, learning_rate: 1}\n")
    assert validate_component(cfg.data["loss"], registries["loss"], ("loss",), cfg) == (
        "cross_entropy",
        {},
        [],
    )
    name, kwargs, problems = validate_component(
        cfg.data["optimizer"], registries["optimizer"], ("optimizer",), cfg
    )
    assert (name, kwargs, problems) == ("sgd", {"lr": 1}, [])


def test_component_unknown_name_points_at_type(write, registries):
    cfg, file = load(write, "optimizer:\n  type: adamw\n  lr: 0.1\n")
    _, _, problems = validate_component(
        cfg.data["optimizer"], registries["optimizer"], ("optimizer",), cfg
    )
    (problem,) = problems
    assert problem.location == Location(file, 2, 9)
    assert problem.path == "optimizer.type"
    assert "unknown optimizer 'adamw' (did you mean 'adam'?)" in str(problem)


def test_component_argument_problems_are_all_reported_at_their_keys(write, registries):
    cfg, file = load(
        write,
        "model:\n  layers:\n    - type: dense\n      unit: 3\n      bias: maybe\n",
    )
    path = ("model", "layers", 0)
    name, _, problems = validate_component(
        cfg.data["model"]["layers"][0], registries["layer"], path, cfg
    )
    assert name == "dense"
    assert [(p.path, p.location) for p in problems] == [
        ("model.layers[0].unit", Location(file, 4, 7)),
        ("model.layers[0].bias", Location(file, 5, 13)),
        ("model.layers[0].units", Location(file, 3, 7)),
    ]
    assert "has no argument 'unit' (did you mean 'units'?)" in problems[0].message
    assert "must be bool" in problems[1].message
    assert "needs argument(s) units" in problems[2].message


def test_component_without_type_or_of_wrong_shape(write, registries):
    cfg, file = load(write, "loss: {smoothing: 1}\noptimizer: 3\n")
    _, _, (problem,) = validate_component(cfg.data["loss"], registries["loss"], ("loss",), cfg)
    assert problem.location == Location(file, 1, 7)
    assert "a loss needs a 'type'" in str(problem) and "cross_entropy" in str(problem)
    _, _, (problem,) = validate_component(
        cfg.data["optimizer"], registries["optimizer"], ("optimizer",), cfg
    )
    assert "found int 3" in str(problem)


def test_top_level_collects_every_problem_in_file_order(write, sections):
    cfg, file = load(
        write,
        """
        seed: x
        data:
          batch_size: 0
        loss: {type: cross_entropy, label_smoothing: abc}
        optimizer: {type: sgd}
        trian: {epochs: 2}
        """,
    )
    with pytest.raises(ConfigError) as info:
        validate_top_level(cfg, sections)
    lines = str(info.value).splitlines()
    assert len(lines) == 6
    assert lines[0].startswith(f"{file}:1:7: seed: wrong type; expected int, found str 'x'")
    assert lines[1].startswith(f"{file}:2:1: data.path: missing required key 'path'")
    assert lines[2].startswith(f"{file}:3:15: data.batch_size: value out of range")
    assert lines[3].startswith(f"{file}:4:46: loss.label_smoothing: ")
    assert lines[4].startswith(f"{file}:5:12: optimizer.lr: optimizer 'sgd' needs argument")
    assert lines[5] == (
        f"{file}:6:1: trian: unknown section 'trian' (did you mean 'train'?); "
        "expected one of name, seed, data, model, loss, optimizer, train, output_dir, "
        "found 'trian'"
    )


def test_top_level_normalizes_and_fills_defaults(write, sections):
    cfg, _ = load(write, "data: {path: x}\nloss: ce\noptimizer: {type: adam, lr: 1}\nmodel: {}\n")
    result = validate_top_level(cfg, sections)
    assert result["loss"] == {"type": "cross_entropy", "label_smoothing": 0.0, "reduction": "mean"}
    assert result["optimizer"] == {"type": "adam", "lr": 1.0, "betas": [0.9, 0.999]}
    assert result["seed"] == 0 and result["train"]["epochs"] == 10
    assert cfg.data is result
    assert cfg.source(("optimizer", "betas", 0)) == "default"
    assert cfg.source(("train", "epochs")) == "default"
    assert list(result)[:4] == ["data", "loss", "optimizer", "model"]


def test_required_sections_and_component_lists(write, sections, registries):
    cfg, file = load(write, "metrics: [ce, {type: nope}]\n")
    sections = {**sections, "metrics": ComponentList(registries["loss"])}
    with pytest.raises(ConfigError) as info:
        validate_top_level(cfg, sections, required=("data", "model"))
    messages = [str(p) for p in info.value.problems]
    assert any("missing required section 'data'" in m for m in messages)
    assert any("missing required section 'model'" in m for m in messages)
    assert any(m.startswith(f"{file}:1:22: metrics[1].type: unknown loss 'nope'") for m in messages)


def test_required_option_inside_a_single_value_section(write):
    cfg, file = load(write, "seed: 1\n")
    with pytest.raises(ConfigError, match="missing required key 'name'") as info:
        validate_top_level(cfg, {"seed": Option(int, 0), "name": Option(str, REQUIRED)})
    assert info.value.problems[0].location == Location(file, 1, 1)
