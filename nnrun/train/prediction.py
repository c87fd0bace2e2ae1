"""`nnrun predict`: new inputs → class labels, probabilities or values, written as CSV,
.npy or JSON Lines, with the training preprocessing applied."""

from __future__ import annotations

import io
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from nnrun import limits
from nnrun.data import read_inputs
from nnrun.errors import DataError
from nnrun.tasks import softmax
from nnrun.train.loop import predict_outputs
from nnrun.train.session import open_run

STDIN = Path("-")
STDIN_FORMATS = ("csv", "jsonl", "npy")


def predict_file(
    run: Path,
    inputs: Path,
    out: Path | None,
    proba: bool,
    batch_size: int,
    fmt: str = "auto",
) -> str | None:
    """Predict for every example of `inputs` (``-``: standard input, read as `fmt`, default
    CSV); return CSV text when `out` is None."""
    opened = open_run(run)
    info = opened.experiment.data.info
    _check_proba(opened.experiment, proba)  # before reading the inputs
    if inputs == STDIN:
        x = _read_stdin(info, opened.preprocessor, "csv" if fmt == "auto" else fmt)
    else:
        x = read_inputs(inputs, info, opened.preprocessor, fmt)
    values, columns = predictions(opened.experiment, opened.preprocessor, x, proba, batch_size)
    return write_predictions(values, columns, out)


def _gives_classes(exp: Any) -> bool:
    """Whether the model's outputs decode to classes (what --proba needs)."""
    return exp.data.info.task.decodes_to_classes(getattr(exp.loss, "output", "values"))


def _check_proba(exp: Any, proba: bool) -> None:
    if proba and not _gives_classes(exp):
        kind = getattr(exp.loss, "output", "values")
        raise DataError(
            f"--proba asks for class probabilities, but this is a {exp.data.info.task} model "
            f"whose outputs are {kind}; leave out --proba to get its outputs"
        )


def predictions(
    exp: Any, preprocessor: Any, x: np.ndarray, proba: bool, batch_size: int
) -> tuple[np.ndarray, list[str]]:
    """(values, column names) that `nnrun predict` writes for model inputs `x`: labels (or
    class probabilities with `proba`) for classifiers, the model's outputs otherwise (the
    command refuses --proba for those before it gets here)."""
    info = exp.data.info
    outputs = predict_outputs(exp, x, batch_size)
    if isinstance(outputs, tuple):
        raise DataError("this model has several outputs; predict writes single-output models")
    kind = getattr(exp.loss, "output", "values")
    columns: list[str]
    if _gives_classes(exp):
        probabilities = info.task.class_probabilities(outputs, kind)
        names = [str(c) for c in (preprocessor.classes or range(probabilities.shape[-1]))]
        if proba:
            values: Any = probabilities
            columns = [f"prob_{n}" for n in names]
        else:
            index = probabilities.argmax(axis=-1)
            values = (
                preprocessor.decode_labels(index) if preprocessor.classes is not None else index
            )
            columns = ["label"]
    else:
        values = outputs
        columns = [f"output_{i}" for i in range(int(np.prod(outputs.shape[1:]) or 1))]
    return np.asarray(values), columns


def _read_stdin(info: Any, preprocessor: Any, fmt: str) -> np.ndarray:
    """Inputs piped in: spooled to a file of the format's extension and read as a file is
    (errors name ``stdin``, with the row)."""
    if fmt not in STDIN_FORMATS:
        raise DataError(f"--format {fmt!r}: standard input can be {', '.join(STDIN_FORMATS)}")
    with tempfile.TemporaryDirectory() as folder:
        spooled = Path(folder) / f"stdin.{fmt}"
        with open(spooled, "wb") as handle:
            limits.copy_bounded(sys.stdin.buffer, handle, limits.MAX_STDIN_BYTES, "stdin")
        try:
            return read_inputs(spooled, info, preprocessor, fmt)
        except DataError as error:
            raise DataError(str(error).replace(str(spooled), "stdin")) from None


def write_predictions(values: np.ndarray, columns: list[str], out: Path | None) -> str | None:
    """Write by the extension of `out` (.csv, .npy, .jsonl); None → CSV text returned."""
    if values.ndim > 2:
        values = values.reshape(len(values), -1)
    rows = values.reshape(len(values), -1) if values.ndim else values.reshape(1, 1)
    if out is not None and out.suffix == ".npy":
        np.save(out, values, allow_pickle=False)
        return None
    if out is not None and out.suffix == ".jsonl":
        with open(out, "w") as handle:
            handle.writelines(
                json.dumps(dict(zip(columns, row, strict=True))) + "\n" for row in rows.tolist()
            )
        return None
    if out is not None and out.suffix not in (".csv", ""):
        raise DataError(f"--out {out}: use a .csv, .npy or .jsonl file")
    buffer = io.StringIO()
    buffer.write(",".join(columns) + "\n")
    for row in rows.tolist():
        buffer.write(",".join(_cell(v) for v in row) + "\n")
    if out is None:
        return buffer.getvalue()
    out.write_text(buffer.getvalue())
    return None


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    return f'"{text}"' if "," in text or '"' in text else text


def generate_text(run: Path, prompt: str, length: int, temperature: float, seed: int) -> str:
    """Sample `length` tokens from a language model trained on text, after `prompt`.

    Each step feeds the last `data.seq_len` tokens, takes the last position's logits, and
    samples from softmax(logits / temperature) (temperature 0: the most likely token).
    """
    opened = open_run(run)
    exp, preprocessor = opened.experiment, opened.preprocessor
    if preprocessor.vocab is None or not exp.data.info.task.positions:
        raise DataError(
            "--generate needs a language model trained on text (data with a "
            "vocabulary and per-position targets)"
        )
    if temperature < 0:
        raise DataError(f"--temperature must be >= 0, got {temperature}")
    window = int(exp.data.info.input_shape[0])
    tokens = list(preprocessor.encode_text(prompt)) if prompt else [0]
    rng = np.random.default_rng(seed)
    for _ in range(length):
        context = np.asarray(tokens[-window:], dtype=np.int64)[None]
        logits = predict_outputs(exp, context, 0)[0, -1].astype(np.float64)
        if temperature == 0:
            tokens.append(int(logits.argmax()))
            continue
        probabilities = softmax(logits / temperature)
        tokens.append(int(rng.choice(len(probabilities), p=probabilities)))
    return preprocessor.decode_tokens(np.asarray(tokens))
