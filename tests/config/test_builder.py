"""The model builder: list, graph and block forms, structural errors at their YAML lines."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun.config.resolve import resolve_config
from nnrun.errors import ConfigError
from nnrun.experiment import build_experiment, resolve

IRIS = """
name: t
data: {dataset: iris, batch_size: 16}
train: {epochs: 1}
"""


def build(write, text):
    path = write("c.yaml", IRIS + text)
    return build_experiment(resolve(path))


def problems(write, text) -> list[str]:
    path = write("c.yaml", IRIS + text)
    with pytest.raises(ConfigError) as error:
        build_experiment(resolve(path))
    return [str(p) for p in error.value.problems]


def test_list_form_names_parameters_like_torch_sequential(write):
    exp = build(
        write,
        """
model:
  layers:
    - {type: linear, units: 8, activation: tanh}
    - {type: linear, units: 3}
""",
    )
    assert list(exp.model.state_dict()) == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
    ]
    assert exp.model.state_dict()["layers.0.weight"].shape == (8, 4)


def test_graph_form_with_residual_and_shared_layer(write):
    exp = build(
        write,
        """
model:
  inputs: [x]
  nodes:
    h1: {type: linear, units: 6, activation: relu, in: x}
    h2: {type: linear, units: 6, in: h1}
    again: {share: h2, in: h2}
    sum: {type: add, in: [h1, again]}
    act: {type: relu, in: sum}
    out: {type: linear, units: 3, in: act}
  output: out
""",
    )
    keys = list(exp.model.state_dict())
    assert keys == ["h1.weight", "h1.bias", "h2.weight", "h2.bias", "out.weight", "out.bias"]
    out = exp.model(exp.data.splits["train"].inputs[:5])
    assert out.shape == (5, 3)


def test_blocks_with_parameters_and_repeat(write):
    exp = build(
        write,
        """
blocks:
  residual:
    params: {width: 8}
    inputs: [x]
    nodes:
      h: {type: linear, units: "${width}", activation: relu, in: x}
      o: {type: linear, units: "${width}", in: h}
      s: {type: add, in: [x, o]}
    output: s
model:
  layers:
    - {type: linear, units: 8}
    - {type: residual, width: 8, repeat: 2}
    - {type: linear, units: 3}
""",
    )
    keys = list(exp.model.state_dict())
    assert "layers.1.0.h.weight" in keys and "layers.1.1.o.bias" in keys
    assert exp.model.state_dict()["layers.1.1.h.weight"].shape == (8, 8)


def test_cycle_is_an_error_naming_the_nodes(write):
    found = problems(
        write,
        """
model:
  inputs: [x]
  nodes:
    a: {type: linear, units: 3, in: b}
    b: {type: linear, units: 3, in: a}
    out: {type: linear, units: 3, in: b}
  output: out
""",
    )
    assert any(("cycle" in p and "a -> b" in p) or "b -> a" in p for p in found)


def test_dangling_reference_is_located_with_a_suggestion(write):
    found = problems(
        write,
        """
model:
  inputs: [x]
  nodes:
    h: {type: linear, units: 3, in: xx}
    out: {type: linear, units: 3, in: h}
  output: out
""",
    )
    assert len(found) == 1  # no echo of "unused" nodes behind the broken reference
    assert "c.yaml:8:" in found[0] and "'xx'" in found[0] and "did you mean 'x'" in found[0]


def test_unused_nodes_and_inputs_are_named(write):
    found = problems(
        write,
        """
model:
  inputs: [x, extra]
  nodes:
    h: {type: linear, units: 3, in: x}
    spare: {type: linear, units: 3, in: x}
    out: {type: linear, units: 3, in: h}
  output: out
""",
    )
    text = "\n".join(found)
    assert "c.yaml:9:" in text and "not used by the output: spare" in text
    assert "input(s) not used by any node: extra" in text


def test_unknown_layer_type_suggests_names_at_its_line(write):
    found = problems(
        write,
        """
model:
  layers:
    - {type: linaer, units: 3}
""",
    )
    assert len(found) == 1 and "c.yaml:7:" in found[0] and "did you mean 'linear'" in found[0]


def test_shape_mismatch_found_by_dry_run_points_at_the_layer(write):
    found = problems(
        write,
        """
model:
  inputs: [x]
  nodes:
    a: {type: linear, units: 5, in: x}
    b: {type: linear, units: 7, in: x}
    s: {type: add, in: [a, b]}
    out: {type: linear, units: 3, in: s}
  output: out
""",
    )
    assert len(found) == 1
    assert "c.yaml:10:" in found[0] and "model.nodes.s" in found[0]
    assert "(2, 5)" in found[0] and "(2, 7)" in found[0]


def test_output_width_must_match_the_classes(write):
    found = problems(
        write,
        """
model:
  layers:
    - {type: linear, units: 4}
""",
    )
    assert "3 classes" in found[0] and "units" in found[0]


def test_every_problem_is_reported_at_once(write):
    found = problems(
        write,
        """
model:
  layers:
    - {type: linear, units: -3x}
    - {type: dropot}
optimizer: {type: adam, lrr: 0.1}
""",
    )
    assert len(found) == 3


def test_init_from_loads_a_prefix_with_renaming_and_freezes(write, tmp_path):
    from nnrun.checkpoint import CheckpointManager

    manager = CheckpointManager(tmp_path / "ck")
    weight = np.full((8, 4), 0.5, dtype=np.float32)
    manager.save(
        "last",
        {
            "encoder.weight": weight,
            "encoder.bias": np.zeros(8, np.float32),
            "head.weight": np.zeros((3, 8), np.float32),
        },
        {"epoch": 1},
    )
    exp = build(
        write,
        f"""
model:
  init_from:
    checkpoint: {tmp_path / "ck" / "last"}
    prefix: encoder.
    rename: {{encoder.: layers.0.}}
    freeze: [layers.0.*]
  layers:
    - {{type: linear, units: 8}}
    - {{type: linear, units: 3}}
""",
    )
    params = dict(exp.model.named_parameters())
    np.testing.assert_array_equal(params["layers.0.weight"].data, weight)
    assert not params["layers.0.weight"].requires_grad
    assert params["layers.1.weight"].requires_grad
    assert exp.frozen == ["layers.0.weight", "layers.0.bias"]


def test_resolved_config_round_trips_through_yaml(write, tmp_path):
    exp = build(
        write,
        """
model:
  layers: [{type: linear, units: 3}]
""",
    )
    saved = tmp_path / "saved.yaml"
    saved.write_text(exp.cfg.to_yaml())
    again = build_experiment(resolve_config(saved))
    assert again.spec == exp.spec and again.cfg.data == exp.cfg.data


def test_layer_sizes_can_refer_to_the_data(write):
    exp = build(
        write,
        """
model:
  layers:
    - {type: linear, units: "${dataset.num_features}"}
    - {type: linear, units: "${dataset.num_classes}"}
""",
    )
    assert exp.model.state_dict()["layers.0.weight"].shape == (4, 4)
    assert exp.model.state_dict()["layers.1.weight"].shape == (3, 4)
    assert "${dataset.num_classes}" in exp.config_text  # the saved config stays general


def test_a_node_cannot_shadow_an_input(write):
    found = problems(
        write,
        """
model:
  inputs: [x]
  nodes:
    x: {type: linear, units: 3, in: x}
  output: x
""",
    )
    assert any("has the name of a model input" in p and "c.yaml:8:" in p for p in found)


def test_a_block_that_uses_itself_is_reported_at_the_use_not_a_recursion_error(write):
    found = problems(
        write,
        """
blocks:
  outer:
    layers: [{type: inner}]
  inner:
    layers: [{type: linear, units: 4}, {type: outer}]
model:
  layers: [{type: outer}, {type: linear, units: 3}]
""",
    )
    assert any("block 'outer' uses itself (outer -> inner -> outer)" in p for p in found), found
    assert all(":" in p.split(" ")[0] for p in found)  # each at file:line:col


def test_a_block_named_like_a_layer_is_reported_at_its_key(write):
    found = problems(
        write,
        """
blocks:
  linear:
    layers: [{type: relu}]
model:
  layers: [{type: linear, units: 3}]
""",
    )
    assert any(":6:3: blocks.linear: block 'linear' shadows the layer type" in p for p in found)


def test_mutual_share_names_both_nodes_instead_of_failing_at_build(write):
    found = problems(
        write,
        """
model:
  inputs: [x]
  nodes:
    a: {share: b, in: x}
    b: {share: a, in: a}
    out: {type: linear, units: 3, in: b}
  output: out
""",
    )
    assert any("nodes share each other in a circle: a -> b -> a" in p for p in found), found


def test_share_across_layer_types_and_options_on_a_sharing_node_are_errors(write):
    found = problems(
        write,
        """
model:
  inputs: [x]
  nodes:
    h: {type: linear, units: 3, in: x}
    again: {type: relu, share: h, in: h}
    more: {share: h, units: 5, in: again}
  output: more
""",
    )
    assert any("model.nodes.again.type: node 'again' shares the layer of 'h'" in p for p in found)
    assert any("model.nodes.more.units: node 'more' shares the layer of 'h'" in p for p in found)


def test_the_model_is_parsed_without_building_and_built_once(write, monkeypatch):
    from nnrun.nn.linear import Linear

    built = []
    original = Linear.__init__

    def counting(self, *args, **kwargs):
        built.append(kwargs.get("units", args[0] if args else None))
        original(self, *args, **kwargs)

    monkeypatch.setattr(Linear, "__init__", counting)
    build(write, "model:\n  layers: [{type: linear, units: 8}, {type: linear, units: 3}]\n")
    assert built == [8, 3]


def test_declared_constraints_of_layers_and_their_activations_are_reported_together(write):
    found = problems(
        write,
        """
model:
  layers:
    - {type: linear, units: 0, activation: {type: hardtanh, min_val: 2, max_val: 1}}
    - {type: dropout, p: 1.5}
    - {type: linear, units: 3, activation: {type: softplus, beta: 0}}
""",
    )
    assert len(found) == 4, found
    assert "model.layers[0].units: layer 'linear': units must be >= 1, got 0" in found[0]
    assert "activation.max_val: activation 'hardtanh': min_val must be below max_val" in found[1]
    assert "model.layers[1].p: layer 'dropout': p must be in [0, 1], got 1.5" in found[2]
    assert "activation.beta: activation 'softplus': beta must not be 0" in found[3]
