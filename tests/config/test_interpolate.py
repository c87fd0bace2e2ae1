"""``${...}`` references: typed, textual, nested, escaped; unknown targets and cycles."""

from __future__ import annotations

import pytest

from nnrun.config.resolve import resolve_config
from nnrun.errors import ConfigError, Location


def resolve_text(write, text: str):
    return resolve_config(write("cfg.yaml", text))


def test_exact_reference_keeps_the_type(write):
    cfg = resolve_text(
        write,
        """
        data: {batch_size: 32, sizes: [1, 2], flag: true, rate: 1e-3}
        train:
          bs: ${data.batch_size}
          sizes: ${data.sizes}
          flag: ${data.flag}
          rate: ${data.rate}
          whole: ${data}
        """,
    )
    train = cfg.data["train"]
    assert train["bs"] == 32 and type(train["bs"]) is int
    assert train["sizes"] == [1, 2]
    assert train["flag"] is True
    assert train["rate"] == 1e-3
    assert train["whole"] == cfg.data["data"]
    assert train["whole"] is not cfg.data["data"]  # copied, not shared


def test_reference_inside_text_is_substituted_as_text(write):
    cfg = resolve_text(
        write,
        """
        name: run_${optimizer.lr}_${data.shuffle}_${data.none}
        output_dir: outputs/${name}
        optimizer: {lr: 0.01}
        data: {shuffle: false, none: null}
        """,
    )
    assert cfg.data["name"] == "run_0.01_false_null"
    assert cfg.data["output_dir"] == "outputs/run_0.01_false_null"


def test_list_indices_and_nested_references(write):
    cfg = resolve_text(
        write,
        """
        model:
          layers: [{units: '${sizes.hidden}'}, {units: 10}]
        sizes: {hidden: '${sizes.base}', base: 64}
        head: ${model.layers.0.units}
        tail: ${model.layers[1].units}
        """,
    )
    assert cfg.data["head"] == 64
    assert cfg.data["tail"] == 10
    assert cfg.data["model"]["layers"][0]["units"] == 64


def test_reference_into_a_value_that_is_itself_a_reference(write):
    cfg = resolve_text(write, "a: ${b}\nb: {c: 5}\nd: ${a.c}\n")
    assert cfg.data == {"a": {"c": 5}, "b": {"c": 5}, "d": 5}


def test_escaped_reference_stays_literal(write):
    cfg = resolve_text(write, "a: 1\npattern: 'x\\${a}y'\n")
    assert cfg.data["pattern"] == "x${a}y"


def test_unknown_target_points_at_the_referencing_key(write):
    with pytest.raises(ConfigError) as info:
        resolve_text(write, "data:\n  batch_size: 32\ntrain:\n  bs: ${data.bach_size}\n")
    (problem,) = info.value.problems
    assert problem.location.line == 4 and problem.location.column == 7
    assert problem.path == "train.bs"
    assert "unknown reference ${data.bach_size}" in problem.message
    assert "did you mean 'batch_size'" in problem.message


def test_index_out_of_range_and_stepping_into_a_scalar(write):
    with pytest.raises(ConfigError, match=r"model\.layers has 1 item\(s\), no index 3"):
        resolve_text(write, "model: {layers: [1]}\nx: ${model.layers.3}\n")
    with pytest.raises(ConfigError, match=r"a is int 1, which has no 'b'"):
        resolve_text(write, "a: 1\nx: ${a.b}\n")


def test_cycle_is_an_error_at_a_referencing_key(write):
    with pytest.raises(ConfigError) as info:
        resolve_text(write, "a: ${b}\nb: ${c}\nc: ${a}\n")
    (problem,) = info.value.problems
    assert "reference cycle: a -> b -> c -> a" in problem.message
    assert problem.location.file.endswith("cfg.yaml") and problem.location.line == 3


def test_a_mapping_that_refers_to_itself_is_a_cycle(write):
    with pytest.raises(ConfigError, match="reference cycle"):
        resolve_text(write, "a:\n  b: ${a}\n")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("'${}'", "malformed reference"),
        ("'${a..b}'", "malformed reference"),
        ("'x${a'", "unclosed reference"),
        ("'x ${m}'", "cannot be inserted into text"),
    ],
)
def test_malformed_references(write, value, fragment):
    with pytest.raises(ConfigError, match=fragment) as info:
        resolve_text(write, f"a: 1\nm: {{k: 1}}\nbad: {value}\n")
    assert info.value.problems[0].location == Location(info.value.problems[0].location.file, 3, 6)


def test_provenance_mentions_the_reference(write):
    cfg = resolve_text(write, "a: 1\nb: ${a}\n")
    assert cfg.source(("b",)).endswith("cfg.yaml:2 via ${a}")
