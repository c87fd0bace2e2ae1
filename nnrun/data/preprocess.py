"""The fitted preprocessing of a dataset: scaling, missing-value fill, labels, vocabulary.

Everything is fitted on the training split and saved with a checkpoint (`state()` /
`from_state()`), so `nnrun eval`/`predict` transform new inputs exactly as in training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrun.errors import DataError
from nnrun.tasks import Task, get_task

UNKNOWN_TOKEN = "<unk>"


def tokenize(text: str, tokenizer: str) -> list[str]:
    """`char`: every character is a token; `whitespace`: words split on any whitespace."""
    return list(text) if tokenizer == "char" else text.split()


def class_key(value: Any) -> Any:
    """A label's identity for matching: numbers compare as floats, everything else as text."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    return str(value)


def json_label(value: Any) -> Any:
    """A label as plain JSON: integral numbers become ints, strings stay strings."""
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return int(value) if float(value).is_integer() else float(value)
    return str(value)


class Preprocessor:
    """Fitted preprocessing. Inputs: x -> (fill NaN) -> (x - shift) / scale -> reshape.

    `kind` is "table" (numeric features), "tokens" (int ids with a `vocab`) or "graph"
    (node features). `classes` are the original labels in class-index order.
    """

    def __init__(
        self,
        kind: str = "table",
        task: Task | str = "classification",
        input_shape: tuple[int, ...] = (),
        feature_names: list[str] | None = None,
        shift: np.ndarray | None = None,
        scale: np.ndarray | None = None,
        fill: np.ndarray | None = None,
        classes: list[Any] | None = None,
        one_hot: bool = False,
        vocab: list[str] | None = None,
        tokenizer: str = "char",
    ):
        self.kind = kind
        self.task = get_task(task)
        self.input_shape = tuple(input_shape)
        self.feature_names = list(feature_names or [])
        self.shift = shift
        self.scale = scale
        self.fill = fill
        self.classes = None if classes is None else [json_label(c) for c in classes]
        self.one_hot = one_hot
        self.vocab = vocab
        self.tokenizer = tokenizer
        self._class_index = (
            None if self.classes is None else {class_key(c): i for i, c in enumerate(self.classes)}
        )
        self._token_index = None if vocab is None else {t: i for i, t in enumerate(vocab)}

    # ---- fitting -------------------------------------------------------------------------

    def fit_inputs(self, x: np.ndarray, normalize: str, fill_missing: bool) -> None:
        """Fit scaling (and the NaN fill) on training inputs `x` (N, ...), NaN = missing."""
        flat = x.reshape(len(x), -1).astype(np.float64)
        means = np.nanmean(flat, axis=0) if len(flat) else np.zeros(flat.shape[1])
        means = np.where(np.isnan(means), 0.0, means)
        if fill_missing:
            self.fill = means
            flat = np.where(np.isnan(flat), means, flat)
        if normalize == "standard":
            self.shift, spread = means, flat.std(axis=0)
        elif normalize == "minmax":
            self.shift, spread = flat.min(axis=0), flat.max(axis=0) - flat.min(axis=0)
        else:
            return
        # Constant features (e.g. always-blank pixels) keep scale 1 instead of dividing by 0.
        self.scale = np.where(spread > 1e-12, spread, 1.0)

    # ---- inputs --------------------------------------------------------------------------

    @property
    def num_features(self) -> int:
        return int(np.prod(self.input_shape, dtype=np.int64))

    def transform_inputs(self, x: np.ndarray, source: str = "inputs") -> np.ndarray:
        """Raw inputs (N, features) or (N, *input_shape) -> model inputs as in training.

        Tables give float32 (N, *input_shape); tokens give int64 ids checked against the vocab.
        """
        x = np.asarray(x)
        if self.kind == "tokens":
            return self._check_tokens(x, source)
        if x.dtype.kind not in "biuf":
            raise DataError(f"{source}: expected numeric inputs, found dtype {x.dtype}")
        flat = x.reshape(len(x), -1).astype(np.float64)
        width = self.num_features if self.kind == "table" else len(self.feature_names)
        if flat.shape[1] != width:
            raise DataError(
                f"{source}: expected {width} features per example "
                f"(shape {self.input_shape}), found {flat.shape[1]} (shape {x.shape[1:]})"
            )
        missing = np.isnan(flat)
        if missing.any():
            if self.fill is None:
                row, column = np.argwhere(missing)[0]
                raise DataError(
                    f"{source}, example {row + 1}: missing value in feature "
                    f"{self._feature_label(column)} (set data.on_missing: fill to use the "
                    "training mean)"
                )
            flat = np.where(missing, self.fill, flat)
        if self.shift is not None and self.scale is not None:
            flat = (flat - self.shift) / self.scale
        shape = self.input_shape if self.kind == "table" else (flat.shape[1],)
        return flat.astype(np.float32).reshape(len(flat), *shape)

    def _feature_label(self, column: int) -> str:
        if column < len(self.feature_names):
            return f"{column + 1} ({self.feature_names[column]!r})"
        return str(column + 1)

    def _check_tokens(self, x: np.ndarray, source: str) -> np.ndarray:
        if x.dtype.kind not in "iu" or x.ndim != 2:
            raise DataError(
                f"{source}: expected a 2-D integer array of token ids, found shape {x.shape} "
                f"dtype {x.dtype}"
            )
        size = len(self.vocab or [])
        bad = np.argwhere((x < 0) | (x >= size))
        if len(bad):
            row, column = bad[0]
            raise DataError(
                f"{source}, example {row + 1}, position {column + 1}: token id "
                f"{int(x[row, column])} is outside the vocabulary (0..{size - 1})"
            )
        return x.astype(np.int64)

    # ---- text ----------------------------------------------------------------------------

    def encode_text(self, text: str) -> np.ndarray:
        """(L,) int64 ids of `text`, split by this dataset's tokenizer."""
        return self.encode_tokens(tokenize(text, self.tokenizer))

    def encode_tokens(self, tokens: list[str]) -> np.ndarray:
        """(L,) int64 ids; tokens outside the vocabulary map to <unk> (error without one)."""
        if self._token_index is None:
            raise DataError("this dataset has no vocabulary to encode text with")
        ids = np.fromiter((self._token_index.get(t, -1) for t in tokens), np.int64, len(tokens))
        unseen = ids < 0
        if unseen.any():
            unknown = self._token_index.get(UNKNOWN_TOKEN)
            if unknown is None:
                bad = tokens[int(np.flatnonzero(unseen)[0])]
                raise DataError(f"token {bad!r} is not in the vocabulary")
            ids[unseen] = unknown
        return ids

    def decode_tokens(self, ids: np.ndarray) -> str:
        """Text of token ids (joined without spaces for chars, with spaces for words)."""
        vocab = self.vocab or []
        sep = "" if self.tokenizer == "char" else " "
        return sep.join(vocab[int(i)] for i in np.asarray(ids).reshape(-1))

    # ---- targets -------------------------------------------------------------------------

    def encode_labels(self, y: np.ndarray, where: Any = None) -> np.ndarray:
        """(N,) raw labels -> (N,) int64 class indices; an unknown label is a DataError.

        `where(row)` names a row for the message (default: "example i").
        """
        assert self._class_index is not None and self.classes is not None
        index = np.empty(len(y), np.int64)
        for i, value in enumerate(y.tolist()):
            found = self._class_index.get(class_key(value))
            if found is None:
                place = where(i) if where else f"example {i + 1}"
                shown = ", ".join(repr(c) for c in self.classes[:12])
                raise DataError(
                    f"{place}: label {json_label(value)!r} is not one of the "
                    f"{len(self.classes)} classes "
                    f"({shown}{', ...' if len(self.classes) > 12 else ''})"
                )
            index[i] = found
        return index

    def encode_targets(self, y: np.ndarray, where: Any = None) -> np.ndarray:
        """Raw targets -> training targets for this task (see `Split` for the layouts)."""
        if self.task.labels == "value":
            if y.dtype.kind not in "biuf":
                raise DataError("regression targets must be numbers, found text labels")
            return y.astype(np.float32).reshape(len(y), -1)
        index = self.encode_labels(y, where)
        if self.task.labels == "binary":
            return index.astype(np.float32).reshape(-1, 1)
        if self.one_hot:
            assert self.classes is not None  # encode_labels needs them too
            return np.eye(len(self.classes), dtype=np.float32)[index]
        return index

    def decode_labels(self, indices: np.ndarray) -> np.ndarray:
        """Class indices (any shape) -> the original labels (strings or numbers)."""
        if self.classes is None:
            raise DataError("this dataset has no class labels to decode")
        indices = np.asarray(indices).astype(np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= len(self.classes)):
            raise DataError(f"class index out of range 0..{len(self.classes) - 1}")
        return np.asarray(self.classes)[indices]

    # ---- checkpoints ---------------------------------------------------------------------

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """(arrays, JSON metadata) that `from_state` turns back into an equal Preprocessor."""
        arrays = {
            name: value.astype(np.float64)
            for name, value in (("shift", self.shift), ("scale", self.scale), ("fill", self.fill))
            if value is not None
        }
        meta = {
            "kind": self.kind,
            "task": self.task.name,
            "input_shape": list(self.input_shape),
            "feature_names": self.feature_names,
            "classes": self.classes,
            "one_hot": self.one_hot,
            "vocab": self.vocab,
            "tokenizer": self.tokenizer,
        }
        return arrays, meta

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> Preprocessor:
        # `meta` holds exactly the constructor's other arguments (see `state`).
        return cls(
            **meta, shift=arrays.get("shift"), scale=arrays.get("scale"), fill=arrays.get("fill")
        )
