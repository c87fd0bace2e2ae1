"""`data.pairs`: a regression table's splits -> pairwise ranking examples (task "ranking").

Pairs are drawn AFTER splitting and scaling: both items of a pair come from the same split
(nothing leaks between train/val/test) and were scaled by the statistics fitted once on the
single training examples. A paired split has inputs ``{"a": (P, *input_shape), "b": ...}``
and targets (P, 1) float32: +1 when item a's target is larger, −1 when b's is, the layout
`margin_ranking` takes. The pairs are materialized (P = about per_example × N rows per item).
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable

import numpy as np

from nnrun.data.info import DataInfo, Split
from nnrun.data.options import PairsSpec
from nnrun.data.split import rng_for
from nnrun.data.transforms import Augment
from nnrun.errors import ConfigError, DataError, Problem
from nnrun.tasks import get_task

# Its own random stream, after split.py's generate/split/shuffle/augment streams (1-4), so
# changing the pairing never changes the split or the batches.
STREAM_PAIRS = 5
PAIR_KEYS = ("a", "b")


def not_pairable(found: str) -> ConfigError:
    """The error for data.pairs on data that has no single numeric target to rank by."""
    return ConfigError(
        Problem(
            "data.pairs ranks examples by a numeric target, so it needs a regression table",
            path="data.pairs",
            expected="a table with one regression target column (e.g. dataset: diabetes), "
            "or no data.pairs",
            found=found,
        )
    )


def draw_pairs(split: Split, per_example: int, margin: float, rng: np.random.Generator) -> Split:
    """Pairs of one split: each example is item a of `per_example` pairs whose item b is drawn
    uniformly from the split's other examples; pairs with |y_a − y_b| <= margin are skipped.

    `split` holds inputs (N, *shape) and regression targets (N, 1).
    """
    inputs = split.inputs
    assert isinstance(inputs, np.ndarray), "a table's split"
    values = split.targets.reshape(len(split.targets)).astype(np.float64)
    count = len(values)
    if count < 2:
        return Split({key: inputs[:0] for key in PAIR_KEYS}, np.zeros((0, 1), np.float32))
    first = np.repeat(np.arange(count), per_example)
    # An offset in 1..N-1 picks every other example with equal chance and never the same one.
    second = (first + rng.integers(1, count, size=len(first))) % count
    difference = values[first] - values[second]
    kept = np.abs(difference) > margin
    first, second, difference = first[kept], second[kept], difference[kept]
    targets = np.where(difference > 0, 1.0, -1.0).astype(np.float32).reshape(-1, 1)
    return Split({"a": inputs[first], "b": inputs[second]}, targets)


def pair_split(split: Split, options: PairsSpec, seed: int, name: str) -> Split:
    """`draw_pairs` with the generator of (seed, split name); a split that yields no pair
    (fewer than 2 examples, or every pair within the margin) is a DataError."""
    rng = rng_for(seed, STREAM_PAIRS, zlib.crc32(name.encode()))
    paired = draw_pairs(split, options.per_example, options.margin, rng)
    if len(paired) == 0:
        raise DataError(
            f"data.pairs: the {name} split ({len(split)} examples) gives no pair whose "
            f"targets differ by more than margin {options.margin:g}; lower data.pairs.margin "
            "or give the split more examples"
        )
    return paired


def make_pairs(
    splits: dict[str, Split], info: DataInfo, options: PairsSpec, seed: int
) -> tuple[dict[str, Split], DataInfo]:
    """Every split paired (see `pair_split`) and the DataInfo of the pairs: task "ranking",
    `input_shape` per item (unchanged), targets (1,) float32, `sizes` in pairs.

    A task other than regression, or more than one target column, is a ConfigError at
    data.pairs.
    """
    if info.task.labels != "value":
        raise not_pairable(f"task {info.task}")
    if int(np.prod(info.target_shape, dtype=np.int64)) != 1:
        raise not_pairable(f"{info.target_shape[-1]} target columns")
    paired = {name: pair_split(split, options, seed, name) for name, split in splits.items()}
    info = dataclasses.replace(
        info,
        task=get_task("ranking"),
        target_shape=(1,),
        target_dtype="float32",
        sizes={name: len(split) for name, split in paired.items()},
    )
    return paired, info


PairAugment = Callable[[dict[str, np.ndarray], np.random.Generator], dict[str, np.ndarray]]


def pair_augment(augment: Augment | None) -> PairAugment | None:
    """A per-example augmentation applied to both items of a pair batch (None stays None)."""
    if augment is None:
        return None

    def both(inputs: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {key: augment(inputs[key], rng) for key in PAIR_KEYS}

    return both
