"""BatchLoader: (seed, epoch) determinism, drop_last, batch copies, graphs, augmentation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnrun.data import BatchLoader, Split, load_data
from nnrun.data.transforms import random_flip, random_shift
from nnrun.errors import DataError


def make_split(n: int = 10) -> Split:
    return Split(np.arange(n * 3, dtype=np.float32).reshape(n, 3), np.arange(n))


def epoch_targets(loader: BatchLoader, epoch: int) -> list[list[int]]:
    return [targets.tolist() for _, targets in loader.batches(epoch)]


def test_same_seed_and_epoch_give_the_same_batches():
    a = BatchLoader(make_split(), 3, seed=5)
    b = BatchLoader(make_split(), 3, seed=5)
    assert epoch_targets(a, 2) == epoch_targets(b, 2)
    assert epoch_targets(a, 2) != epoch_targets(a, 3)
    assert epoch_targets(a, 2) != epoch_targets(BatchLoader(make_split(), 3, seed=6), 2)


def test_resumed_loader_reproduces_a_later_epoch_without_replaying():
    fresh = BatchLoader(make_split(), 4, seed=1)
    for epoch in range(3):
        list(fresh.batches(epoch))
    resumed = BatchLoader(make_split(), 4, seed=1)
    assert epoch_targets(resumed, 3) == epoch_targets(fresh, 3)


def test_every_example_once_per_epoch_and_len():
    loader = BatchLoader(make_split(10), 4, seed=0)
    assert len(loader) == 3
    seen = sorted(t for batch in epoch_targets(loader, 0) for t in batch)
    assert seen == list(range(10))


def test_drop_last_drops_the_short_batch():
    loader = BatchLoader(make_split(10), 4, drop_last=True)
    assert len(loader) == 2
    assert [len(b) for b in epoch_targets(loader, 0)] == [4, 4]


def test_no_shuffle_keeps_order():
    loader = BatchLoader(make_split(5), 2, shuffle=False)
    assert epoch_targets(loader, 7) == [[0, 1], [2, 3], [4]]


def test_batches_are_small_fresh_arrays_not_views_of_the_data():
    split = make_split(100)
    for inputs, targets in BatchLoader(split, 8).batches(0):
        assert inputs.shape[0] <= 8
        assert not np.shares_memory(inputs, split.inputs)
        np.testing.assert_array_equal(inputs, split.inputs[targets])


def test_dict_inputs_are_batched_per_array():
    split = Split({"a": np.arange(6.0)[:, None], "b": np.arange(6)}, np.arange(6))
    inputs, targets = next(BatchLoader(split, 4, seed=2).batches(0))
    np.testing.assert_array_equal(inputs["b"], targets)
    assert inputs["a"].shape == (4, 1)


def test_graph_is_one_whole_batch():
    train = load_data({"dataset": "karate"}, 0, Path(".")).splits["train"]
    loader = BatchLoader(train, 32)
    batches = list(loader.batches(0))
    assert len(loader) == 1 and len(batches) == 1
    assert batches[0][0] is train.inputs


def test_augmentation_is_seeded_per_epoch_and_batch_and_train_only():
    bundle = load_data(
        {"dataset": "digits", "reshape": [1, 8, 8], "augment": {"shift": 1}}, 0, Path(".")
    )
    first = [x for x, _ in bundle.loader("train", seed=3).batches(0)]
    again = [x for x, _ in bundle.loader("train", seed=3).batches(0)]
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[0], first[1][: len(first[0])])
    val_inputs, _ = next(bundle.loader("val").batches(0))
    np.testing.assert_array_equal(val_inputs, bundle.splits["val"].inputs[: len(val_inputs)])


def test_shift_and_flip_move_pixels():
    image = np.zeros((1, 1, 3, 3), np.float32)
    image[0, 0, 1, 1] = 1.0
    shifted = random_shift(image, np.random.default_rng(0), 1)
    assert shifted.sum() in (0.0, 1.0) and shifted.shape == image.shape
    ramp = np.tile(np.arange(3.0), (64, 1, 1, 1))
    flipped = random_flip(ramp, np.random.default_rng(0))
    assert 0 < (flipped[:, 0, 0, 0] == 2.0).sum() < 64


def test_augment_shift_on_flat_inputs_is_an_error():
    with pytest.raises(DataError, match=r"set data\.reshape"):
        load_data({"dataset": "digits", "augment": {"shift": 1}}, 0, Path("."))
