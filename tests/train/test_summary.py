"""What validate/graph show: the graph view for list, graph and block forms, the summary."""

from __future__ import annotations

import io
import textwrap

from rich.console import Console

from nnrun.experiment import build_experiment, resolve
from nnrun.train.summary import render_graph, render_model_summary

HEAD = """
name: view
data: {dataset: iris}
"""

FORMS = {
    "list": """
model:
  layers:
    - {type: linear, units: 8, activation: relu}
    - {type: linear, units: 3}
""",
    "graph": """
model:
  inputs: [x]
  nodes:
    h1: {type: linear, units: 8, activation: relu, in: x}
    h2: {type: linear, units: 8, in: h1}
    sum: {type: add, in: [h1, h2]}
    out: {type: linear, units: 3, in: sum}
  output: out
""",
    "block": """
blocks:
  residual:
    params: {width: 8}
    inputs: [x]
    nodes:
      h: {type: linear, units: "${width}", activation: relu, in: x}
      s: {type: add, in: [x, h]}
    output: s
model:
  layers:
    - {type: linear, units: 8}
    - {type: residual, repeat: 2}
    - {type: linear, units: 3}
""",
}

EXPECTED_EDGES = {
    "list": [("input", "layers.0"), ("layers.0", "layers.1")],
    "graph": [("x", "h1"), ("h1", "h2"), ("h1", "sum"), ("h2", "sum"), ("sum", "out")],
    "block": [("input", "layers.0"), ("layers.0", "layers.1"), ("layers.1", "layers.2")],
}


def experiment(tmp_path, form):
    path = tmp_path / f"{form}.yaml"
    path.write_text(textwrap.dedent(HEAD + FORMS[form]))
    return build_experiment(resolve(path))


def test_graph_view_edges_for_every_form(tmp_path):
    for form, edges in EXPECTED_EDGES.items():
        assert experiment(tmp_path, form).view.edges == edges, form


def test_dot_and_mermaid_carry_types_shapes_and_parameters(tmp_path):
    exp = experiment(tmp_path, "graph")
    dot = render_graph(exp, "dot", None)
    assert '"h1" -> "h2";' in dot and "(N, 8)" in dot and "72 params" in dot
    mermaid = render_graph(exp, "mermaid", None)
    assert mermaid.startswith("flowchart TD") and "sum<br/>add<br/>(N, 8)" in mermaid
    block = render_graph(experiment(tmp_path, "block"), "text", None, expand=False)
    assert "residual ×2" in block and "144" in block


def test_model_summary_lists_layers_shapes_and_totals(tmp_path):
    out = io.StringIO()
    render_model_summary(experiment(tmp_path, "list"), Console(file=out, width=120))
    text = out.getvalue()
    assert "layers.1" in text and "(N, 3)" in text and "parameters: 67" in text
