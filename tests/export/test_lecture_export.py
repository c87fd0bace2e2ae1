"""ONNX export of expression nodes, learned tensors, math nodes and the new layer options
(column-major reshape, ceil_mode pooling, linear upsampling): onnxruntime equals `nnrun
predict`; options with no single-output ONNX form are refused by name."""

from __future__ import annotations

import pytest

from nnrun.errors import ExportError
from nnrun.nn.expression import FUNCTIONS
from tests.export.helpers import assert_exports_like_predict, experiment, export_model

DIGITS = "data: {dataset: digits, split: {val: 0.1, test: 0.2}, normalize: standard}"
DIGITS_IMAGE = (
    "data: {dataset: digits, reshape: [1, 8, 8], split: {val: 0.1, test: 0.2}, normalize: standard}"
)
EVERY_FUNCTION = (
    "0.1 * exp(h) + log(abs(h) + 1) + sqrt(h ** 2 + 1) + sin(h) * cos(h) + tanh(h)"
    " + sigmoid(-h) + relu(h) + softplus(h) - sum(h, keepdims=True) / 10"
    " + mean(h, axis=[0, 1]) * max(h, axis=-1, keepdims=True) - min(h, keepdims=True)"
    " + max(h, 0.3 * h) + min(h, -h) + clip(h, -1, 1) + h @ transpose(W) @ W / 10 + 2 ** h"
)
MODELS = {
    "expressions_and_learned_tensors": f"""
        {DIGITS}
        model:
          inputs: [x]
          nodes:
            A: {{type: parameter, shape: [64, 10], init: {{type: normal, std: 0.1}}}}
            W: {{type: parameter, shape: [3, 10], init: {{type: normal, std: 0.3}}}}
            c: {{type: constant, value: 0.5}}
            h: {{type: expr, in: x, expr: "x @ A + c"}}
            every: {{type: expr, in: h, expr: "{EVERY_FUNCTION}"}}
            squared: {{type: square, in: every}}
            root: {{type: sqrt, in: squared}}
            powered: {{type: pow, exponent: 1.5, in: root}}
            logged: {{type: log, in: powered}}
            clipped: {{type: clip, min: -3.0, in: logged}}
            total: {{type: sum, in: clipped, keepdims: true}}
            top: {{type: max, in: clipped, axis: [1], keepdims: true}}
            low: {{type: min, in: clipped, keepdims: true}}
            average: {{type: mean, in: clipped, keepdims: true}}
            out: {{type: expr, in: [clipped, total, top, low, average],
                   expr: "clipped + exp(-abs(total)) + cos(top) + low * average"}}
          output: out
    """,
    "column_major_ceil_pooling_bilinear": f"""
        {DIGITS_IMAGE}
        model:
          layers:
            - {{type: max_pool2d, kernel_size: 3, stride: 2, ceil_mode: true}}
            - {{type: upsample, mode: bilinear, size: [6, 5]}}
            - {{type: avg_pool2d, kernel_size: 2, stride: 2, ceil_mode: true}}
            - {{type: upsample, mode: bilinear, scale_factor: 2, align_corners: true}}
            - {{type: reshape, shape: [3, -1], order: F}}
            - {{type: max_pool1d, kernel_size: 3, stride: 2, padding: 1, ceil_mode: true}}
            - {{type: upsample, mode: linear, size: 7}}
            - {{type: flatten}}
            - {{type: linear, units: 10}}
    """,
}


def test_the_export_expression_uses_every_function():
    assert all(f"{name}(" in EVERY_FUNCTION for name in FUNCTIONS)


@pytest.mark.parametrize("family", sorted(MODELS))
def test_export_matches_predict(tmp_path, family):
    assert_exports_like_predict(experiment(tmp_path, MODELS[family]))


def test_layers_returning_several_outputs_are_refused(tmp_path):
    exp = experiment(
        tmp_path,
        f"""
        {DIGITS}
        model:
          inputs: [x]
          nodes:
            seq: {{type: reshape, shape: [8, 8], in: x}}
            att: {{type: multihead_attention, num_heads: 2, return_weights: true, in: seq}}
            flat: {{type: flatten, in: att}}
            out: {{type: linear, units: 10, in: flat}}
          output: out
        """,
    )
    with pytest.raises(ExportError, match=r"nodes\.att.*several outputs"):
        export_model(exp, exp.data.preprocessor)
