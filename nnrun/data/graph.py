"""Graph node classification: reading edge/label/feature/mask files, building the splits.

The whole graph is one example. Every split holds the same `{"x", "edge_index"}` inputs and
the full (nodes,) target vector with nodes outside that split set to IGNORE_INDEX (-100), so
a loss or metric that skips -100 (PyTorch's default ignore_index) sees only that split.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnrun.data.info import IGNORE_INDEX, DataInfo, Split
from nnrun.data.options import DataSpec
from nnrun.data.preprocess import Preprocessor
from nnrun.data.readers import check_exists, read_csv
from nnrun.data.sources import GraphSource
from nnrun.data.split import split_indices
from nnrun.data.table import Columns, parse_labels, parse_numbers
from nnrun.data.tabular import sorted_classes
from nnrun.errors import DataError
from nnrun.tasks import get_task

SPLIT_NAMES = ("train", "val", "test")


def _node_ids(columns: Columns, column: int, num_nodes: int | None) -> np.ndarray:
    ids = parse_numbers(columns.cells[:, [column]], [columns.names[column]], [column], columns)
    ids = ids[:, 0]
    bad = np.flatnonzero(
        np.isnan(ids)
        | (ids % 1 != 0)
        | (ids < 0)
        | (False if num_nodes is None else ids >= num_nodes)
    )
    if len(bad):
        row = bad[0]
        limit = "" if num_nodes is None else f" below {num_nodes}"
        raise DataError(
            f"{columns.source}, row {int(columns.lines[row])}, column {column + 1}: expected a "
            f"node id (an integer >= 0{limit}), found {columns.cells[row, column]!r}"
        )
    return ids.astype(np.int64)


def _node_table(path: Path, num_nodes: int | None, what: str) -> tuple[np.ndarray, Columns]:
    """A `node,value...` CSV: node ids and the table; every node must appear exactly once."""
    columns = read_csv(path)
    if columns.cells.shape[1] < 2:
        raise DataError(f"{path}: expected columns `node,{what}`, found {columns.names}")
    nodes = _node_ids(columns, 0, num_nodes)
    expected = num_nodes if num_nodes is not None else len(nodes)
    if len(np.unique(nodes)) != len(nodes) or len(nodes) != expected or nodes.max() != expected - 1:
        raise DataError(
            f"{path}: expected one row per node 0..{expected - 1}, found {len(nodes)} rows "
            f"covering {len(np.unique(nodes))} distinct node ids"
        )
    return nodes, columns


def read_graph_files(
    edges: Path, labels: Path, features: Path | None = None, masks: Path | None = None
) -> GraphSource:
    """Edges CSV `source,target[,weight]` (undirected: both directions are used), labels CSV
    `node,label`, optional features (CSV `node,f1,...` or .npy rows by node id) and masks CSV
    `node,split` with split in train/val/test."""
    check_exists(edges, "edge file")
    nodes, label_columns = _node_table(labels, None, "label")
    num_nodes = len(nodes)
    raw_labels = parse_labels(label_columns.cells[:, 1])
    node_labels = raw_labels[np.argsort(nodes)]
    edge_columns = read_csv(edges)
    if edge_columns.cells.shape[1] < 2:
        raise DataError(f"{edges}: expected columns `source,target`, found {edge_columns.names}")
    pairs = np.stack([_node_ids(edge_columns, j, num_nodes) for j in (0, 1)])
    edge_index = np.concatenate([pairs, pairs[::-1]], axis=1)
    node_features = None if features is None else _read_features(features, num_nodes)
    node_masks = None if masks is None else _read_masks(masks, num_nodes)
    return GraphSource(edge_index, node_labels, node_features, node_masks, source=str(labels))


def _read_features(path: Path, num_nodes: int) -> np.ndarray:
    if path.suffix.lower() == ".npy":
        check_exists(path)
        array = np.load(path, allow_pickle=False)
        if array.ndim != 2 or len(array) != num_nodes or array.dtype.kind not in "biuf":
            raise DataError(
                f"{path}: expected a numeric ({num_nodes}, features) array, found "
                f"shape {array.shape} dtype {array.dtype}"
            )
        return array.astype(np.float64)
    nodes, columns = _node_table(path, num_nodes, "feature1,...")
    names = columns.names[1:]
    values = parse_numbers(columns.cells[:, 1:], names, list(range(1, len(names) + 1)), columns)
    return values[np.argsort(nodes)]


def _read_masks(path: Path, num_nodes: int) -> dict[str, np.ndarray]:
    nodes, columns = _node_table(path, num_nodes, "split")
    names = np.char.lower(np.char.strip(columns.cells[:, 1]))
    bad = np.flatnonzero(~np.isin(names, SPLIT_NAMES))
    if len(bad):
        raise DataError(
            f"{path}, row {int(columns.lines[bad[0]])}: expected train, val or test, "
            f"found {columns.cells[bad[0], 1]!r}"
        )
    return {name: np.sort(nodes[names == name]) for name in SPLIT_NAMES if (names == name).any()}


def build_graph(
    source: GraphSource, cfg: DataSpec, seed: int, name: str
) -> tuple[dict[str, Split], DataInfo, Preprocessor]:
    labels = source.labels
    classes = cfg.classes or source.classes or sorted_classes(labels)
    num_nodes = len(labels)
    pre = Preprocessor(kind="graph", task="node_classification", classes=classes)
    encoded = pre.encode_labels(labels, lambda i: f"{source.source}, node {i}")
    masks = source.masks or split_indices(
        num_nodes,
        {"val": cfg.split.val, "test": cfg.split.test},
        seed,
        encoded if cfg.split.stratify else None,
    )
    if "train" not in masks or len(masks["train"]) == 0:
        raise DataError(
            f"{source.source}: no training nodes; the masks must mark some nodes `train`"
        )
    if source.features is not None:
        features = source.features
        pre.fit_inputs(features[masks["train"]], cfg.normalize, cfg.on_missing == "fill")
    elif cfg.graph.node_features == "degree":
        degree = np.bincount(source.edge_index[0], minlength=num_nodes).astype(np.float64)
        features = degree[:, None]
        pre.fit_inputs(features[masks["train"]], cfg.normalize, False)
    else:
        features = np.eye(num_nodes)
    pre.feature_names = [f"feature_{j}" for j in range(features.shape[1])]
    pre.input_shape = (features.shape[1],)
    inputs = {
        "x": pre.transform_inputs(features, "node features"),
        "edge_index": source.edge_index.astype(np.int64),
    }
    splits = {}
    for split_name, nodes in masks.items():
        targets = np.full(num_nodes, IGNORE_INDEX, np.int64)
        targets[nodes] = encoded[nodes]
        splits[split_name] = Split(inputs, targets)
    info = DataInfo(
        task=get_task("node_classification"),
        input_shape=pre.input_shape,
        input_dtype="float32",
        target_shape=(),
        target_dtype="int64",
        num_classes=len(classes),
        feature_names=pre.feature_names,
        class_names=[str(c) for c in pre.classes or ()],
        name=name,
        sizes={key: len(split) for key, split in splits.items()},
    )
    return splits, info, pre
