"""A trained run → one self-contained ONNX model: raw inputs in, `nnrun predict`'s outputs
out.

The graph takes the array `nnrun predict` reads from a .npy — (batch, features) float32
before any preprocessing, or (batch, length) int64 token ids — applies the fitted
preprocessing (missing-value fill, (x − shift)/scale in float64 as nnrun does, reshape to
the model's input shape), runs the model, and ends with what `nnrun predict --proba` prints
for classifiers (class probabilities) or the model's values for regression (targets are not
rescaled by nnrun, so they are in the target's units already).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

import nnrun.export.converters  # noqa: F401  (registers every converter)
from nnrun import __version__
from nnrun.config.paths import format_path
from nnrun.data import Preprocessor
from nnrun.errors import CheckpointError, ExportError
from nnrun.experiment import Experiment
from nnrun.export.graph import OnnxGraph, Unexportable, Value, dtype_code
from nnrun.export.model import refuse_unexportable
from nnrun.export.registry import find_converter
from nnrun.fileio import write_bytes_atomic

MIN_OPSET = 17


def _samples(exp: Experiment) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs at batch sizes 2 and 3 (training examples, repeated if fewer)."""
    inputs = exp.data.splits["train"].inputs
    assert isinstance(inputs, np.ndarray), "graphs and pairs are refused before"
    rows = np.resize(np.arange(len(inputs)), 3)
    return inputs[rows[:2]], inputs[rows[:3]]


def _parameter_names(exp: Experiment) -> dict[int, str]:
    names = {id(p.data): n for n, p in exp.model.named_parameters()}
    names.update({id(b): n for n, b in exp.model.named_buffers()})
    return names


def _preprocess(g: OnnxGraph, preprocessor: Preprocessor, raw: str) -> str:
    """The fitted input preprocessing, as `Preprocessor.transform_inputs` computes it."""
    if preprocessor.kind == "tokens":
        return raw
    x = g.op("Cast", raw, to=TensorProto.DOUBLE)
    if preprocessor.fill is not None:
        fill = g.const(preprocessor.fill, "preprocessor.fill", np.float64)
        x = g.op("Where", g.op("IsNaN", x), fill, x)
    if preprocessor.shift is not None and preprocessor.scale is not None:
        shift = g.const(preprocessor.shift, "preprocessor.shift", np.float64)
        scale = g.const(preprocessor.scale, "preprocessor.scale", np.float64)
        x = g.op("Div", g.op("Sub", x, shift), scale)
    x = g.op("Cast", x, to=TensorProto.FLOAT)
    if len(preprocessor.input_shape) > 1:
        x = g.reshape(x, (None, *preprocessor.input_shape))
    return x


def _decode(g: OnnxGraph, exp: Experiment, out: str, rank: int) -> tuple[str, str]:
    """(output name, what it holds): probabilities for classifiers, values otherwise."""
    task, kind = exp.data.info.task, getattr(exp.loss, "output", "values")
    if not task.decodes_to_classes(kind):
        return out, "outputs"
    if task.labels == "binary":  # the first output is P(class 1)
        first = g.op("Reshape", out, g.ints([0, -1]))
        first = g.op("Slice", first, g.ints([0]), g.ints([1]), g.ints([1]))
        p = g.op("Sigmoid", first) if kind == "logits" else first
        return g.op("Concat", g.op("Sub", g.scalar(1.0), p), p, axis=1), "probabilities"
    if kind == "log_probabilities":
        return g.op("Exp", out), "probabilities"
    if kind == "probabilities":
        return out, "probabilities"
    return g.op("Softmax", out, axis=rank - 1), "probabilities"


def export_model(exp: Experiment, preprocessor: Preprocessor, opset: int = MIN_OPSET):
    """The ONNX ModelProto of a built (trained) experiment; ExportError if it cannot be."""
    info = exp.data.info
    try:
        refuse_unexportable(exp.model)
    except Unexportable as error:
        raise ExportError(_refusal(exp, error)) from None
    if not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ExportError(
            f"--opset {opset}: nnrun exports ONNX opsets {MIN_OPSET} to "
            f"{onnx.defs.onnx_opset_version()} (the installed onnx package's newest)"
        )
    if info.task.whole_graph or info.task.pairwise or preprocessor.kind == "graph":
        raise ExportError(
            f"a {info.task} model takes graphs or pairs, not one input array; ONNX export "
            "covers models that `nnrun predict` can run on a .npy file"
        )
    if len(getattr(exp.model, "input_names", ["x"])) > 1:
        raise ExportError(
            "the model takes several inputs; ONNX export covers models of one input array"
        )
    exp.model.eval()
    g = OnnxGraph(opset, _parameter_names(exp), find_converter)
    tokens = preprocessor.kind == "tokens"
    width = preprocessor.input_shape[0] if tokens else preprocessor.num_features
    raw_type = TensorProto.INT64 if tokens else TensorProto.FLOAT
    model_input = Value(_preprocess(g, preprocessor, "input"), _samples(exp))
    try:
        out = g.call(exp.model, [model_input])
    except Unexportable as error:
        raise ExportError(_refusal(exp, error)) from None
    name, meaning = _decode(g, exp, out.name, out.rank)
    g.nodes.append(helper.make_node("Identity", [name], [meaning]))
    shape = ["batch" if d is None else d for d in out.shape]
    if meaning == "probabilities" and info.task.labels == "binary":
        shape = ["batch", 2]
    graph = helper.make_graph(
        g.nodes,
        f"nnrun_{exp.name}",
        [helper.make_tensor_value_info("input", raw_type, ["batch", width])],
        [helper.make_tensor_value_info(meaning, dtype_code(np.float32), shape)],
        g.initializers,
    )
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="nnrun")
    model.producer_version = __version__
    model.ir_version = helper.find_min_ir_version_for(opsets)
    model.doc_string = (
        f"nnrun model {exp.name!r} ({info.task}): input = raw "
        + ("token ids" if tokens else "features before normalization")
        + f"; output = {meaning}"
    )
    helper.set_model_props(model, _metadata(exp, preprocessor, meaning))
    onnx.checker.check_model(model, full_check=True)
    return model


def _metadata(exp: Experiment, preprocessor: Preprocessor, meaning: str) -> dict[str, str]:
    info = exp.data.info
    props = {"task": info.task.name, "output": meaning, "input_shape": json.dumps(info.input_shape)}
    if preprocessor.classes is not None:
        props["classes"] = json.dumps(preprocessor.classes)
    if preprocessor.feature_names:
        props["feature_names"] = json.dumps(preprocessor.feature_names)
    if preprocessor.vocab is not None:
        props["vocab"] = json.dumps(preprocessor.vocab)
    return props


def _refusal(exp: Experiment, error: Unexportable) -> str:
    where = exp.cfg.where(error.path) if error.path else None
    head = f"{where}: " if where else ""
    entry = f"{format_path(error.path)}: " if error.path else ""
    return (
        f"{head}{entry}the layer {error.layer!r} cannot be exported to ONNX: {error.reason}. "
        "Remove or replace it to export this model"
    )


def checkpoint_path(run: Path, tag: str) -> Path:
    """A checkpoint as given, or the `tag` checkpoint (best, last) of a run directory."""
    from nnrun.checkpoint import MANIFEST_FILE, MODEL_FILE
    from nnrun.train.rundir import resolve_run

    run = Path(run)
    if run.is_file() or (run / MANIFEST_FILE).exists() or (run / MODEL_FILE).exists():
        return run
    folder = resolve_run(run) / "checkpoints"
    if not (folder / tag / MANIFEST_FILE).is_file():
        present = sorted(p.name for p in folder.glob("*") if (p / MANIFEST_FILE).is_file())
        raise CheckpointError(
            f"{run} has no {tag!r} checkpoint (it has: {', '.join(present) or 'none'}); pick "
            "one with --checkpoint"
        )
    return folder / tag


def export_run(run: Path, out: Path | None, tag: str = "best", opset: int = MIN_OPSET) -> Path:
    """Export a run's `tag` checkpoint (or a checkpoint) to `out` (default: model.onnx in
    the run directory); returns the path written."""
    from nnrun.train.session import open_run

    opened = open_run(checkpoint_path(run, tag))
    model = export_model(opened.experiment, opened.preprocessor, opset)
    if out is None:
        out = (opened.run_dir or Path.cwd()) / "model.onnx"
    write_bytes_atomic(Path(out), model.SerializeToString())
    return Path(out)


def describe(model: Any) -> str:
    """One line: input and output names, types and shapes."""

    def text(value: Any) -> str:
        dims = [d.dim_param or str(d.dim_value) for d in value.type.tensor_type.shape.dim]
        kind = helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type)
        return f"{value.name} {kind}[{', '.join(dims)}]"

    graph = model.graph
    return f"{text(graph.input[0])} → {text(graph.output[0])}"
