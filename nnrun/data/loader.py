"""Mini-batches of a split, reproducible per (seed, epoch) so resumed runs see the same batches."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from nnrun.data.info import Inputs, InputsAugment, Split
from nnrun.data.split import STREAM_AUGMENT, STREAM_SHUFFLE, rng_for


class BatchLoader:
    """Batches `(inputs, targets)` of a split, like torch's DataLoader with a seeded sampler.

    The order of epoch `e` is a pure function of (seed, e); only the batch's rows are copied
    (fancy indexing with the batch's index array). Dict inputs are batched along axis 0 per
    array, except a graph, which is always one whole batch. `augment(inputs, rng)` is applied
    per batch with an rng seeded by (seed, epoch, batch index).
    """

    def __init__(
        self,
        split: Split,
        batch_size: int,
        shuffle: bool = True,
        drop_last: bool = False,
        seed: int = 0,
        augment: InputsAugment | None = None,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.split = split
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.augment = augment
        self.num_examples = 1 if split.is_graph else len(split.targets)

    def __len__(self) -> int:
        if self.split.is_graph:
            return 1
        if self.drop_last:
            return self.num_examples // self.batch_size
        return (self.num_examples + self.batch_size - 1) // self.batch_size

    def order(self, epoch: int) -> np.ndarray:
        """The example indices of epoch `epoch`, in batch order."""
        if not self.shuffle:
            return np.arange(self.num_examples)
        return rng_for(self.seed, STREAM_SHUFFLE, epoch).permutation(self.num_examples)

    def batches(self, epoch: int = 0) -> Iterator[tuple[Inputs, np.ndarray]]:
        if self.split.is_graph:
            yield self.split.inputs, self.split.targets
            return
        order = self.order(epoch)
        for number in range(len(self)):
            index = order[number * self.batch_size : (number + 1) * self.batch_size]
            inputs = _take(self.split.inputs, index)
            if self.augment is not None:
                rng = rng_for(self.seed, STREAM_AUGMENT, epoch, number)
                inputs = self.augment(inputs, rng)
            yield inputs, self.split.targets[index]


def _take(inputs: Inputs, index: np.ndarray) -> Inputs:
    if isinstance(inputs, dict):
        return {name: array[index] for name, array in inputs.items()}
    return inputs[index]
