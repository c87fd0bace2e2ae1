"""Export details beyond the layer families: opsets, missing-value fill, shared weights,
refusals, and the converter registry's coverage of every layer."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun.errors import ExportError
from tests.export.helpers import assert_exports_like_predict, experiment, export_model, run_onnx

STATISTICS = """
    data: {dataset: digits, reshape: [4, 16], split: {val: 0.1, test: 0.2}, normalize: standard}
    model:
      layers:
        - {type: group_norm, num_groups: 2}
        - {type: layer_norm}
        - {type: batch_norm1d, track_running_stats: false}
        - {type: global_avg_pool}
        - {type: linear, units: 10}
"""


@pytest.mark.parametrize("opset", [17, 18, 21])
def test_reductions_follow_the_opset(tmp_path, opset):
    model = assert_exports_like_predict(experiment(tmp_path, STATISTICS), opset=opset)
    assert model.opset_import[0].version == opset


def test_unsupported_opset_is_refused(tmp_path):
    exp = experiment(tmp_path, STATISTICS)
    with pytest.raises(ExportError, match="--opset 16"):
        export_model(exp, exp.data.preprocessor, 16)


def test_missing_values_are_filled_with_the_training_means_inside_the_graph(tmp_path):
    exp = experiment(
        tmp_path,
        """
        data: {dataset: diabetes, on_missing: fill, normalize: standard}
        model: [{type: linear, units: 4, activation: relu}, {type: linear, units: 1}]
        """,
    )
    pre = exp.data.preprocessor
    raw = (pre.shift + pre.scale * np.random.default_rng(2).standard_normal((5, 10))).astype(
        np.float32
    )
    raw[0, 3] = raw[2, 0] = raw[4, 9] = np.nan
    assert_exports_like_predict(exp, raw=raw)


def test_regression_outputs_are_in_the_targets_units(tmp_path):
    exp = experiment(
        tmp_path,
        """
        data: {dataset: diabetes, normalize: standard}
        model:
          - {type: linear, units: 1, bias_init: {type: constant, value: 150.0}}
        """,
    )
    model = assert_exports_like_predict(exp)
    assert model.graph.output[0].name == "outputs"
    assert run_onnx(model, np.zeros((1, 10), np.float32)).mean() > 50


def test_shared_weights_are_stored_once(tmp_path):
    exp = experiment(
        tmp_path,
        """
        data: {dataset: digits, normalize: standard}
        model:
          inputs: [x]
          nodes:
            a: {type: linear, units: 64, in: x}
            b: {share: a, in: a}
            c: {share: a, in: b}
            out: {type: linear, units: 10, in: c}
          output: out
        """,
    )
    model = assert_exports_like_predict(exp)
    names = sorted(init.name for init in model.graph.initializer if init.name.startswith("a."))
    assert names == ["a.bias", "a.weight"]


def test_classifier_metadata_lists_the_classes(tmp_path):
    exp = experiment(tmp_path, "data: {dataset: iris}\nmodel: [{type: linear, units: 3}]\n")
    model = assert_exports_like_predict(exp)
    props = {p.key: p.value for p in model.metadata_props}
    assert props["task"] == "classification" and props["output"] == "probabilities"
    assert props["classes"].startswith("[")
    assert [
        d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim
    ] == [
        "batch",
        4,
    ]


def test_a_graph_layer_is_refused_naming_the_layer_and_its_line(tmp_path):
    exp = experiment(
        tmp_path,
        """
        data: {dataset: karate}
        model:
          inputs: [x, edge_index]
          nodes:
            hidden: {type: linear, units: 8, in: x}
            gcn: {type: gcn_conv, out_channels: 2, in: [hidden, edge_index]}
          output: gcn
        """,
    )
    with pytest.raises(ExportError) as caught:
        export_model(exp, exp.data.preprocessor)
    message = str(caught.value)
    assert "config.yaml:7:" in message and "model.nodes.gcn" in message
    assert "'gcn_conv' cannot be exported" in message


def test_an_unexportable_layer_inside_a_block_is_named(tmp_path):
    exp = experiment(
        tmp_path,
        """
        data: {dataset: karate}
        blocks:
          message:
            inputs: [h, edges]
            nodes:
              conv: {type: sage_conv, out_channels: 4, in: [h, edges]}
            output: conv
        model:
          inputs: [x, edge_index]
          nodes:
            layer: {type: message, in: [x, edge_index]}
            out: {type: linear, units: 2, in: layer}
          output: out
        """,
    )
    with pytest.raises(ExportError, match=r"config.yaml:7:.*blocks.message.nodes.conv.*sage_conv"):
        export_model(exp, exp.data.preprocessor)


def test_every_registered_layer_has_a_converter_or_a_stated_reason():
    from nnrun.export.registry import CONVERTERS, UNEXPORTABLE
    from nnrun.nn import Module
    from nnrun.registry import LAYERS

    missing = []
    for name in LAYERS:
        layer_class = LAYERS.get(name)
        nearest = next(
            (c for c in layer_class.__mro__ if c in CONVERTERS or c in UNEXPORTABLE), Module
        )
        if nearest is Module:
            missing.append(name)
    assert not missing, f"layers without an ONNX converter or a reason: {missing}"
