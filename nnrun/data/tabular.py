"""Tables -> splits: missing values, task and classes, seeded splitting, train-only scaling."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrun.data.info import DataInfo, Split
from nnrun.data.options import DataSpec, SplitSpec
from nnrun.data.preprocess import Preprocessor, json_label
from nnrun.data.sources import TableSource
from nnrun.data.split import split_indices
from nnrun.data.table import Table, label_missing
from nnrun.errors import DataError
from nnrun.tasks import TASKS, Task, get_task

MAX_INFERRED_CLASSES = 32


def handle_missing(table: Table, on_missing: str) -> Table:
    """Apply data.on_missing: error names the first bad row; drop removes rows; fill keeps NaN
    features for the train-mean fill (a missing label can only be dropped)."""
    table.check_finite()
    bad_label = label_missing(table.y)
    bad = table.missing_rows() if on_missing != "fill" else bad_label
    if not bad.any():
        return table
    if on_missing == "drop":
        kept = table.take(np.flatnonzero(~bad))
        if len(kept.y) == 0:
            raise DataError(f"{table.source}: every row has a missing value; nothing is left")
        return kept
    row = int(np.flatnonzero(bad)[0])
    if bad_label[row]:
        flat = table.y[row].reshape(-1)
        column = int(np.flatnonzero(np.isnan(flat))[0]) if flat.dtype.kind == "f" else 0
        what = f"the target {table.target(column)!r} is missing"
    else:
        flat = table.x[row].reshape(-1)
        column = int(np.flatnonzero(np.isnan(flat))[0])
        what = f"missing value in feature {table.feature_names[column]!r}"
    fix = "drop such rows" if bad_label[row] else "drop such rows or fill with train means"
    raise DataError(
        f"{table.where(row)}: {what} ({int(bad.sum())} row(s) affected); set data.on_missing "
        f"to {'drop' if bad_label[row] else 'drop or fill'} to {fix}"
    )


def infer_task(y: np.ndarray) -> Task:
    """classification for text labels or few distinct integers; regression otherwise."""
    if y.dtype.kind in "US":
        return TASKS["classification"]
    integral = y.ndim == 1 and np.all(np.mod(y, 1) == 0)
    if integral and len(np.unique(y)) <= MAX_INFERRED_CLASSES:
        return TASKS["classification"]
    return TASKS["regression"]


def sorted_classes(y: np.ndarray) -> list[Any]:
    return [json_label(v) for v in np.unique(y).tolist()]


def resolve_task(cfg: DataSpec, source: TableSource, labels: np.ndarray) -> Task:
    declared = cfg.task if cfg.task != "auto" else source.task
    task = get_task(declared) if declared else infer_task(labels)
    if task.has_classes and labels.ndim > 1:
        raise DataError(
            f"{task} needs one label per example, found targets of shape "
            f"{labels.shape[1:]} per example"
        )
    if not task.has_classes and labels.dtype.kind in "US":
        raise DataError(
            f"task {task} needs numeric targets, found text labels such as {labels[0]!r}"
        )
    return task


def _carve(
    parts: dict[str, Table], split: SplitSpec, seed: int, labels: np.ndarray | None
) -> dict[str, Table]:
    """Split "all" (or the train part) into the configured fractions of the missing splits."""
    base = parts["all"] if "all" in parts else parts["train"]
    fractions = {name: getattr(split, name) for name in ("val", "test") if name not in parts}
    index = split_indices(len(base.y), fractions, seed, labels)
    out = {name: base.take(rows) for name, rows in index.items() if name == "train" or len(rows)}
    out.update({k: v for k, v in parts.items() if k not in ("all", "train")})
    return out


def build_table(
    source: TableSource, cfg: DataSpec, seed: int, name: str
) -> tuple[dict[str, Split], DataInfo, Preprocessor]:
    """Missing values -> task and classes -> (stratified) split -> scaling fitted on train ->
    model-ready splits. Labels outside the classes are a DataError naming the row."""
    parts = {key: handle_missing(table, cfg.on_missing) for key, table in source.parts.items()}
    base = parts["all"] if "all" in parts else parts["train"]
    task = resolve_task(cfg, source, base.y)
    classes = None
    if task.has_classes:
        classes = cfg.classes or source.classes or sorted_classes(base.y)
        if len(classes) < 2:
            raise DataError(
                f"{name}: the targets hold a single class ({classes[0]!r}); a classifier "
                "needs at least two (or set data.task: regression)"
            )
        if task.labels == "binary" and len(classes) != 2:
            raise DataError(
                f"task binary needs exactly 2 classes, found {len(classes)}: {classes[:10]}; "
                "use task: classification"
            )
    pre = Preprocessor(
        kind="table",
        task=task,
        feature_names=base.feature_names,
        classes=classes,
        one_hot=cfg.one_hot,
    )
    stratify_by = None
    if classes is not None:
        encoded = pre.encode_labels(base.y, base.where)  # labels outside `classes` fail here
        stratify_by = encoded if cfg.split.stratify else None
    tables = _carve(parts, cfg.split, seed, stratify_by)

    example_shape = tuple(base.x.shape[1:])
    pre.input_shape = reshape_target(example_shape, cfg.reshape)
    pre.fit_inputs(tables["train"].x, cfg.normalize, cfg.on_missing == "fill")
    splits = {
        key: Split(pre.transform_inputs(t.x, t.source), pre.encode_targets(t.y, t.where))
        for key, t in tables.items()
    }
    train_targets = splits["train"].targets
    info = DataInfo(
        task=task,
        input_shape=pre.input_shape,
        input_dtype="float32",
        target_shape=tuple(train_targets.shape[1:]),
        target_dtype=str(train_targets.dtype),
        num_classes=None if pre.classes is None else len(pre.classes),
        feature_names=base.feature_names,
        class_names=None if pre.classes is None else [str(c) for c in pre.classes],
        name=name,
        sizes={key: len(s) for key, s in splits.items()},
    )
    return splits, info, pre


def reshape_target(shape: tuple[int, ...], reshape: list[int] | None) -> tuple[int, ...]:
    """The per-example shape after data.reshape (one -1 may be inferred, as in numpy)."""
    if reshape is None:
        return shape
    size = int(np.prod(shape, dtype=np.int64))
    try:
        return tuple(int(d) for d in np.empty(size, np.int8).reshape(reshape).shape)
    except ValueError:
        raise DataError(
            f"data.reshape {list(reshape)} does not fit examples of {size} values (shape {shape})"
        ) from None
