"""`nnrun schema`, checked with the real `jsonschema` package as editors and
`check-jsonschema` use it: every shipped config passes, broken ones fail at the broken key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
import yaml

from nnrun.config.jsonschema import annotation_schema
from nnrun.constraints import Min, Range
from tests.extras import need

jsonschema = need("jsonschema")
CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def cli_schema(*args: str) -> Any:
    """The schema as `nnrun schema` prints it, from a fresh process (as an editor gets it)."""
    result = subprocess.run(
        [sys.executable, "-m", "nnrun.cli", "schema", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def validator():
    return cli_schema()


@pytest.fixture(scope="module")
def sweep_validator():
    return cli_schema("--sweep")


def locations(validator, config: dict) -> list[tuple[list[Any], str]]:
    """(path, message) of every error; an unexpected key's path ends with the key itself."""
    out = []
    for error in validator.iter_errors(config):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties":
            extra = set(error.instance) - set(error.schema.get("properties", {}))
            path.extend(sorted(extra))
        out.append((path, error.message))
    return out


def is_sweep(path: Path) -> bool:
    return "base" in yaml.safe_load(path.read_text())


@pytest.mark.parametrize(
    "path", sorted(CONFIGS.rglob("*.yaml")), ids=lambda p: str(p.relative_to(CONFIGS))
)
def test_every_shipped_config_passes_the_cli_schema(path, validator, sweep_validator):
    config = yaml.safe_load(path.read_text())
    checker = sweep_validator if is_sweep(path) else validator
    assert locations(checker, config) == []


LAYER = {"type": "linear", "units": 4}
BROKEN = {
    "section typo": ({"trian": {"epochs": 3}}, ["trian"]),
    "train key typo": ({"train": {"epoch": 3}}, ["train", "epoch"]),
    "layer type typo": ({"model": {"layers": [{"type": "linaer", "units": 3}]}}, "type"),
    "layer shorthand typo": ({"model": {"layers": ["reul"]}}, ["model", "layers", 0]),
    "layer argument typo": ({"model": {"layers": [{"type": "linear", "unitz": 3}]}}, "unitz"),
    "activation typo": ({"model": {"layers": [{**LAYER, "activation": "rleu"}]}}, "activation"),
    "initializer typo": ({"model": {"layers": [{**LAYER, "init": "xavier_unifrom"}]}}, "init"),
    "graph node argument typo": (
        {"model": {"nodes": {"fc": {"type": "linear", "units": 2, "inn": "x"}}, "output": "fc"}},
        "inn",
    ),
    "loss typo": ({"loss": "cross_entropi"}, ["loss"]),
    "loss argument typo": ({"loss": {"type": "cross_entropy", "smoothing": 0.1}}, "smoothing"),
    "metric typo": ({"metrics": ["accuracy", "f2"]}, ["metrics", 1]),
    "optimizer argument typo": ({"optimizer": {"type": "adam", "lrr": 0.1}}, "lrr"),
    "schedule argument typo": ({"schedule": {"type": "cosine", "warmup_epoch": 1}}, "warmup_epoch"),
    "wrong type in a section": ({"train": {"epochs": "ten"}}, ["train", "epochs"]),
    "wrong type in a layer": ({"model": {"layers": [{"type": "linear", "units": 2.5}]}}, "units"),
    "section out of range": ({"data": {"batch_size": 0}}, ["data", "batch_size"]),
    "fraction out of range": ({"data": {"split": {"val": 1.5}}}, ["data", "split", "val"]),
    "layer size out of range": ({"model": {"layers": [{"type": "linear", "units": 0}]}}, "units"),
    "probability out of range": ({"model": {"layers": [{"type": "dropout", "p": 1.5}]}}, "p"),
    "optimizer rate out of range": ({"optimizer": {"type": "adam", "lr": -1}}, "lr"),
    "loss option out of range": (
        {"loss": {"type": "cross_entropy", "label_smoothing": 2}},
        "label_smoothing",
    ),
    "choice typo": ({"train": {"on_nan": "skip"}}, ["train", "on_nan"]),
}


@pytest.mark.parametrize("config, broken", BROKEN.values(), ids=BROKEN.keys())
def test_broken_configs_are_rejected_at_the_broken_key(validator, config, broken):
    found = locations(validator, config)
    assert found, "accepted"
    if isinstance(broken, str):  # the last key of the path
        assert any(path[-1] == broken for path, _ in found), found
    else:
        assert any(path == broken for path, _ in found), found


def test_a_wrong_argument_is_reported_against_its_own_component(validator):
    (path, message), *_ = locations(
        validator, {"model": {"layers": [{"type": "dropout", "units": 3}]}}
    )
    assert path == ["model", "layers", 0, "units"] and "'units' was unexpected" in message


def test_references_are_accepted_wherever_a_value_can_be_written(validator):
    config = {
        "seed": "${env.SEED}",
        "data": {"batch_size": "${batch}", "shuffle": "${shuffle}"},
        "model": {
            "layers": [{"type": "linear", "units": "${dataset.num_classes}", "repeat": "${n}"}]
        },
        "optimizer": {"type": "adam", "lr": "${lr}", "betas": ["${b1}", 0.999]},
        "train": {"on_nan": "${policy}"},
    }
    assert locations(validator, config) == []


def test_partial_configs_for_extends_validate(validator):
    assert locations(validator, {"extends": "base.yaml", "train": {"epochs": 3}}) == []
    assert locations(validator, {"optimizer": "adam"}) == []


def test_block_names_are_layer_types_only_where_blocks_may_exist(validator):
    use = {"model": {"layers": [{"type": "residual", "units": 8}]}}
    blocks = {"blocks": {"residual": {"params": {"units": None}, "layers": [LAYER]}}}
    assert locations(validator, {**use, **blocks}) == []
    assert locations(validator, {**use, "extends": "with_blocks.yaml"}) == []
    assert locations(validator, use)


def test_component_list_options_list_the_registered_components(validator):
    good = {"train": {"loggers": ["csv", {"type": "tensorboard", "log_dir": "tb"}]}}
    assert locations(validator, good) == []
    assert [p for p, _ in locations(validator, {"train": {"loggers": ["tensorbord"]}})] == [
        ["train", "loggers", 0]
    ]
    assert locations(validator, {"train": {"loggers": [{"type": "mlflow", "uri": "x"}]}})


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (True, True),
        (False, True),
        (None, True),
        ({"every": 5}, True),
        ({}, True),
        ({"every": 0}, False),
        ({"evry": 5}, False),
        ("yes", False),
    ],
)
def test_a_switch_with_settings_takes_a_boolean_or_its_mapping(validator, value, valid):
    assert validator.is_valid({"train": {"diagnose": value}}) == valid


def test_sweep_files_have_their_own_schema(sweep_validator):
    assert locations(sweep_validator, {"base": "a.yaml", "parameters": {}}) == []
    assert [
        p for p, _ in locations(sweep_validator, {"base": "a.yaml", "parameters": {}, "workers": 0})
    ] == [["workers"]]


def test_sections_carry_defaults_descriptions_and_constraints(validator):
    batch_size = validator.schema["properties"]["data"]["properties"]["batch_size"]
    assert batch_size["else"] == {"type": "integer", "minimum": 1}
    assert batch_size["default"] == 32 and batch_size["description"]
    adam = validator.schema["$defs"]["optimizer.adam"]
    assert "params" not in adam["properties"]  # injected by the builder, not a user option


def test_annotation_schema_reads_constraints():
    assert annotation_schema(Annotated[int, Min(1)])["else"] == {"type": "integer", "minimum": 1}
    probability = annotation_schema(Annotated[float, Range(0, 1, open_high=True)])
    assert probability["else"] == {"type": "number", "minimum": 0, "exclusiveMaximum": 1}
    assert annotation_schema(Literal["a", "b"])["else"] == {"enum": ["a", "b"]}
    assert annotation_schema(str) == {"type": "string"}
    assert annotation_schema(list[float])["else"]["items"]["else"] == {"type": "number"}


def test_layer_descriptions_give_the_attention_input_order(validator):
    definitions = validator.schema["$defs"]
    for name, order in [
        ("multihead_attention", "query, key_value, value"),
        ("scaled_dot_product_attention", "query, key, value"),
    ]:
        description = definitions[f"layer.{name}"]["description"]
        assert f"in the order {order}" in " ".join(description.split())


def _samples():
    """(YAML model entries, id) for every registered activation and layer sample."""
    from tests.nn.samples_core import ACTIVATION_SAMPLES
    from tests.nn.test_registry_gradcheck import LAYER_SAMPLES, NOT_STANDALONE

    for name, option_sets in ACTIVATION_SAMPLES.items():
        for i, options in enumerate(option_sets):
            as_option = {"type": "linear", "units": 4, "activation": {"type": name, **options}}
            yield pytest.param([as_option, {"type": name, **options}], id=f"activation-{name}-{i}")
    for name, samples in LAYER_SAMPLES.items():
        for i, sample in enumerate(samples if name not in NOT_STANDALONE else ()):
            yield pytest.param([{"type": name, **sample.kwargs}], id=f"layer-{name}-{i}")


@pytest.mark.parametrize("layers", list(_samples()))
def test_the_schema_accepts_every_registered_activation_and_layer_sample(validator, layers):
    assert locations(validator, {"model": {"layers": layers}}) == []


def test_the_schema_accepts_every_registered_optimizer_metric_and_logger(validator):
    from nnrun.registry import LOGGERS, METRICS
    from tests.optim.samples import EVERY_TERM

    for name, options in EVERY_TERM.items():
        assert locations(validator, {"optimizer": {"type": name, **options}}) == [], name
    assert locations(validator, {"metrics": METRICS.names()}) == []
    assert locations(validator, {"train": {"loggers": LOGGERS.names()}}) == []
