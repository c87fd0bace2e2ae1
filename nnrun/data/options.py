"""The `data:` section of a config: every key, its type, default and meaning.

The config layer validates a section against `DATA_SPEC`; `resolve_options` fills defaults
again so `load_data` also works on a hand-written dict (tests, notebooks).
"""

from __future__ import annotations

import typing
from typing import Any

from nnrun.config.spec import Option
from nnrun.errors import ConfigError, Problem

SPLIT_SPEC: dict[str, Option] = {
    "val": Option(float, 0.1, "fraction of the examples held out for validation", min=0, max=0.9),
    "test": Option(
        float, 0.2, "fraction held out for testing (ignored when a test set exists)", min=0, max=0.9
    ),
    "stratify": Option(bool, True, "keep class proportions in every split (classification)"),
}

AUGMENT_SPEC: dict[str, Option] = {
    "shift": Option(int, 0, "random shift of images by up to this many pixels (zero fill)", min=0),
    "flip": Option(bool, False, "flip images left-right with probability 0.5"),
    "noise": Option(float, 0.0, "std of Gaussian noise added to the (normalized) inputs", min=0),
}

GRAPH_SPEC: dict[str, Option] = {
    "edges": Option(str | None, None, "CSV of edges `source,target[,weight]` (node ids 0..N-1)"),
    "labels": Option(str | None, None, "CSV `node,label` giving each node's class"),
    "features": Option(str | None, None, "node features: CSV/.npy with one row per node id"),
    "masks": Option(
        str | None, None, "CSV `node,split` (train/val/test); default: a seeded stratified split"
    ),
    "node_features": Option(
        str,
        "identity",
        "features when no file is given: one-hot node id (identity) or the node degree",
        choices=("identity", "degree"),
    ),
}

# data.pairs: pairwise ranking examples from a regression table (see nnrun/data/pairs.py).
PAIRS_SPEC: dict[str, Option] = {
    "per_example": Option(
        int,
        4,
        "pairs drawn per example of a split, each with a uniformly drawn partner from the same "
        "split (pairs never cross train/val/test)",
        min=1,
    ),
    "margin": Option(
        float,
        0.0,
        "skip pairs whose targets differ by this much or less (0: skip exact ties only); in "
        "target units",
        min=0,
    ),
}

DATA_SPEC: dict[str, Option] = {
    "dataset": Option(str | None, None, "built-in dataset name (`nnrun datasets` lists them)"),
    "params": Option(
        dict,
        {},
        "arguments of the built-in dataset or generator, e.g. "
        "{n_samples: 500, noise: 0.1}; checked against the dataset's signature",
    ),
    "path": Option(str | None, None, "your own data file or folder (relative to the config)"),
    "format": Option(
        str,
        "auto",
        "file format; auto = by extension",
        choices=("auto", "csv", "tsv", "npy", "npz", "jsonl", "npy_folder", "text"),
    ),
    "target": Option(
        str | int | None,
        None,
        "target column name or 0-based index (default: the "
        "last column), or the .npz array / JSON key holding targets",
    ),
    "features": Option(
        list[str | int] | None,
        None,
        "feature columns (names or 0-based indices); default: every column except the target",
    ),
    "header": Option(
        bool | str,
        "auto",
        "whether a CSV's first row names the columns",
        choices=("auto", True, False),
    ),
    "delimiter": Option(str | None, None, "CSV delimiter; default `,` (tab for .tsv)"),
    "train": Option(str | None, None, "training file, when the splits come as separate files"),
    "val": Option(str | None, None, "validation file (default: carved from train by split.val)"),
    "test": Option(str | None, None, "test file (default: carved from train by split.test)"),
    "split": Option(dict, None, "fractions carved from one file; seeded", spec=SPLIT_SPEC),
    "seed": Option(
        int | None, None, "seed for splitting and generating data; default: run seed", min=0
    ),
    "normalize": Option(
        str,
        "standard",
        "feature scaling fitted on the TRAIN split only: "
        "standard (zero mean, unit std), minmax ([0, 1]) or none",
        choices=("standard", "minmax", "none"),
    ),
    "one_hot": Option(
        bool,
        False,
        "classification targets as (N, classes) float one-hot rows "
        "instead of (N,) int64 class indices",
    ),
    "reshape": Option(list[int] | None, None, "shape of one example, e.g. [1, 8, 8] for images"),
    "augment": Option(
        dict, None, "random per-batch augmentation of training inputs (seeded)", spec=AUGMENT_SPEC
    ),
    "batch_size": Option(int, 32, "examples per batch", min=1),
    "shuffle": Option(bool, True, "reshuffle the training set every epoch (seeded)"),
    "drop_last": Option(bool, False, "drop the last, smaller training batch"),
    "on_missing": Option(
        str,
        "error",
        "missing values (empty, NA, NaN, ?): error, drop the row, "
        "or fill with the train-split column mean",
        choices=("error", "drop", "fill"),
    ),
    "task": Option(
        str,
        "auto",
        "override the task; auto = declared by the dataset or inferred "
        "from the targets (strings or <= 32 distinct integers = classification)",
        choices=("auto", "classification", "binary", "regression"),
    ),
    "classes": Option(
        list[Any] | None,
        None,
        "the class labels in index order; labels outside "
        "this list are an error (default: sorted distinct labels)",
    ),
    "seq_len": Option(int, 64, "text: tokens per example window", min=1),
    "stride": Option(int | None, None, "text: step between windows (default: seq_len)", min=1),
    "tokenizer": Option(
        str,
        "char",
        "text: split into characters or whitespace-separated words",
        choices=("char", "whitespace"),
    ),
    "max_vocab": Option(int | None, None, "text: keep the most frequent tokens only", min=2),
    "graph": Option(dict, None, "graph node classification from your own files", spec=GRAPH_SPEC),
    "pairs": Option(
        dict | None,
        None,
        "turn a regression table into pairwise ranking examples (task ranking): inputs "
        "{a: x_i, b: x_j}, target +1 if y_i > y_j else -1; drawn within each split after "
        "scaling, seeded by the run seed and split name. {} = defaults; null = off",
        spec=PAIRS_SPEC,
    ),
}


def _allows_none(annotation: Any) -> bool:
    return type(None) in typing.get_args(annotation)


def _fill(spec: dict[str, Option], given: dict[str, Any] | None, where: str) -> dict[str, Any]:
    given = dict(given or {})
    unknown = sorted(set(given) - set(spec))
    if unknown:
        raise ConfigError(
            Problem(
                f"unknown key {unknown[0]!r}",
                path=f"{where}.{unknown[0]}",
                expected="one of " + ", ".join(spec),
                found=repr(unknown[0]),
            )
        )
    out: dict[str, Any] = {}
    for key, option in spec.items():
        value = given.get(key, option.default)
        # A sub-section that may be null (data.pairs) stays None = off when not given.
        if option.spec is not None and not (value is None and _allows_none(option.type)):
            value = _fill(option.spec, value, f"{where}.{key}")
        out[key] = value
    return out


def resolve_options(cfg: dict[str, Any] | None) -> dict[str, Any]:
    """`cfg` with every missing key set to its default (idempotent); unknown keys are errors."""
    return _fill(DATA_SPEC, cfg, "data")
