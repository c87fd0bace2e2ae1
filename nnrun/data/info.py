"""What `load_data` returns: splits of ready arrays, a description of the data, its preprocessor."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from nnrun.tasks import IGNORE_INDEX, Task, get_task

if TYPE_CHECKING:
    from nnrun.data.loader import BatchLoader
    from nnrun.data.preprocess import Preprocessor

Inputs = np.ndarray | dict[str, np.ndarray]

# The training augmentation of a split's inputs: an array transform (data/transforms.py) or,
# for pairs, that transform applied to each item of the dict (data/pairs.py).
InputsAugment = Callable[[Any, np.random.Generator], Any]


@dataclass
class Split:
    """One split: `inputs` (N, *input_shape) or a dict of arrays (graphs), `targets`.

    Targets: classification (N,) int64 class indices (or (N, classes) float32 with one_hot);
    binary (N, 1) float32 0/1; regression (N, outputs) float32; sequence (N, T) int64;
    node_classification (nodes,) int64 with IGNORE_INDEX outside this split.
    `len()` is the number of examples, or of labelled nodes for a graph.
    """

    inputs: Inputs
    targets: np.ndarray

    @property
    def is_graph(self) -> bool:
        """A graph split is one example: the loader yields it whole, never in pieces."""
        return isinstance(self.inputs, dict) and "edge_index" in self.inputs

    def __len__(self) -> int:
        if self.is_graph:
            return int(np.count_nonzero(self.targets != IGNORE_INDEX))
        return len(self.targets)


@dataclass
class DataInfo:
    """What a model builder and the CLI need to know about the data; saved with every run.

    `input_shape` is per example (``(64,)``, ``(1, 8, 8)``, ``(T,)`` tokens, or the node
    feature width for graphs); `num_classes` is None for regression; `output_size` is the
    width of the model's last layer (classes, 1 for binary, target columns for regression).
    """

    task: Task
    input_shape: tuple[int, ...]
    input_dtype: str
    target_shape: tuple[int, ...]
    target_dtype: str
    num_classes: int | None = None
    feature_names: list[str] = field(default_factory=list)
    class_names: list[str] | None = None
    vocab: list[str] | None = None
    name: str = ""
    sizes: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.task = get_task(self.task)  # a task name (as saved with a run) is accepted

    @property
    def output_size(self) -> int:
        return self.task.output_width(self.num_classes, self.target_shape)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists, the task its name)."""
        return {**asdict(self), "task": self.task.name}

    @classmethod
    def from_json(cls, data: dict[str, Any] | str) -> DataInfo:
        """Inverse of `to_json`; also accepts the JSON text."""
        fields = dict(json.loads(data) if isinstance(data, str) else data)
        for key in ("input_shape", "target_shape"):
            fields[key] = tuple(fields[key])
        return cls(**fields)


@dataclass
class DataBundle:
    """The loaded data: `splits` ("train", and "val"/"test" when present), `info`, `preprocessor`.

    `augment` is the training augmentation (None when off); `loader()` builds a BatchLoader
    with the config's batch settings.
    """

    splits: dict[str, Split]
    info: DataInfo
    preprocessor: Preprocessor
    batch_size: int = 32
    shuffle: bool = True
    drop_last: bool = False
    augment: InputsAugment | None = None

    def loader(self, split: str, seed: int = 0) -> BatchLoader:
        """Batches of `split`: the training split is shuffled/augmented/drop_last as configured;
        val/test keep their order and every example."""
        from nnrun.data.loader import BatchLoader

        training = split == "train"
        return BatchLoader(
            self.splits[split],
            self.batch_size,
            shuffle=self.shuffle and training,
            drop_last=self.drop_last and training,
            seed=seed,
            augment=self.augment if training else None,
        )
