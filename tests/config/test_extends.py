"""`extends:` composition: deep merge, list replacement, !delete, chains, cycles."""

from __future__ import annotations

import pytest

from nnrun.config.resolve import resolve_config
from nnrun.errors import ConfigError, Location


@pytest.fixture
def base(write):
    return write(
        "configs/base.yaml",
        """
        seed: 1
        data:
          path: data/train.csv
          batch_size: 32
        model:
          layers: [{type: dense, units: 64}, {type: dense, units: 10}]
        schedule: {type: step, step_size: 10}
        """,
    )


def test_child_merges_mappings_and_replaces_lists(write, base):
    child = write(
        "configs/child.yaml",
        """
        extends: base.yaml
        data:
          batch_size: 128
        model:
          layers: [{type: dense, units: 5}]
        schedule: !delete
        """,
    )
    cfg = resolve_config(child)
    assert cfg.data == {
        "seed": 1,
        "data": {"path": "data/train.csv", "batch_size": 128},
        "model": {"layers": [{"type": "dense", "units": 5}]},
    }
    assert "extends" not in cfg.data


def test_each_value_points_into_the_file_it_came_from(write, base):
    child = write("configs/child.yaml", "extends: base.yaml\ndata:\n  batch_size: 128\n")
    cfg = resolve_config(child)
    assert cfg.where(("data", "batch_size")) == Location(str(child), 3, 15)
    assert cfg.where(("data", "path")) == Location(str(base), 3, 9)
    assert cfg.where_key(("data", "path")) == Location(str(base), 3, 3)
    assert cfg.source(("data", "batch_size")) == f"file {child}:3"
    assert cfg.source(("data", "path")) == f"extends {base}:3"


def test_delete_inside_a_nested_mapping_and_of_a_missing_key(write, base):
    child = write(
        "configs/child.yaml",
        "extends: base.yaml\ndata:\n  batch_size: !delete\nnever_there: !delete\n",
    )
    cfg = resolve_config(child)
    assert cfg.data["data"] == {"path": "data/train.csv"}
    assert "never_there" not in cfg.data
    assert cfg.where(("data", "batch_size")) == cfg.where(("data",))


def test_chain_and_list_of_bases_merge_in_order(write, base):
    write("configs/mid.yaml", "extends: base.yaml\nseed: 2\ndata: {batch_size: 64}\n")
    write("configs/extra/fast.yaml", "seed: 3\ntrain: {epochs: 1}\n")
    top = write("configs/top.yaml", "extends: [mid.yaml, extra/fast.yaml]\nname: top\n")
    cfg = resolve_config(top)
    assert cfg.data["seed"] == 3  # later bases win over earlier ones
    assert cfg.data["data"]["batch_size"] == 64
    assert cfg.data["train"] == {"epochs": 1}
    assert cfg.data["name"] == "top"
    assert cfg.source(("seed",)).startswith("extends ") and "fast.yaml:1" in cfg.source(("seed",))


def test_cycle_is_an_error_naming_the_files(write):
    write("a.yaml", "extends: b.yaml\nseed: 1\n")
    b = write("b.yaml", "seed: 2\nextends: a.yaml\n")
    with pytest.raises(ConfigError) as info:
        resolve_config(b)
    message = str(info.value)
    assert "extends cycle" in message
    assert "a.yaml" in message and "b.yaml" in message
    assert info.value.problems[0].location.line == 1  # at a.yaml's `extends: b.yaml`


def test_self_extension_is_a_cycle(write):
    me = write("me.yaml", "extends: me.yaml\n")
    with pytest.raises(ConfigError, match="extends cycle"):
        resolve_config(me)


def test_missing_base_file_points_at_the_extends_line(write):
    child = write("child.yaml", "seed: 1\nextends: [nope.yaml]\n")
    with pytest.raises(ConfigError) as info:
        resolve_config(child)
    (problem,) = info.value.problems
    assert problem.location == Location(str(child), 2, 11)
    assert "nope.yaml" in problem.found


def test_extends_must_be_a_path(write):
    child = write("child.yaml", "extends: {file: x}\n")
    with pytest.raises(ConfigError, match="extends must name"):
        resolve_config(child)


def test_base_that_is_not_a_mapping_is_an_error(write):
    write("list.yaml", "- 1\n- 2\n")
    child = write("child.yaml", "extends: list.yaml\n")
    with pytest.raises(ConfigError, match=r"list\.yaml:1:1: a config file must be a mapping"):
        resolve_config(child)
