"""Own text files (char/whitespace tokenizers) and own graph files."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun.data import IGNORE_INDEX, load_data
from nnrun.errors import ConfigError, DataError

RING_EDGES = "source,target\n" + "".join(f"{i},{(i + 1) % 12}\n" for i in range(12))
RING_LABELS = "node,label\n" + "".join(f"{i},{'ab'[i < 6]}\n" for i in range(12))


def test_char_text_file_contiguous_splits_and_unknown_chars(write, tmp_path):
    write("t.txt", "abcd" * 50 + "xyz" * 10)
    bundle = load_data(
        {"path": "t.txt", "seq_len": 8, "split": {"val": 0.1, "test": 0.1}}, 0, tmp_path
    )
    pre = bundle.preprocessor
    assert pre.vocab == ["a", "b", "c", "d", "<unk>"]
    test_inputs = bundle.splits["test"].inputs
    assert (test_inputs == pre.vocab.index("<unk>")).any()


def test_whitespace_tokenizer_stride_and_max_vocab(write, tmp_path):
    words = " ".join(["the", "cat", "sat", "the", "mat", "the", "end"] * 20)
    write("t.txt", words)
    bundle = load_data(
        {
            "path": "t.txt",
            "tokenizer": "whitespace",
            "seq_len": 4,
            "stride": 2,
            "max_vocab": 3,
            "split": {"val": 0, "test": 0},
        },
        0,
        tmp_path,
    )
    train = bundle.splits["train"]
    assert bundle.preprocessor.vocab == ["cat", "the", "<unk>"]
    assert len(train) == (140 - 5) // 2 + 1
    np.testing.assert_array_equal(train.inputs[1, :2], train.inputs[0, 2:])


def test_text_shorter_than_a_window_is_an_error(write, tmp_path):
    write("t.txt", "short text")
    with pytest.raises(DataError, match="fewer than seq_len"):
        load_data({"path": "t.txt", "seq_len": 64}, 0, tmp_path)


def test_graph_files_with_seeded_stratified_split(write, tmp_path):
    write("e.csv", RING_EDGES)
    write("l.csv", RING_LABELS)
    cfg = {"graph": {"edges": "e.csv", "labels": "l.csv"}, "split": {"val": 0.25, "test": 0.25}}
    bundle = load_data(cfg, 0, tmp_path)
    train = bundle.splits["train"]
    assert train.inputs["edge_index"].shape == (2, 24)
    assert np.bincount(train.targets[train.targets != IGNORE_INDEX]).tolist() == [3, 3]
    again = load_data(cfg, 0, tmp_path).splits["train"].targets
    np.testing.assert_array_equal(train.targets, again)


def test_graph_features_and_masks_files(write, tmp_path):
    write("e.csv", RING_EDGES)
    write("l.csv", RING_LABELS)
    write("f.csv", "node,f1,f2\n" + "".join(f"{i},{i},{i * i}\n" for i in reversed(range(12))))
    write(
        "m.csv",
        "node,split\n" + "".join(f"{i},{'train' if i % 2 else 'test'}\n" for i in range(12)),
    )
    cfg = {
        "graph": {"edges": "e.csv", "labels": "l.csv", "features": "f.csv", "masks": "m.csv"},
        "normalize": "none",
    }
    bundle = load_data(cfg, 0, tmp_path)
    assert set(bundle.splits) == {"train", "test"}
    np.testing.assert_array_equal(bundle.splits["train"].inputs["x"][:, 0], np.arange(12))


def test_graph_degree_features(write, tmp_path):
    write("e.csv", RING_EDGES)
    write("l.csv", RING_LABELS)
    cfg = {
        "graph": {"edges": "e.csv", "labels": "l.csv", "node_features": "degree"},
        "normalize": "none",
    }
    x = load_data(cfg, 0, tmp_path).splits["train"].inputs["x"]
    assert x.shape == (12, 1) and (x == 2).all()


def test_graph_edge_to_unknown_node_names_the_row(write, tmp_path):
    write("e.csv", RING_EDGES + "3,40\n")
    write("l.csv", RING_LABELS)
    with pytest.raises(DataError, match=r"e.csv, row 14, column 2: expected a node id"):
        load_data({"graph": {"edges": "e.csv", "labels": "l.csv"}}, 0, tmp_path)


def test_graph_without_labels_is_a_config_error(write, tmp_path):
    write("e.csv", RING_EDGES)
    with pytest.raises(ConfigError, match="node labels"):
        load_data({"graph": {"edges": "e.csv"}}, 0, tmp_path)
