"""Build an experiment from YAML, export it, and compare onnxruntime with `nnrun predict`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from tests.extras import need

# Skip every export test (they all import this module) without the export extra.
onnx = need("onnx")
ort = need("onnxruntime")

from nnrun.config.resolve import resolve_config
from nnrun.experiment import Experiment, build_experiment
from nnrun.export.build import export_model
from nnrun.train.prediction import predictions


def experiment(tmp_path: Path, text: str) -> Experiment:
    """The experiment of a config, its batch-norm running statistics set to random values
    (as after training) so the export must carry them."""
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(text))
    exp = build_experiment(resolve_config(path), tmp_path)
    rng = np.random.default_rng(1)
    for name, buffer in exp.model.named_buffers():
        if name.endswith("running_mean"):
            buffer[...] = rng.normal(0, 0.5, buffer.shape)
        elif name.endswith("running_var"):
            buffer[...] = rng.uniform(0.5, 2.0, buffer.shape)
    return exp


def raw_inputs(exp: Experiment, count: int = 7, seed: int = 0) -> np.ndarray:
    """Inputs as a user's .npy holds them: token ids, or features before preprocessing
    (drawn around the fitted shift with the fitted spread)."""
    rng = np.random.default_rng(seed)
    pre = exp.data.preprocessor
    if pre.kind == "tokens" or exp.data.info.input_dtype == "int64":
        width = exp.data.info.input_shape[0]
        return rng.integers(0, len(pre.vocab), (count, width)).astype(np.int64)
    width = pre.num_features
    shift = pre.shift if pre.shift is not None else np.zeros(width)
    scale = pre.scale if pre.scale is not None else np.ones(width)
    return (shift + scale * rng.standard_normal((count, width))).astype(np.float32)


def run_onnx(model, raw: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": raw})[0]


def assert_exports_like_predict(exp: Experiment, opset: int = 17, raw: np.ndarray | None = None):
    """The export passes the full checker and onnxruntime's output on raw inputs equals
    `nnrun predict --proba` (classifiers) or `nnrun predict` (values) to 1e-4 of the
    output's scale. Returns the model."""
    pre = exp.data.preprocessor
    model = export_model(exp, pre, opset)
    onnx.checker.check_model(model, full_check=True)
    raw = raw_inputs(exp) if raw is None else raw
    for batch in (raw, raw[:1]):  # any batch size, one included
        expected, _ = predictions(exp, pre, pre.transform_inputs(batch), True, batch_size=256)
        got = run_onnx(model, batch)
        expected = np.asarray(expected, dtype=np.float64)
        assert got.shape == expected.shape
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4 * scale)
    return model
