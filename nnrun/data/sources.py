"""Raw data as a dataset or file provides it, before splitting and preprocessing.

Built-in datasets are classes registered in `nnrun.registry.DATASETS`: the constructor's
signature is the schema of `data.params`, `load(seed)` returns one of the sources below, and
the class attributes describe the dataset for `nnrun datasets`.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from nnrun.data.table import Table


def datasets_dir() -> Path:
    """Folder of the shipped data files ($NNRUN_DATASETS_DIR, else the repo's datasets/)."""
    override = os.environ.get("NNRUN_DATASETS_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "datasets"


@dataclass
class TableSource:
    """Feature/label tables: {"all": t} to be split, or predefined {"train": t, "test": t}."""

    parts: dict[str, Table]
    task: str | None = None
    classes: list[Any] | None = None


@dataclass
class TokenSource:
    """Token sequence pairs (N, T) int64 for per-position classification; ids index `vocab`."""

    inputs: np.ndarray
    targets: np.ndarray
    vocab: list[str]


@dataclass
class TextSource:
    """A text to split contiguously, tokenize and cut into next-token windows."""

    text: str
    source: str


@dataclass
class GraphSource:
    """One graph: `edge_index` (2, E) int64 holding both directions, per-node raw `labels`,
    node `features` (nodes, F) or None for the configured default, optional split `masks`."""

    edge_index: np.ndarray
    labels: np.ndarray
    features: np.ndarray | None = None
    masks: dict[str, np.ndarray] | None = None
    classes: list[Any] | None = None
    source: str = ""


Source = TableSource | TokenSource | TextSource | GraphSource


class BuiltinDataset(ABC):
    """Base of the registered datasets; subclasses set the class attributes and `load`."""

    task: ClassVar[str]
    description: ClassVar[str]
    input_shape: ClassVar[str]
    target: ClassVar[str]
    size: ClassVar[str]
    seeded: ClassVar[bool] = False

    @abstractmethod
    def load(self, seed: int) -> Source:
        """The raw data; `seed` drives generators (real datasets ignore it)."""
