"""`load_data`: the config's `data:` section -> a DataBundle of ready splits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nnrun.data import builtin, synthetic  # noqa: F401  (registers the built-in datasets)
from nnrun.data.graph import build_graph, read_graph_files
from nnrun.data.info import DataBundle, InputsAugment
from nnrun.data.options import AugmentSpec, DataSpec, data_spec
from nnrun.data.pairs import make_pairs, not_pairable, pair_augment
from nnrun.data.readers import detect_format, read_table, read_text
from nnrun.data.sources import GraphSource, Source, TableSource, TextSource, TokenSource
from nnrun.data.tabular import build_table
from nnrun.data.text import build_text, build_tokens
from nnrun.data.transforms import make_augment
from nnrun.errors import ArgumentError, ConfigError, DataError, Problem
from nnrun.registry import DATASETS

SOURCE_KEYS = ("dataset", "path", "train", "graph")


def _resolve(base_dir: Path, path: str) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else base_dir / candidate


def _chosen_source(cfg: DataSpec) -> str:
    given = [
        key
        for key in SOURCE_KEYS
        if (cfg.graph.edges if key == "graph" else getattr(cfg, key)) is not None
    ]
    if len(given) != 1:
        raise ConfigError(
            Problem(
                "the data section needs exactly one source" if given else "no data source given",
                path="data",
                location=cfg.at.where(),
                expected=(
                    "one of data.dataset, data.path, data.train (+ val/test) or data.graph.edges"
                ),
                found=", ".join(f"data.{k}" for k in given) or "none",
            )
        )
    if cfg.params and given[0] != "dataset":
        raise ConfigError(
            Problem(
                "params only apply to a built-in dataset",
                path="data.params",
                location=cfg.at.where("params"),
                expected="data.dataset",
                found=f"data.{given[0]}",
            )
        )
    for key in ("val", "test"):
        if getattr(cfg, key) is not None and given[0] != "train":
            raise ConfigError(
                Problem(
                    f"data.{key} is a separate file for data.train",
                    path=f"data.{key}",
                    location=cfg.at.where(key),
                    expected="data.train as well",
                    found=f"data.{given[0]}",
                )
            )
    return given[0]


def _open_builtin(cfg: DataSpec, seed: int) -> Source:
    name = cfg.dataset
    assert name is not None, "_chosen_source chose it"
    try:
        dataset = DATASETS.build(name, **cfg.params)
    except ArgumentError as exc:
        keys = ("params", exc.key) if exc.key else ("dataset",)
        raise ConfigError(
            Problem(
                str(exc),
                path=cfg.at.key_path(*keys),
                location=cfg.at.where(*keys),
                expected=exc.expected,
                found=exc.found,
            )
        ) from None
    return dataset.load(seed)


def _open_file(path: Path, cfg: DataSpec) -> Source:
    fmt = detect_format(path, cfg.format)
    if fmt == "text":
        return TextSource(read_text(path), str(path))
    return TableSource(read_table(path, fmt, cfg))


def _open_split_files(cfg: DataSpec, base_dir: Path) -> TableSource:
    parts = {}
    for key in ("train", "val", "test"):
        if getattr(cfg, key) is None:
            continue
        path = _resolve(base_dir, getattr(cfg, key))
        read = read_table(path, detect_format(path, cfg.format), cfg)
        if list(read) != ["all"]:
            raise DataError(f"{path}: data.{key} must hold one split, found {', '.join(read)}")
        parts[key] = read["all"]
    return TableSource(parts)


def _open_graph(cfg: DataSpec, base_dir: Path) -> GraphSource:
    graph = cfg.graph
    assert graph.edges is not None, "_chosen_source chose the graph by its edges"
    if graph.labels is None:
        raise ConfigError(
            Problem(
                "a graph needs node labels",
                path="data.graph.labels",
                location=cfg.at.where("graph"),
                expected="a CSV `node,label`",
                found="nothing",
            )
        )
    optional = {
        key: None if getattr(graph, key) is None else _resolve(base_dir, getattr(graph, key))
        for key in ("features", "masks")
    }
    return read_graph_files(
        _resolve(base_dir, graph.edges), _resolve(base_dir, graph.labels), **optional
    )


def load_data(cfg: DataSpec | dict[str, Any], seed: int, base_dir: Path) -> DataBundle:
    """Load, split and preprocess the data described by a `data:` section.

    `seed` is the run's seed (data.seed overrides it for splitting/generation); relative paths
    resolve against `base_dir` (the config file's folder). Raises DataError for bad data and
    ConfigError for contradictory settings.
    """
    cfg = data_spec(cfg)
    if cfg.split.val + cfg.split.test >= 1:
        raise ConfigError(
            Problem(
                "the val and test fractions leave nothing to train on",
                path="data.split",
                location=cfg.at.where("split"),
                expected="val + test < 1",
                found=f"val {cfg.split.val} + test {cfg.split.test}",
            )
        )
    seed = cfg.seed if cfg.seed is not None else seed
    kind = _chosen_source(cfg)
    # The source `kind` names is given (checked by _chosen_source and _open_graph).
    if kind == "dataset":
        assert cfg.dataset is not None
        source, name = _open_builtin(cfg, seed), DATASETS.canonical(cfg.dataset)
    elif kind == "path":
        assert cfg.path is not None
        source, name = _open_file(_resolve(base_dir, cfg.path), cfg), cfg.path
    elif kind == "train":
        assert cfg.train is not None
        source, name = _open_split_files(cfg, base_dir), cfg.train
    else:
        source = _open_graph(cfg, base_dir)
        assert cfg.graph.labels is not None
        name = cfg.graph.labels

    augment: InputsAugment | None = None
    if isinstance(source, TableSource):
        splits, info, pre = build_table(source, cfg, seed, name)
        augment = make_augment(cfg.augment, info.input_shape)
        # data.pairs: ranking pairs drawn within each split, after scaling (data/pairs.py).
        if cfg.pairs is not None:
            splits, info = make_pairs(splits, info, cfg.pairs, seed)
            augment = pair_augment(augment)
    else:
        if cfg.pairs is not None:
            raise not_pairable(f"a {type(source).__name__.removesuffix('Source').lower()} dataset")
        if cfg.augment != AugmentSpec():
            raise ConfigError(
                Problem(
                    "augmentation applies to numeric (image) inputs only",
                    path="data.augment",
                    location=cfg.at.where("augment"),
                    expected="no augment",
                    found=str(cfg.augment),
                )
            )
        if isinstance(source, TextSource):
            splits, info, pre = build_text(source, cfg, seed, name)
        elif isinstance(source, TokenSource):
            splits, info, pre = build_tokens(source, cfg, seed, name)
        else:
            splits, info, pre = build_graph(source, cfg, seed, name)
    if len(splits["train"]) == 0:
        raise DataError(f"{name}: the training split is empty")
    bundle = DataBundle(splits, info, pre, cfg.batch_size, cfg.shuffle, cfg.drop_last, augment)
    if len(bundle.loader("train")) == 0:
        raise ConfigError(
            Problem(
                f"data.drop_last drops every batch: the training split has "
                f"{len(splits['train'])} examples, fewer than one batch",
                path="data.drop_last",
                location=cfg.at.where("drop_last"),
                expected=f"batch_size <= {len(splits['train'])}, or drop_last: false",
                found=f"batch_size {cfg.batch_size}",
            )
        )
    return bundle
