"""The `data:` section of a config: every key, its type, default and meaning, declared once
as typed, frozen dataclasses (`DataSpec` and its nested sections).

The config layer validates a `data:` mapping against these declarations and builds the
`DataSpec`; `data_spec` does the same for a hand-written dict (tests, notebooks), through the
same validator, so defaults are filled in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from nnrun.config.sections import Located, Section, build_section, options_of, setting
from nnrun.constraints import Min, Range
from nnrun.errors import ConfigError
from nnrun.tasks import TableTask


@dataclass(frozen=True)
class SplitSpec(Section):
    """`data.split`: fractions carved from one file."""

    val: Annotated[float, Range(0, 0.9)] = setting(
        0.1, "fraction of the examples held out for validation"
    )
    test: Annotated[float, Range(0, 0.9)] = setting(
        0.2, "fraction held out for testing (ignored when a test set exists)"
    )
    stratify: bool = setting(True, "keep class proportions in every split (classification)")


@dataclass(frozen=True)
class AugmentSpec(Section):
    """`data.augment`: random per-batch augmentation of training inputs."""

    shift: Annotated[int, Min(0)] = setting(
        0, "random shift of images by up to this many pixels (zero fill)"
    )
    flip: bool = setting(False, "flip images left-right with probability 0.5")
    noise: Annotated[float, Min(0)] = setting(
        0.0, "std of Gaussian noise added to the (normalized) inputs"
    )


@dataclass(frozen=True)
class GraphSpec(Section):
    """`data.graph`: node classification from your own files."""

    edges: str | None = setting(None, "CSV of edges `source,target[,weight]` (node ids 0..N-1)")
    labels: str | None = setting(None, "CSV `node,label` giving each node's class")
    features: str | None = setting(None, "node features: CSV/.npy with one row per node id")
    masks: str | None = setting(
        None, "CSV `node,split` (train/val/test); default: a seeded stratified split"
    )
    node_features: Literal["identity", "degree"] = setting(
        "identity", "features when no file is given: one-hot node id (identity) or the node degree"
    )


@dataclass(frozen=True)
class PairsSpec(Section):
    """`data.pairs`: pairwise ranking examples from a regression table."""

    per_example: Annotated[int, Min(1)] = setting(
        4,
        "pairs drawn per example of a split, each with a uniformly drawn partner from the same "
        "split (pairs never cross train/val/test)",
    )
    margin: Annotated[float, Min(0)] = setting(
        0.0,
        "skip pairs whose targets differ by this much or less (0: skip exact ties only); in "
        "target units",
    )


@dataclass(frozen=True)
class DataSpec(Section):
    """The `data:` section."""

    dataset: str | None = setting(None, "built-in dataset name (`nnrun datasets` lists them)")
    params: dict = setting(
        {},
        "arguments of the built-in dataset or generator, e.g. "
        "{n_samples: 500, noise: 0.1}; checked against the dataset's signature",
    )
    path: str | None = setting(None, "your own data file or folder (relative to the config)")
    format: Literal["auto", "csv", "tsv", "npy", "npz", "jsonl", "npy_folder", "text"] = setting(
        "auto", "file format; auto = by extension"
    )
    target: str | int | None = setting(
        None,
        "target column name or 0-based index (default: the "
        "last column), or the .npz array / JSON key holding targets",
    )
    features: list[str | int] | None = setting(
        None, "feature columns (names or 0-based indices); default: every column except the target"
    )
    header: Literal["auto", True, False] = setting(
        "auto", "whether a CSV's first row names the columns"
    )
    delimiter: str | None = setting(None, "CSV delimiter; default `,` (tab for .tsv)")
    train: str | None = setting(None, "training file, when the splits come as separate files")
    val: str | None = setting(None, "validation file (default: carved from train by split.val)")
    test: str | None = setting(None, "test file (default: carved from train by split.test)")
    split: SplitSpec = setting(SplitSpec, "fractions carved from one file; seeded")
    seed: Annotated[int, Min(0)] | None = setting(
        None, "seed for splitting and generating data; default: run seed"
    )
    normalize: Literal["standard", "minmax", "none"] = setting(
        "standard",
        "feature scaling fitted on the TRAIN split only: "
        "standard (zero mean, unit std), minmax ([0, 1]) or none",
    )
    one_hot: bool = setting(
        False,
        "classification targets as (N, classes) float one-hot rows "
        "instead of (N,) int64 class indices",
    )
    reshape: list[int] | None = setting(None, "shape of one example, e.g. [1, 8, 8] for images")
    augment: AugmentSpec = setting(
        AugmentSpec, "random per-batch augmentation of training inputs (seeded)"
    )
    batch_size: Annotated[int, Min(1)] = setting(32, "examples per batch")
    shuffle: bool = setting(True, "reshuffle the training set every epoch (seeded)")
    drop_last: bool = setting(False, "drop the last, smaller training batch")
    on_missing: Literal["error", "drop", "fill"] = setting(
        "error",
        "missing values (empty, NA, NaN, ?): error, drop the row, "
        "or fill with the train-split column mean",
    )
    task: Literal["auto", TableTask] = setting(
        "auto",
        "override the task; auto = declared by the dataset or inferred "
        "from the targets (strings or <= 32 distinct integers = classification)",
    )
    classes: list[Any] | None = setting(
        None,
        "the class labels in index order; labels outside "
        "this list are an error (default: sorted distinct labels)",
    )
    seq_len: Annotated[int, Min(1)] = setting(64, "text: tokens per example window")
    stride: Annotated[int, Min(1)] | None = setting(
        None, "text: step between windows (default: seq_len)"
    )
    tokenizer: Literal["char", "whitespace"] = setting(
        "char", "text: split into characters or whitespace-separated words"
    )
    max_vocab: Annotated[int, Min(2)] | None = setting(
        None, "text: keep the most frequent tokens only"
    )
    graph: GraphSpec = setting(GraphSpec, "graph node classification from your own files")
    pairs: PairsSpec | None = setting(
        None,
        "turn a regression table into pairwise ranking examples (task ranking): inputs "
        "{a: x_i, b: x_j}, target +1 if y_i > y_j else -1; drawn within each split after "
        "scaling, seeded by the run seed and split name. {} = defaults; null = off",
    )


DATA_SPEC = options_of(DataSpec)


def data_spec(data: DataSpec | Mapping[str, Any] | None) -> DataSpec:
    """`data` as a `DataSpec`; a plain mapping is validated (every problem at once, as a
    ConfigError) and completed with the declared defaults."""
    from nnrun.config.resolve import load_resolved_dict
    from nnrun.config.validate import problem_position, validate_section

    if isinstance(data, DataSpec):
        return data
    cfg = load_resolved_dict({"data": dict(data or {})}, "data")
    values, problems = validate_section(cfg.data["data"], DATA_SPEC, ("data",), cfg)
    if problems:
        raise ConfigError(sorted(problems, key=problem_position))
    return build_section(DataSpec, values, Located(("data",), cfg))
