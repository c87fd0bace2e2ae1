"""The editor JSON Schema is valid draft 2020-12 and agrees with validation on samples."""

from __future__ import annotations

import pytest
from conftest import DATA_SPEC, TRAIN_SPEC

from nnrun.config.jsonschema import annotation_schema, config_json_schema
from nnrun.config.spec import Option

jsonschema = pytest.importorskip("jsonschema")


@pytest.fixture
def validator(registries):
    schema = config_json_schema(
        {
            "name": Option(str, "x", doc="run name"),
            "seed": Option(int, 0),
            "data": DATA_SPEC,
            "train": TRAIN_SPEC,
        },
        registries,
    )
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(validator, config: dict) -> list[str]:
    return sorted(error.message for error in validator.iter_errors(config))


def test_sample_configs_are_accepted(validator):
    config = {
        "extends": "base.yaml",
        "name": "mlp",
        "seed": 3,
        "data": {"path": "x.csv", "batch_size": 64, "format": "npz", "columns": ["a", "b"]},
        "model": {"layers": [{"type": "dense", "units": 64, "activation": "relu"}, "dropout"]},
        "loss": "ce",
        "optimizer": {"type": "sgd", "learning_rate": 0.1, "momentum": 0.9},
        "train": {"max_epochs": 3, "early_stopping": {"patience": 2}},
    }
    assert errors(validator, config) == []
    assert errors(validator, {"extends": ["a.yaml", "b.yaml"], "optimizer": "adam"}) == []


@pytest.mark.parametrize(
    "config",
    [
        {"data": {"batch_size": 0, "path": "x"}},
        {"data": {"path": "x", "format": "zip"}},
        {"data": {"batch_size": 3}},
        {"data": {"path": "x", "shuffle": 1}},
        {"loss": "nope"},
        {"optimizer": "sgd"},  # sgd needs lr: no string shorthand
        {"optimizer": {"type": "adam", "lrr": 0.1}},
        {"optimizer": {"type": "adam", "betas": [0.9]}},
        {"train": {"early_stopping": {"patience": -1}}},
        {"trian": {}},
        {"seed": True},
    ],
)
def test_broken_configs_are_rejected(validator, config):
    assert errors(validator, config)


def test_schema_carries_defaults_descriptions_and_required(registries):
    schema = config_json_schema(
        {"data": DATA_SPEC, "name": Option(str, "x", doc="run name")}, registries
    )
    data = schema["properties"]["data"]
    assert data["required"] == ["path"]
    assert data["properties"]["batch_size"] == {
        "type": "integer",
        "minimum": 1,
        "default": 32,
        "description": "samples per step",
    }
    assert data["properties"]["format"]["enum"] == ["csv", "npz"]
    assert schema["properties"]["name"]["description"] == "run name"
    sgd = next(
        v for v in schema["$defs"]["optimizer"]["anyOf"] if v.get("title") == "optimizer sgd"
    )
    assert sgd["required"] == ["type"]
    assert sgd["allOf"] == [{"anyOf": [{"required": ["lr"]}, {"required": ["learning_rate"]}]}]
    assert "params" not in sgd["properties"]  # injected by the builder, not a user option
    dense = next(v for v in schema["$defs"]["layer"]["anyOf"] if v.get("title") == "layer dense")
    assert dense["properties"]["type"] == {"enum": ["dense", "linear"]}
    assert dense["properties"]["activation"] == {
        "anyOf": [{"$ref": "#/$defs/activation"}, {"type": "null"}],
        "default": None,
    }


def test_annotation_schema():
    assert annotation_schema(int | None) == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert annotation_schema(list[float]) == {"type": "array", "items": {"type": "number"}}
    assert annotation_schema(tuple[int, ...]) == {"type": "array", "items": {"type": "integer"}}
    assert annotation_schema(dict[str, int]) == {"type": "object"}


def test_component_list_options_list_the_registered_components():
    from nnrun import components  # noqa: F401  (fills the registries)
    from nnrun.train.options import TRAIN_SPEC as REAL_TRAIN_SPEC

    schema = config_json_schema({"train": REAL_TRAIN_SPEC}, {})
    validator = jsonschema.Draft202012Validator(schema)
    good = {"train": {"loggers": ["csv", {"type": "tensorboard", "log_dir": "tb"}]}}
    assert errors(validator, good) == []
    assert errors(validator, {"train": {"loggers": ["tensorbord"]}})
    assert errors(validator, {"train": {"loggers": [{"type": "mlflow", "uri": "x"}]}})


@pytest.mark.parametrize(
    ("value", "valid"),
    [(True, True), (False, True), (None, True), ({"every": 5}, True), ({}, True)]
    + [({"every": 0}, False), ({"evry": 5}, False), ("yes", False)],
)
def test_a_switch_with_settings_takes_a_boolean_or_its_mapping(value, valid):
    from nnrun.config.jsonschema import option_schema
    from nnrun.diagnose.options import DIAGNOSE_OPTION

    validator = jsonschema.Draft202012Validator(option_schema(DIAGNOSE_OPTION))
    assert validator.is_valid(value) == valid


def test_layer_descriptions_give_the_attention_input_order():
    import nnrun.components  # noqa: F401
    from nnrun.config.jsonschema import component_schema
    from nnrun.registry import LAYERS

    variants = {v.get("title"): v for v in component_schema(LAYERS)["anyOf"]}
    for name, order in [
        ("multihead_attention", "query, key_value, value"),
        ("scaled_dot_product_attention", "query, key, value"),
    ]:
        assert f"in the order {order}" in " ".join(variants[f"layer {name}"]["description"].split())
