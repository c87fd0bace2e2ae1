"""YAML loading: plain data, exact 1-based locations, and errors that say where."""

from __future__ import annotations

import pytest

from nnrun.config.loader import DELETE, load_file, parse_text
from nnrun.errors import ConfigError, Location

TEXT = """\
name: demo
model:
  layers:
    - type: dense
      units: 64
    - {type: dropout, p: 0.5}
data:
  columns: [a, b]
"""


def test_nested_keys_and_list_items_have_exact_line_and_column():
    doc = parse_text(TEXT, "cfg.yaml")
    assert doc.keys[("model", "layers", 0, "units")] == Location("cfg.yaml", 5, 7)
    assert doc.values[("model", "layers", 0, "units")] == Location("cfg.yaml", 5, 14)
    assert doc.values[("model", "layers", 0)] == Location("cfg.yaml", 4, 7)
    assert doc.keys[("model", "layers", 1, "p")] == Location("cfg.yaml", 6, 23)
    assert doc.values[("model", "layers", 1, "p")] == Location("cfg.yaml", 6, 26)
    assert doc.values[("data", "columns", 1)] == Location("cfg.yaml", 8, 16)
    assert doc.keys[("name",)] == Location("cfg.yaml", 1, 1)


def test_loads_plain_python_data():
    doc = parse_text(TEXT + "when: 2024-01-02\non: yes\n1: x\nnothing:\n", "cfg.yaml")
    assert doc.data["model"]["layers"][1] == {"type": "dropout", "p": 0.5}
    assert doc.data["when"] == "2024-01-02"  # dates stay text
    assert doc.data["on"] is True  # the key keeps its text; the value is YAML-typed
    assert doc.data["1"] == "x"
    assert doc.data["nothing"] is None


def test_duplicate_key_is_an_error_at_the_second_occurrence():
    with pytest.raises(ConfigError) as info:
        parse_text("a: 1\nb:\n  c: 1\n  c: 2\n", "dup.yaml")
    (problem,) = info.value.problems
    assert problem.location == Location("dup.yaml", 4, 3)
    assert problem.path == "b.c"
    assert "duplicate key 'c'" in str(info.value) and "line 3" in str(info.value)


def test_malformed_yaml_reports_the_parser_position():
    with pytest.raises(ConfigError) as info:
        parse_text("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml")
    message = str(info.value)
    assert message.startswith("bad.yaml:3:2: invalid YAML:")


def test_tab_indentation_reports_position():
    with pytest.raises(ConfigError, match=r"^tab\.yaml:2:1: invalid YAML"):
        parse_text("a:\n\tb: 1\n", "tab.yaml")


def test_missing_file_names_the_path(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="config file not found") as info:
        load_file(missing)
    assert str(missing) in str(info.value)


def test_non_utf8_file_is_a_config_error(tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_file(path)


def test_delete_tag_marks_a_key_and_is_refused_elsewhere():
    assert parse_text("schedule: !delete\n", "f.yaml").data == {"schedule": DELETE}
    with pytest.raises(ConfigError, match=r"f\.yaml:2:5: a\[0\]: .*lists are replaced whole"):
        parse_text("a:\n  - !delete\n", "f.yaml")
    with pytest.raises(ConfigError, match="takes no value"):
        parse_text("a: !delete yes\n", "f.yaml")


def test_unsupported_tags_are_errors_with_location():
    with pytest.raises(ConfigError, match=r"f\.yaml:2:4: b: unsupported YAML tag"):
        parse_text("a: 1\nb: !!binary aGVsbG8=\n", "f.yaml")
    with pytest.raises(ConfigError, match="unsupported YAML tag"):
        parse_text("a: !!python/object:os.system {}\n", "f.yaml")


def test_merge_keys_apply_and_own_keys_win():
    doc = parse_text("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n", "f.yaml")
    assert doc.data["derived"] == {"x": 1, "y": 3}
    assert doc.values[("derived", "y")] == Location("f.yaml", 4, 6)
    assert doc.values[("derived", "x")] == Location("f.yaml", 1, 14)


def test_recursive_alias_is_an_error_not_a_hang():
    with pytest.raises(ConfigError, match="contains it"):
        parse_text("a: &x [*x]\n", "f.yaml")


def test_alias_bomb_is_refused():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 7)]
    with pytest.raises(ConfigError, match="too large"):
        parse_text("\n".join(lines) + "\n", "bomb.yaml")


def test_huge_integer_is_a_config_error():
    with pytest.raises(ConfigError, match="invalid number"):
        parse_text("a: " + "9" * 5000 + "\n", "f.yaml")


def test_deep_nesting_is_a_config_error():
    with pytest.raises(ConfigError, match=r"nested too deeply|invalid YAML"):
        parse_text("[" * 1500, "f.yaml")


def test_empty_text_is_none():
    assert parse_text("", "f.yaml").data is None
