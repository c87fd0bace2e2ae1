"""Seeded synthetic datasets; constructor arguments are the `data.params` of each generator.

Every generator draws from `rng_for(seed, STREAM_GENERATE)`: the same seed and parameters give
the same data, independent of the split and the shuffling.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import numpy as np

from nnrun.data.info import IGNORE_INDEX
from nnrun.data.sources import BuiltinDataset, TableSource, TokenSource
from nnrun.data.split import STREAM_GENERATE, rng_for
from nnrun.data.table import Table
from nnrun.errors import ArgumentError
from nnrun.limits import check_allocation
from nnrun.registry import DATASETS


def _at_least(name: str, value: float, owner: str, minimum: float = 1) -> None:
    if name == "n_samples":  # each example holds at least two float64 numbers
        check_allocation(int(value), 16, f"dataset {owner!r} with n_samples {value:,}")
    if value < minimum:
        raise ArgumentError(
            f"dataset {owner!r}: {name} must be >= {minimum}, got {value}",
            key=name,
            expected=f">= {minimum}",
            found=repr(value),
        )


class Generated(BuiltinDataset):
    """A 2-D (or n-D) point cloud with class labels 0..K-1 or a regression target."""

    seeded = True
    feature_names: ClassVar[list[str] | None] = None

    def table(self, x: np.ndarray, y: np.ndarray, classes: int | None) -> TableSource:
        names = self.feature_names or [f"x{j}" for j in range(x.shape[1])]
        table = Table(x.astype(np.float64), y.astype(np.float64), names, f"dataset {self.name}")
        return TableSource(
            {"all": table}, self.task, None if classes is None else list(range(classes))
        )

    @property
    def name(self) -> str:
        return type(self).__name__.lower()


@DATASETS.register("xor")
class Xor(Generated):
    task = "classification"
    description = "four Gaussian clusters at (+-1, +-1); class = XOR of the signs"
    input_shape = "(2,)"
    target = "2 classes"
    size = "n_samples (400)"

    def __init__(self, n_samples: int = 400, noise: float = 0.3):
        _at_least("n_samples", n_samples, "xor", 4)
        _at_least("noise", noise, "xor", 0)
        self.n_samples, self.noise = n_samples, noise

    def load(self, seed: int) -> TableSource:
        rng = rng_for(seed, STREAM_GENERATE)
        signs = rng.integers(0, 2, size=(self.n_samples, 2))
        x = (2 * signs - 1) + rng.normal(0, self.noise, (self.n_samples, 2))
        return self.table(x, signs[:, 0] ^ signs[:, 1], 2)


@DATASETS.register("spirals")
class Spirals(Generated):
    task = "classification"
    description = "interleaved spiral arms, one per class (CS231n style)"
    input_shape = "(2,)"
    target = "n_classes (2)"
    size = "n_samples (600)"

    def __init__(
        self, n_samples: int = 600, n_classes: int = 2, noise: float = 0.2, turns: float = 1.0
    ):
        _at_least("n_samples", n_samples, "spirals", n_classes)
        _at_least("n_classes", n_classes, "spirals", 2)
        _at_least("noise", noise, "spirals", 0)
        self.n_samples, self.n_classes, self.noise, self.turns = n_samples, n_classes, noise, turns

    def load(self, seed: int) -> TableSource:
        rng = rng_for(seed, STREAM_GENERATE)
        y = np.arange(self.n_samples) % self.n_classes
        radius = rng.uniform(0.05, 1.0, self.n_samples)
        angle = (
            2 * np.pi * y / self.n_classes
            + 2 * np.pi * self.turns * radius
            + rng.normal(0, self.noise, self.n_samples)
        )
        return self.table(
            radius[:, None] * np.stack([np.sin(angle), np.cos(angle)], 1), y, self.n_classes
        )


@DATASETS.register("moons")
class Moons(Generated):
    task = "classification"
    description = "two interleaving half circles (as sklearn's make_moons)"
    input_shape = "(2,)"
    target = "2 classes"
    size = "n_samples (400)"

    def __init__(self, n_samples: int = 400, noise: float = 0.1):
        _at_least("n_samples", n_samples, "moons", 2)
        _at_least("noise", noise, "moons", 0)
        self.n_samples, self.noise = n_samples, noise

    def load(self, seed: int) -> TableSource:
        rng = rng_for(seed, STREAM_GENERATE)
        y = np.arange(self.n_samples) % 2
        t = rng.uniform(0, np.pi, self.n_samples)
        upper = np.stack([np.cos(t), np.sin(t)], 1)
        lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1)
        x = np.where(y[:, None] == 0, upper, lower) + rng.normal(0, self.noise, (len(y), 2))
        return self.table(x, y, 2)


@DATASETS.register("circles")
class Circles(Generated):
    task = "classification"
    description = "two concentric circles; class 1 is the inner one (radius `factor`)"
    input_shape = "(2,)"
    target = "2 classes"
    size = "n_samples (400)"

    def __init__(self, n_samples: int = 400, noise: float = 0.05, factor: float = 0.5):
        _at_least("n_samples", n_samples, "circles", 2)
        _at_least("noise", noise, "circles", 0)
        if not 0 < factor < 1:
            raise ArgumentError(
                f"dataset 'circles': factor must be in (0, 1), got {factor}",
                key="factor",
                expected="0 < factor < 1",
                found=repr(factor),
            )
        self.n_samples, self.noise, self.factor = n_samples, noise, factor

    def load(self, seed: int) -> TableSource:
        rng = rng_for(seed, STREAM_GENERATE)
        y = np.arange(self.n_samples) % 2
        t = rng.uniform(0, 2 * np.pi, self.n_samples)
        radius = np.where(y == 1, self.factor, 1.0)
        x = radius[:, None] * np.stack([np.cos(t), np.sin(t)], 1)
        return self.table(x + rng.normal(0, self.noise, x.shape), y, 2)


@DATASETS.register("gaussian_blobs", "blobs")
class GaussianBlobs(Generated):
    task = "classification"
    description = "isotropic Gaussian clusters, centres uniform in [-box, box]^n_features"
    input_shape = "(n_features,) (2)"
    target = "n_classes (3)"
    size = "n_samples (600)"

    def __init__(
        self,
        n_samples: int = 600,
        n_classes: int = 3,
        n_features: int = 2,
        std: float = 1.0,
        box: float = 5.0,
    ):
        _at_least("n_samples", n_samples, "gaussian_blobs", n_classes)
        _at_least("n_classes", n_classes, "gaussian_blobs", 2)
        _at_least("n_features", n_features, "gaussian_blobs")
        _at_least("std", std, "gaussian_blobs", 0)
        self.n_samples, self.n_classes, self.n_features = n_samples, n_classes, n_features
        self.std, self.box = std, box

    def load(self, seed: int) -> TableSource:
        rng = rng_for(seed, STREAM_GENERATE)
        centres = rng.uniform(-self.box, self.box, (self.n_classes, self.n_features))
        y = np.arange(self.n_samples) % self.n_classes
        x = centres[y] + rng.normal(0, self.std, (self.n_samples, self.n_features))
        return self.table(x, y, self.n_classes)


@DATASETS.register("sine")
class Sine(Generated):
    task = "regression"
    description = "y = sin(x) + noise for x uniform in [-periods*pi, periods*pi]"
    input_shape = "(1,)"
    target = "regression (N, 1)"
    size = "n_samples (500)"
    feature_names: ClassVar[list[str] | None] = ["x"]

    def __init__(self, n_samples: int = 500, noise: float = 0.1, periods: float = 1.0):
        _at_least("n_samples", n_samples, "sine", 2)
        _at_least("noise", noise, "sine", 0)
        self.n_samples, self.noise, self.periods = n_samples, noise, periods

    def load(self, seed: int) -> TableSource:
        rng = rng_for(seed, STREAM_GENERATE)
        x = rng.uniform(-np.pi * self.periods, np.pi * self.periods, (self.n_samples, 1))
        y = np.sin(x) + rng.normal(0, self.noise, x.shape)
        return self.table(x, y, None)


@DATASETS.register("parity")
class Parity(Generated):
    task = "classification"
    description = "random bit strings (0/1 floats); class = parity of the number of ones"
    input_shape = "(n_bits,) (8); reshape [n_bits, 1] for RNNs"
    target = "2 classes"
    size = "n_samples (1000)"

    def __init__(self, n_samples: int = 1000, n_bits: int = 8):
        _at_least("n_samples", n_samples, "parity", 2)
        _at_least("n_bits", n_bits, "parity")
        self.n_samples, self.n_bits = n_samples, n_bits

    def load(self, seed: int) -> TableSource:
        rng = rng_for(seed, STREAM_GENERATE)
        bits = rng.integers(0, 2, (self.n_samples, self.n_bits))
        return self.table(bits, bits.sum(axis=1) % 2, 2)


class SequenceTask(BuiltinDataset):
    """Random token sequences (N, seq_len) over `vocab_size` symbols and a target sequence."""

    task = "sequence"
    seeded = True
    input_shape = "(seq_len,) int64 (10)"
    target = "(seq_len,) tokens, vocab_size classes (10)"
    size = "n_samples (2000)"

    def __init__(self, n_samples: int = 2000, seq_len: int = 10, vocab_size: int = 10):
        owner = type(self).__name__.lower()
        _at_least("n_samples", n_samples, owner, 2)
        _at_least("seq_len", seq_len, owner)
        _at_least("vocab_size", vocab_size, owner, 2)
        self.n_samples, self.seq_len, self.vocab_size = n_samples, seq_len, vocab_size

    def load(self, seed: int) -> TokenSource:
        rng = rng_for(seed, STREAM_GENERATE)
        inputs = rng.integers(0, self.vocab_size, (self.n_samples, self.seq_len), dtype=np.int64)
        vocab = [str(i) for i in range(self.vocab_size)]
        return TokenSource(inputs, self.targets_of(inputs), vocab)

    @abstractmethod
    def targets_of(self, inputs: np.ndarray) -> np.ndarray:
        """(N, seq_len) int64 targets for `inputs`."""


@DATASETS.register("copy")
class Copy(SequenceTask):
    description = (
        "repeat the input, `delay` positions late; the first `delay` targets are -100 (ignored)"
    )

    def __init__(
        self, n_samples: int = 2000, seq_len: int = 10, vocab_size: int = 10, delay: int = 0
    ):
        super().__init__(n_samples, seq_len, vocab_size)
        if not 0 <= delay < seq_len:
            raise ArgumentError(
                f"dataset 'copy': delay must be in 0..seq_len-1, got {delay}",
                key="delay",
                expected=f"0..{seq_len - 1}",
                found=repr(delay),
            )
        self.delay = delay

    def targets_of(self, inputs: np.ndarray) -> np.ndarray:
        targets = np.full_like(inputs, IGNORE_INDEX)
        targets[:, self.delay :] = inputs[:, : inputs.shape[1] - self.delay]
        return targets


@DATASETS.register("reverse")
class Reverse(SequenceTask):
    description = "output the input sequence reversed"

    def targets_of(self, inputs: np.ndarray) -> np.ndarray:
        return inputs[:, ::-1].copy()


@DATASETS.register("sort")
class Sort(SequenceTask):
    description = "output the input tokens in ascending order"

    def targets_of(self, inputs: np.ndarray) -> np.ndarray:
        return np.sort(inputs, axis=1)
