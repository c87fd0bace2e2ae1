"""Every built-in dataset loads with its documented shapes/classes; generators are seeded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnrun.data import IGNORE_INDEX, dataset_table, load_data
from nnrun.registry import DATASETS

HERE = Path(".")
REAL = {
    # name: (task, input_shape, num_classes, total examples)
    "digits": ("classification", (64,), 10, 1797),
    "iris": ("classification", (4,), 3, 150),
    "wine": ("classification", (13,), 3, 178),
    "breast_cancer": ("binary", (30,), 2, 569),
    "diabetes": ("regression", (10,), None, 442),
    "mnist1d": ("classification", (40,), 10, 5000),
}
SYNTHETIC = [
    "xor",
    "spirals",
    "moons",
    "circles",
    "gaussian_blobs",
    "sine",
    "parity",
    "copy",
    "reverse",
    "sort",
]


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_dataset_shapes_and_classes(name):
    task, shape, classes, total = REAL[name]
    bundle = load_data({"dataset": name}, 0, HERE)
    assert (bundle.info.task.name, bundle.info.input_shape, bundle.info.num_classes) == (
        task,
        shape,
        classes,
    )
    assert sum(len(s) for s in bundle.splits.values()) == total
    for split in bundle.splits.values():
        assert split.inputs.dtype == np.float32 and np.isfinite(split.inputs).all()


def test_mnist1d_keeps_its_fixed_test_set():
    bundle = load_data({"dataset": "mnist1d", "split": {"val": 0.25}}, 0, HERE)
    assert {k: len(s) for k, s in bundle.splits.items()} == {
        "train": 3000,
        "val": 1000,
        "test": 1000,
    }


@pytest.mark.parametrize("name", SYNTHETIC)
def test_generators_are_seeded(name):
    a = load_data({"dataset": name}, 4, HERE).splits["train"]
    b = load_data({"dataset": name}, 4, HERE).splits["train"]
    c = load_data({"dataset": name}, 5, HERE).splits["train"]
    np.testing.assert_array_equal(a.inputs, b.inputs)
    assert not np.array_equal(a.inputs, c.inputs)


def test_generator_params_change_the_data():
    bundle = load_data(
        {
            "dataset": "gaussian_blobs",
            "split": {"val": 0, "test": 0},
            "params": {"n_samples": 90, "n_classes": 5, "n_features": 3},
        },
        0,
        HERE,
    )
    assert bundle.splits["train"].inputs.shape == (90, 3) and bundle.info.num_classes == 5


def test_parity_labels_are_bit_parity():
    bundle = load_data({"dataset": "parity", "normalize": "none"}, 0, HERE)
    train = bundle.splits["train"]
    np.testing.assert_array_equal(train.inputs.sum(axis=1) % 2, train.targets)


def test_sequence_tasks_targets():
    cfg = {"split": {"val": 0, "test": 0}, "params": {"n_samples": 20, "seq_len": 6}}
    rev = load_data({"dataset": "reverse", **cfg}, 0, HERE).splits["train"]
    np.testing.assert_array_equal(rev.targets, rev.inputs[:, ::-1])
    srt = load_data({"dataset": "sort", **cfg}, 0, HERE).splits["train"]
    np.testing.assert_array_equal(srt.targets, np.sort(srt.inputs, axis=1))
    assert srt.inputs.dtype == np.int64
    delayed = {**cfg, "params": {**cfg["params"], "delay": 2}}
    cp = load_data({"dataset": "copy", **delayed}, 0, HERE).splits["train"]
    assert (cp.targets[:, :2] == IGNORE_INDEX).all()
    np.testing.assert_array_equal(cp.targets[:, 2:], cp.inputs[:, :-2])


def test_shakespeare_windows_are_shifted_by_one_and_vocab_from_train():
    bundle = load_data({"dataset": "shakespeare", "seq_len": 32}, 0, HERE)
    train = bundle.splits["train"]
    assert train.inputs.shape[1:] == (32,) and train.inputs.dtype == np.int64
    np.testing.assert_array_equal(train.inputs[:, 1:], train.targets[:, :-1])
    np.testing.assert_array_equal(train.inputs[1, 0], train.targets[0, -1])
    pre = bundle.preprocessor
    assert pre.decode_tokens(train.inputs[0][:6]) == "HAMLET"
    assert bundle.info.vocab == pre.vocab and bundle.info.num_classes == len(pre.vocab)


def test_karate_fixed_split_and_ignored_targets():
    bundle = load_data({"dataset": "karate"}, 0, HERE)
    train = bundle.splits["train"]
    assert train.inputs["x"].shape == (34, 34) and train.inputs["edge_index"].shape == (2, 156)
    assert train.inputs["edge_index"].dtype == np.int64
    assert np.flatnonzero(train.targets != IGNORE_INDEX).tolist() == [0, 33]
    assert set(train.targets[[0, 33]]) == {0, 1}
    sizes = {k: len(s) for k, s in bundle.splits.items()}
    assert sizes == {"train": 2, "val": 6, "test": 26}
    labelled = sum((s.targets != IGNORE_INDEX).astype(int) for s in bundle.splits.values())
    assert (labelled == 1).all()


def test_dataset_table_lists_every_registered_dataset_with_matching_metadata():
    rows = {row["name"]: row for row in dataset_table()}
    assert set(rows) == set(DATASETS.names())
    for name, (task, shape, _, _) in REAL.items():
        assert rows[name]["task"] == task and str(shape) in rows[name]["input_shape"]
    assert all(row["description"] for row in rows.values())
