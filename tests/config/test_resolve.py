"""ResolvedConfig: where/source/explain, YAML round trip, re-loading a saved dict."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnrun.config.resolve import load_resolved_dict, resolve_config
from nnrun.errors import ConfigError, Location


def test_where_falls_back_to_the_nearest_known_ancestor(write):
    path = write("cfg.yaml", "model:\n  layers:\n    - {type: dense}\n")
    cfg = resolve_config(path)
    assert cfg.where(("model", "layers", 0, "units")) == Location(str(path), 3, 7)
    assert cfg.where(("nothing", "here")) == Location(str(path), 1, 1)


def test_explain_lists_every_leaf_with_its_source(write):
    base = write("base.yaml", "data: {batch_size: 32, path: x.csv}\ntags: []\n")
    child = write("child.yaml", "extends: base.yaml\ndata: {batch_size: 64}\n")
    cfg = resolve_config(child, ["seed=3"])
    assert cfg.explain() == [
        ("data.batch_size", 64, f"file {child}:2"),
        ("data.path", "x.csv", f"extends {base}:1"),
        ("tags", [], f"extends {base}:2"),
        ("seed", 3, "--set seed=3"),
    ]


def test_to_yaml_round_trips(write, tmp_path):
    path = write(
        "cfg.yaml",
        """
        name: run_${optimizer.lr}
        optimizer: {lr: 3e-4, betas: [0.9, 0.99]}
        literal: '\\${not_a_ref} \\\\${also_not}'
        when: 2024-01-01
        flags: {yes_str: 'yes', on: true, none: null, empty: {}, '1': one}
        """,
    )
    cfg = resolve_config(path)
    saved = tmp_path / "saved.yaml"
    saved.write_text(cfg.to_yaml())
    again = resolve_config(saved)
    assert again.data == cfg.data
    assert cfg.data["literal"] == "${not_a_ref} \\${also_not}"


def test_load_resolved_dict_uses_the_origin_as_location():
    cfg = load_resolved_dict({"data": {"batch_size": 3}}, "runs/x/config.yaml")
    assert cfg.where(("data", "batch_size")) == Location("runs/x/config.yaml")
    assert cfg.source(("data", "batch_size")) == "runs/x/config.yaml"
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_resolved_dict([1, 2], "runs/x/config.yaml")


_keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
)
_plain = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=20,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.dictionaries(_keys.filter(lambda k: k != "extends"), _plain, max_size=5))
def test_any_plain_config_round_trips_through_to_yaml(tmp_path, data):
    """Whatever a run saves (strings with '${', odd keys, big ints) reads back identically."""
    cfg = load_resolved_dict(data, "saved")
    path = tmp_path / "saved.yaml"
    path.write_text(cfg.to_yaml(), encoding="utf-8")
    again = resolve_config(path).data
    assert again == data or _same_with_nan(again, data)


def _same_with_nan(left, right) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return left == right or (math.isnan(left) and math.isnan(right))
    return left == right
