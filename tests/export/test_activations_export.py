"""Every registered activation, with each of its sample option sets, exports to ONNX and
onnxruntime computes what nnrun computes (a walker: registering an activation puts it here)."""

from __future__ import annotations

import numpy as np
import pytest

import nnrun.components  # noqa: F401  (fills the registries)
from nnrun.autograd.tensor import Tensor
from nnrun.registry import ACTIVATIONS
from tests.export.helpers import onnx, ort
from tests.nn.samples import away_from_kinks
from tests.nn.samples_core import ACTIVATION_SAMPLES

CASES = [
    pytest.param(name, options, opset, id=f"{name}-{i}-opset{opset}")
    for name, option_sets in ACTIVATION_SAMPLES.items()
    for i, options in enumerate(option_sets)
    for opset in (17, 18)
]


def test_every_activation_has_an_export_sample():
    assert set(ACTIVATION_SAMPLES) == set(ACTIVATIONS.names())


def _run(name: str, options: dict, opset: int, x: np.ndarray, shape: tuple) -> np.ndarray:
    from nnrun.export.activation import write_activation  # imports onnx: after the skip
    from nnrun.export.graph import OnnxGraph

    g = OnnxGraph(opset, {}, lambda layer: None)
    out = write_activation(g, name, dict(options), "x")
    value = onnx.helper.make_tensor_value_info
    graph = onnx.helper.make_graph(
        g.nodes,
        name,
        [value("x", onnx.TensorProto.FLOAT, list(x.shape))],
        [value(out, onnx.TensorProto.FLOAT, list(shape))],
        g.initializers,
    )
    opsets = [onnx.helper.make_opsetid("", opset)]
    model = onnx.helper.make_model(graph, opset_imports=opsets)
    model.ir_version = onnx.helper.find_min_ir_version_for(opsets)
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


@pytest.mark.parametrize(("name", "options", "opset"), CASES)
def test_onnxruntime_computes_the_activation_as_nnrun(name, options, opset):
    # Wide enough to cross softplus' threshold and hard_sigmoid's ±3.
    x = (away_from_kinks(4, 6, seed=5) * 3).astype(np.float32)
    ours = ACTIVATIONS.get(name)(Tensor(x), **options).data
    np.testing.assert_allclose(
        _run(name, options, opset, x, ours.shape), ours, rtol=1e-5, atol=1e-6
    )
