"""Recursive and inconsistent model definitions are config errors at their YAML line, never
a RecursionError or KeyError (issue 12, root cause 5)."""

from __future__ import annotations

import pytest

from nnrun.errors import ConfigError
from nnrun.experiment import build_experiment, resolve

IRIS = """
name: t
data: {dataset: iris, batch_size: 16}
train: {epochs: 1}
"""


def problems(write, text) -> list[str]:
    path = write("c.yaml", IRIS + text)
    with pytest.raises(ConfigError) as error:
        build_experiment(resolve(path))
    return [str(p) for p in error.value.problems]


def test_a_block_that_uses_itself_is_reported_at_its_line(write):
    found = problems(
        write,
        """
blocks:
  loop:
    layers: [{type: linear, units: 4}, {type: loop}]
model:
  layers: [{type: loop}, {type: linear, units: 3}]
""",
    )
    assert any("c.yaml:7:" in p and "uses itself (loop -> loop)" in p for p in found)


def test_blocks_using_each_other_are_reported(write):
    found = problems(
        write,
        """
blocks:
  a: {layers: [{type: b}]}
  b: {layers: [{type: a}]}
model:
  layers: [{type: a}, {type: linear, units: 3}]
""",
    )
    assert any("a -> b -> a" in p for p in found)


def test_a_block_named_like_a_layer_it_uses_is_reported_not_recursed(write):
    found = problems(
        write,
        """
blocks:
  linear: {layers: [{type: linear, units: 3}]}
model:
  layers: [{type: linear}]
""",
    )
    assert any("shadows the layer type 'linear'" in p for p in found)


GRAPH = """
model:
  inputs: [x]
  nodes:
    h: {{type: linear, units: 3, in: x}}
{extra}
  output: {output}
"""


def test_nodes_sharing_each_other_in_a_circle_are_reported(write):
    extra = "    a: {share: b, in: h}\n    b: {share: a, in: a}"
    found = problems(write, GRAPH.format(extra=extra, output="b"))
    assert any("c.yaml:9:" in p and "in a circle: a -> b -> a" in p for p in found)


def test_sharing_a_layer_of_another_type_is_reported(write):
    extra = "    c: {type: conv1d, share: h, in: h}"
    found = problems(write, GRAPH.format(extra=extra, output="c"))
    assert any("c.yaml:9:" in p and "a 'linear', but says type 'conv1d'" in p for p in found)


def test_a_share_chain_reaches_the_layer_at_its_end(write):
    path = write(
        "c.yaml",
        IRIS
        + """
model:
  inputs: [x]
  nodes:
    h: {type: linear, units: 4, in: x}
    a: {share: h, in: h}
    b: {type: dense, share: a, in: a}
    o: {type: linear, units: 3, in: b}
  output: o
""",
    )
    exp = build_experiment(resolve(path))
    assert sorted(exp.model.state_dict()) == ["h.bias", "h.weight", "o.bias", "o.weight"]
