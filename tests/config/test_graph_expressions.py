"""Expression nodes, learned tensors and selected outputs in the graph form: binding,
checkpoint names, freeze/init_from, and mistakes reported at their YAML line and column."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from nnrun.checkpoint import load_checkpoint
from nnrun.cli import app
from nnrun.config.builder import build_model
from nnrun.config.resolve import resolve_config
from nnrun.errors import ConfigError
from nnrun.experiment import build_experiment, resolve
from nnrun.nn.expression import FUNCTIONS

IRIS = """
name: t
data: {dataset: iris, batch_size: 16}
train: {epochs: 1}
"""
QUADRATIC = """
model:
  inputs: [x]
  nodes:
    A: {type: parameter, shape: [4, 4], init: zeros}
    b: {type: parameter, shape: [4, 3]}
    c: {type: constant, value: [0.5, 0.5, 0.5]}
    q: {type: expr, in: x, expr: "sum(x * (x @ A), keepdims=True) + x @ b + c"}
  output: q
"""


def build(write, text):
    return build_experiment(resolve(write("c.yaml", IRIS + text)))


def problems(write, text) -> list[str]:
    with pytest.raises(ConfigError) as error:
        build(write, text)
    return [str(p) for p in error.value.problems]


def test_learned_tensors_are_checkpointed_under_their_node_names(write):
    exp = build(write, QUADRATIC)
    state = exp.model.state_dict()
    assert sorted(state) == ["A", "b", "c"]
    assert state["A"].shape == (4, 4) and state["c"].tolist() == [0.5, 0.5, 0.5]
    assert exp.model.num_parameters() == 16 + 12 + 3
    assert exp.model.num_parameters(trainable_only=True) == 16 + 12  # the constant is frozen
    records = {r.label: r for r in exp.trace}
    assert records["A"].parameters == 16 and not records["A"].batched


def test_expression_reads_learned_tensors_without_listing_them(write):
    exp = build(write, QUADRATIC)
    assert exp.view.edges.count(("A", "q")) == 1 and ("c", "q") in exp.view.edges
    x = exp.data.splits["train"].inputs[:5]
    b = exp.model.b.data
    np.testing.assert_allclose(exp.model(x).data, x @ b + 0.5, rtol=1e-5)  # A starts at 0


def test_gradients_reach_learned_tensors_through_the_expression(write):
    exp = build(write, QUADRATIC)
    model = exp.model.to(np.float64)
    x = exp.data.splits["train"].inputs[:5].astype(np.float64)
    model(x).sum().backward()
    np.testing.assert_allclose(model.b.grad, np.repeat(x.sum(0)[:, None], 3, axis=1))
    np.testing.assert_allclose(model.A.grad, 3 * x.T @ x)
    assert model.c.grad is None


def test_freeze_and_init_from_address_learned_tensors_by_name(write, tmp_path):
    runner = CliRunner()
    config = write("c.yaml", IRIS + QUADRATIC)
    first = tmp_path / "first"
    result = runner.invoke(app, ["train", str(config), "--out", str(first), "-q"])
    assert result.exit_code == 0, result.output
    trained = load_checkpoint(first / "checkpoints" / "last").weights
    assert set(trained) == {"A", "b", "c"}
    again = QUADRATIC.replace(
        "  output: q",
        f"  output: q\n  init_from: {{checkpoint: {first}, freeze: [A]}}",
    )
    exp = build(write, again)
    np.testing.assert_array_equal(exp.model.A.data, trained["A"])
    assert exp.frozen == ["A"] and not exp.model.A.requires_grad


def test_graph_view_shows_the_expression(write):
    exp = build(write, QUADRATIC)
    kinds = {name: kind for name, kind, _ in exp.view.nodes}
    assert kinds["q"] == "expr: sum(x * (x @ A), keepdims=True) + x @ b + c"
    assert kinds["A"] == "parameter"


def test_two_named_inputs_and_the_mapping_form(write):
    exp = build(
        write,
        """
model:
  inputs: [x]
  nodes:
    h: {type: linear, units: 3, in: x}
    g: {type: linear, units: 3, in: x}
    both: {type: expr, in: [h, g], expr: "h * sigmoid(g)"}
    renamed: {type: expr, in: {a: both, b: h}, expr: "a - b"}
  output: renamed
""",
    )
    x = exp.data.splits["train"].inputs[:4]
    h, g = exp.model.h(x).data, exp.model.g(x).data
    np.testing.assert_allclose(exp.model(x).data, h / (1 + np.exp(-g)) - h, rtol=1e-5)


def test_unknown_function_points_into_the_expression(write):
    found = problems(
        write,
        """
model:
  inputs: [x]
  nodes:
    out: {type: expr, in: x, expr: "x * lg(x)"}
  output: out
""",
    )
    # line 8; the value starts at column 36 with its quote, so 'lg' is at 36 + 1 + 4
    assert len(found) == 1
    assert found[0].endswith(
        "c.yaml:8:41: model.nodes.out.expr: unknown function 'lg' — did you mean 'log'?; "
        "expected one of " + ", ".join(FUNCTIONS)
    )


def test_a_name_that_is_not_an_input_is_located_with_a_suggestion(write):
    found = problems(
        write,
        """
model:
  inputs: [x]
  nodes:
    h: {type: linear, units: 3, in: x}
    out:
      type: expr
      in: [h]
      expr: h + hh * z
  output: out
""",
    )
    assert any(
        "c.yaml:12:17:" in p and "name 'hh' is not an input of this node — did you mean 'h'?" in p
        for p in found
    ), found
    assert any("c.yaml:12:22:" in p and "name 'z' is not an input" in p for p in found), found


def test_block_scalar_expressions_are_located_on_their_own_line(write):
    found = problems(
        write,
        """
model:
  inputs: [x]
  nodes:
    out:
      type: expr
      in: x
      expr: |
        x * 2 +
          oops(x)
  output: out
""",
    )
    assert any("c.yaml:13:11:" in p and "unknown function 'oops'" in p for p in found), found


def test_unused_inputs_and_inputs_of_learned_tensors_are_errors(write):
    found = problems(
        write,
        """
model:
  inputs: [x]
  nodes:
    A: {type: parameter, shape: [4], in: x}
    h: {type: linear, units: 4, in: x}
    out: {type: expr, in: [x, h], expr: "x * A"}
  output: out
""",
    )
    assert any("node 'A' (parameter) takes no inputs" in p for p in found), found
    assert any("input 'h' is not used by the expression" in p for p in found), found


def test_a_selected_output_must_exist(write):
    found = problems(
        write,
        """
model:
  inputs: [x]
  nodes:
    h: {type: linear, units: 4, in: x}
    out: {type: expr, in: h.weights, expr: "x"}
  output: out
""",
    )
    assert any("'h' has no output 'weights'" in p and "c.yaml:9:" in p for p in found), found


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=30))
def test_any_expression_text_builds_or_fails_with_located_config_errors(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "c.yaml"
    path.write_text(
        "model:\n  inputs: [x]\n  nodes:\n    out: {type: expr, in: x, expr: "
        + json.dumps(text)
        + "}\n  output: out\n"
    )
    try:
        cfg = resolve_config(path)
    except ConfigError:
        return  # text YAML itself cannot hold (e.g. a lone surrogate)
    try:
        build_model(cfg)
    except ConfigError as error:
        assert all(p.location is not None and p.location.line == 4 for p in error.problems)


def test_states_and_attention_weights_are_selected_as_node_outputs(write):
    exp = build(
        write,
        """
model:
  inputs: [x]
  nodes:
    seq: {type: reshape, shape: [4, 1], in: x}
    start: {type: linear, units: 3, in: x}
    start3: {type: reshape, shape: [1, 3], in: start}
    h0: {type: transpose, dim0: 0, dim1: 1, in: start3}     # (1, N, 3), torch's layout
    rnn: {type: lstm, hidden_size: 3, return_state: true, in: {x: seq, h0: h0}}
    cell: {type: transpose, dim0: 0, dim1: 1, in: rnn.c_n}
    flat: {type: flatten, in: cell}
    att: {type: multihead_attention, num_heads: 1, return_weights: true, in: rnn}
    mix: {type: expr, in: {w: att.weights, o: att}, expr: "sum(w) + sum(o)"}
    both: {type: concat, in: [flat, mix]}
    out: {type: linear, units: 3, in: both}
  output: out
""",
    )
    assert ("rnn", "cell") in exp.view.edges and ("att", "mix") in exp.view.edges
    x = exp.data.splits["train"].inputs[:5]
    out = exp.model(x)
    assert out.shape == (5, 3)
    out.sum().backward()
    assert exp.model.start.weight.grad is not None  # through h0 into the recurrence
    assert np.abs(exp.model.start.weight.grad).sum() > 0


def test_an_expression_of_learned_tensors_only_needs_no_inputs(write):
    exp = build(
        write,
        """
model:
  inputs: [x]
  nodes:
    A: {type: parameter, shape: [4, 3]}
    sym: {type: expr, expr: "transpose(A) @ A"}
    out: {type: expr, in: [x, sym], expr: "x @ A @ sym"}
  output: out
""",
    )
    a = exp.model.A.data
    x = exp.data.splits["train"].inputs[:2]
    np.testing.assert_allclose(exp.model(x).data, x @ a @ (a.T @ a), rtol=1e-4)
    records = {r.label: r for r in exp.trace}
    assert records["sym"].output_shape == (3, 3)
