"""`read_inputs`: new inputs for `nnrun predict`, preprocessed exactly like the training data."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from nnrun.data.info import DataInfo, Split
from nnrun.data.options import DataSpec, data_spec
from nnrun.data.pairs import pair_split
from nnrun.data.preprocess import Preprocessor
from nnrun.data.readers import (
    INPUT_KEYS,
    check_exists,
    detect_format,
    read_csv,
    read_jsonl,
    read_text,
)
from nnrun.data.table import Columns, beyond_float32, column_index, parse_numbers
from nnrun.errors import DataError

# Feature names given to unnamed columns/arrays; such features can only be matched by position.
AUTO_NAMES = ("column_", "feature_")


def _columns_to_features(
    columns: Columns, info: DataInfo, preprocessor: Preprocessor
) -> np.ndarray:
    """The training feature columns (by name when the file names its columns) as float64;
    a missing value is an error naming its row unless training filled missing values."""
    width = len(info.feature_names)
    trained_with_names = not all(n.startswith(AUTO_NAMES) for n in info.feature_names)
    if columns.has_header and trained_with_names:
        index = [
            column_index(n, columns.names, columns.source, "feature") for n in info.feature_names
        ]
    elif columns.cells.shape[1] == width:
        index = list(range(width))
    else:
        raise DataError(
            f"{columns.source}, row {int(columns.lines[0])}: expected {width} feature columns "
            f"({', '.join(info.feature_names[:6])}{', ...' if width > 6 else ''}), found "
            f"{columns.cells.shape[1]}"
        )
    names = info.feature_names
    values = parse_numbers(columns.cells[:, index], names, index, columns)
    missing = np.argwhere(np.isnan(values))
    if len(missing) and preprocessor.fill is None:
        row, column = missing[0]
        raise DataError(
            f"{columns.source}, row {int(columns.lines[row])}, column {index[column] + 1} "
            f"({names[column]!r}): missing value; only a model trained with "
            "data.on_missing: fill can fill in new inputs"
        )
    return values


def _load_array(path: Path, fmt: str) -> np.ndarray:
    check_exists(path)
    try:
        if fmt == "npy":
            return np.load(path, allow_pickle=False)
        with np.load(path, allow_pickle=False) as archive:
            key = next((k for k in INPUT_KEYS if k in archive.files), None)
            if key is None and len(archive.files) == 1:
                key = archive.files[0]
            if key is None:
                raise DataError(
                    f"{path}: expected an array named {' or '.join(INPUT_KEYS[:2])}, "
                    f"found {', '.join(archive.files)}"
                )
            return archive[key]
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable {fmt} file ({exc})") from None


def _check_array_shape(array: np.ndarray, info: DataInfo, path: Path) -> np.ndarray:
    """Accept (N, *input_shape), (N, features) or one example of input_shape."""
    shape = tuple(info.input_shape)
    if array.shape == shape:
        return array[None]
    width = int(np.prod(shape, dtype=np.int64))
    if array.ndim >= 1 and (array.shape[1:] == shape or array.shape[1:] == (width,)):
        return array
    raise DataError(
        f"{path}: expected inputs of shape (N, {', '.join(map(str, shape))}) or (N, {width}), "
        f"found {array.shape}"
    )


def read_inputs(
    path: Path, info: DataInfo, preprocessor: Preprocessor, fmt: str = "auto"
) -> np.ndarray:
    """Model-ready inputs from a CSV (header optional), .npy, .npz, JSON Lines or, for text
    models, a .txt file (one (1, L) token sequence); `fmt` overrides the file extension.
    Wrong width/type/shape is a DataError."""
    path = Path(path)
    if info.task.whole_graph:
        raise DataError(
            "graph models predict on their training graph; new input files are "
            "not supported for node classification"
        )
    if info.task.pairwise:
        raise DataError(
            f"{path}: this model was trained on pairs (data.pairs, task ranking) and takes two "
            "inputs a and b per example, while nnrun predict reads single examples; score it "
            "with nnrun eval (its test pairs, or --data FILE, a labelled table paired the same way)"
        )
    fmt = detect_format(path, fmt)
    if fmt == "text":
        if preprocessor.vocab is None:
            raise DataError(f"{path}: text input needs a model trained on text")
        return preprocessor.encode_text(read_text(path))[None]
    if fmt in ("csv", "tsv"):
        raw = _columns_to_features(
            read_csv(path, "\t" if fmt == "tsv" else ","), info, preprocessor
        )
    elif fmt == "jsonl":
        raw = _columns_to_features(read_jsonl(path), info, preprocessor)
    elif fmt in ("npy", "npz"):
        raw = _check_array_shape(_load_array(path, fmt), info, path)
    else:
        raise DataError(f"{path}: cannot read prediction inputs from a {fmt} file")
    if len(raw) == 0:
        raise DataError(f"{path}: no examples to predict (0 rows)")
    if raw.dtype.kind not in "biuf":
        raise DataError(f"{path}: inputs must be numbers, found dtype {raw.dtype}")
    found = beyond_float32(raw)
    if found is not None:
        row, column, message = found
        raise DataError(f"{path}, example {row + 1}, value {column + 1}: {message}")
    if info.input_dtype == "int64":
        return preprocessor.transform_inputs(raw, str(path))
    return preprocessor.transform_inputs(raw.astype(np.float64), str(path))


def read_labeled(
    path: Path, data_cfg: DataSpec | dict[str, Any], preprocessor: Preprocessor
) -> Split:
    """A labelled table (CSV/JSONL/npy/npz as in training) → a Split preprocessed with the
    training statistics and label mapping (for `nnrun eval --data`). A ranking run's rows
    are paired as its splits were (data.pairs), seeded by data.seed (default 0)."""
    from nnrun.data.readers import read_table

    path = Path(path)
    check_exists(path)
    cfg = dataclasses.replace(data_spec(data_cfg), dataset=None, path=str(path))
    fmt = detect_format(path, cfg.format)
    if fmt == "text" or preprocessor.kind != "table":
        raise DataError(
            f"{path}: evaluation on new files supports tables (csv, tsv, jsonl, "
            "npy, npz) for table-trained models"
        )
    parts = read_table(path, fmt, cfg)
    table = parts.get("all") or parts.get("test") or next(iter(parts.values()))
    x = preprocessor.transform_inputs(table.x, str(path))
    y = preprocessor.encode_targets(table.y, table.where)
    if cfg.pairs is not None:  # a ranking run: pair the rows as its splits were
        return pair_split(Split(x, y), cfg.pairs, cfg.seed or 0, "eval")
    return Split(x, y)
