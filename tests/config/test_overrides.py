"""`--set path=value` overrides: YAML-typed values, list indices, clear errors."""

from __future__ import annotations

import pytest

from nnrun.config.resolve import resolve_config
from nnrun.errors import ConfigError, Location


@pytest.fixture
def cfg_file(write):
    return write(
        "cfg.yaml",
        """
        optimizer: {type: adam, lr: 0.001}
        model:
          layers:
            - {type: dense, units: 64}
            - {type: dense, units: 10}
        train:
        """,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1e-3", 1e-3),
        ("3e-4", 3e-4),
        ("true", True),
        ("[1,2]", [1, 2]),
        ("{a: 1}", {"a": 1}),
        ("null", None),
        ("hello world", "hello world"),
        ("'007'", "007"),
        ("12", 12),
    ],
)
def test_values_are_parsed_as_yaml(cfg_file, text, expected):
    cfg = resolve_config(cfg_file, [f"optimizer.lr={text}"])
    assert cfg.data["optimizer"]["lr"] == expected
    assert type(cfg.data["optimizer"]["lr"]) is type(expected)


def test_numeric_parts_index_lists_and_location_is_the_override(cfg_file):
    cfg = resolve_config(cfg_file, ["model.layers.0.units=256"])
    assert cfg.data["model"]["layers"][0] == {"type": "dense", "units": 256}
    origin = Location("--set model.layers.0.units=256")
    assert cfg.where(("model", "layers", 0, "units")) == origin
    assert cfg.source(("model", "layers", 0, "units")) == "--set model.layers.0.units=256"
    assert cfg.source(("model", "layers", 0, "type")).startswith("file ")


def test_new_keys_and_sections_are_created(cfg_file):
    cfg = resolve_config(cfg_file, ["train.epochs=3", "data.loader.workers=2"])
    assert cfg.data["train"] == {"epochs": 3}
    assert cfg.data["data"] == {"loader": {"workers": 2}}
    assert cfg.where(("data", "loader")) == Location("--set data.loader.workers=2")


def test_replacing_a_subtree_forgets_its_old_locations(cfg_file):
    cfg = resolve_config(cfg_file, ["optimizer={type: sgd, lr: 0.1}"])
    assert cfg.data["optimizer"] == {"type": "sgd", "lr": 0.1}
    assert cfg.where(("optimizer", "lr")) == Location("--set optimizer={type: sgd, lr: 0.1}")


def test_later_overrides_win_and_delete_works(cfg_file):
    cfg = resolve_config(cfg_file, ["optimizer.lr=1", "optimizer.lr=2", "train=!delete"])
    assert cfg.data["optimizer"]["lr"] == 2
    assert "train" not in cfg.data


def test_out_of_range_index_is_a_clear_error(cfg_file):
    with pytest.raises(ConfigError) as info:
        resolve_config(cfg_file, ["model.layers.5.units=1"])
    message = str(info.value)
    assert message.startswith("--set model.layers.5.units=1: ")
    assert "model.layers has 2 item(s); index 5 is out of range" in message
    assert "0 to 1" in message


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("optimizer.lr", "malformed override"),
        ("=3", "malformed override"),
        ("a..b=1", "malformed override"),
        ("model.layers.first.units=1", "index it with a number"),
        ("optimizer.lr.x=1", "optimizer.lr is not a mapping or list"),
        ("optimizer.lr=[1, 2", "invalid YAML"),
        ("extends=other.yaml", "extends cannot be overridden"),
    ],
)
def test_bad_overrides_name_the_override(cfg_file, override, fragment):
    with pytest.raises(ConfigError) as info:
        resolve_config(cfg_file, [override])
    assert str(info.value).startswith(f"--set {override}")
    assert fragment in str(info.value)


def test_all_bad_overrides_are_reported_together(cfg_file):
    with pytest.raises(ConfigError) as info:
        resolve_config(cfg_file, ["nope", "model.layers.9=1", "optimizer.lr=ok"])
    assert len(info.value.problems) == 2


def test_overrides_apply_before_interpolation(write):
    path = write("cfg.yaml", "data: {batch_size: 32}\ntrain: {bs: '${data.batch_size}'}\n")
    cfg = resolve_config(path, ["data.batch_size=64"])
    assert cfg.data["train"]["bs"] == 64


def test_delete_nested_in_an_override_value_is_refused(cfg_file):
    with pytest.raises(ConfigError, match="!delete inside an override value"):
        resolve_config(cfg_file, ["optimizer={lr: {x: !delete }}"])
