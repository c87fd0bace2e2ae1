"""Reading own files: CSV/TSV/gz, JSON Lines, .npy, .npz, folders; bad data errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from nnrun.data import load_data
from nnrun.errors import ConfigError, DataError
from tests.data.conftest import IRIS_LIKE


def load(cfg: dict, base: Path, seed: int = 0):
    return load_data(cfg, seed, base)


def test_csv_with_header_and_string_labels(write, tmp_path):
    write("d.csv", IRIS_LIKE)
    bundle = load({"path": "d.csv"}, tmp_path)
    assert bundle.info.feature_names == ["a", "b"]
    assert bundle.info.class_names == ["cat", "dog", "eel"]
    assert bundle.info.task.name == "classification"
    assert sum(len(s) for s in bundle.splits.values()) == 60


def test_csv_without_header_uses_last_column_and_numeric_names(write, tmp_path):
    write("d.csv", "".join(f"{i},{i * 2},{i % 2}\n" for i in range(20)))
    bundle = load({"path": "d.csv", "split": {"val": 0, "test": 0}}, tmp_path)
    assert bundle.info.feature_names == ["column_1", "column_2"]
    assert bundle.info.class_names == ["0", "1"]
    assert len(bundle.splits["train"]) == 20


def test_header_false_keeps_first_row_as_data(write, tmp_path):
    write("d.csv", "".join(f"{i},{i % 2}\n" for i in range(10)))
    bundle = load({"path": "d.csv", "header": False, "split": {"val": 0, "test": 0}}, tmp_path)
    assert len(bundle.splits["train"]) == 10


def test_target_by_name_and_features_subset(write, tmp_path):
    write("d.csv", "y,a,b,c\n" + "".join(f"{i % 2},{i},{i + 1},{i + 2}\n" for i in range(20)))
    bundle = load({"path": "d.csv", "target": "y", "features": ["c", 1]}, tmp_path)
    assert bundle.info.feature_names == ["c", "a"]
    assert bundle.info.input_shape == (2,)


def test_tsv_and_gzip(tmp_path):
    text = "a\tb\ty\n" + "".join(f"{i}\t{i * i}\t{i % 2}\n" for i in range(20))
    with gzip.open(tmp_path / "d.tsv.gz", "wt") as handle:
        handle.write(text)
    bundle = load({"path": "d.tsv.gz"}, tmp_path)
    assert bundle.info.feature_names == ["a", "b"]


def test_unknown_target_column_suggests_name(write, tmp_path):
    write("d.csv", IRIS_LIKE)
    with pytest.raises(DataError, match=r"unknown target column 'lable'.*did you mean 'label'"):
        load({"path": "d.csv", "target": "lable"}, tmp_path)


def test_ragged_row_names_the_row(write, tmp_path):
    write("d.csv", "a,b,y\n1,2,0\n3,4,1\n5,0\n")
    with pytest.raises(DataError, match=r"row 4: expected 3 columns .* found 2"):
        load({"path": "d.csv"}, tmp_path)


def test_non_numeric_cell_names_row_and_column(write, tmp_path):
    write("d.csv", "a,b,y\n1,2,0\n3,x4,1\n")
    with pytest.raises(DataError, match=r"row 3, column 2 \('b'\): expected a number, found 'x4'"):
        load({"path": "d.csv"}, tmp_path)


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load({"path": "nope.csv"}, tmp_path)


def test_unknown_extension_asks_for_format(write, tmp_path):
    write("d.dat", "1,2\n")
    with pytest.raises(DataError, match=r"data\.format"):
        load({"path": "d.dat"}, tmp_path)


def test_empty_file_is_an_error(write, tmp_path):
    write("d.csv", "\n\n")
    with pytest.raises(DataError, match="no rows"):
        load({"path": "d.csv"}, tmp_path)


def test_jsonl_objects_with_list_features(write, tmp_path):
    lines = [f'{{"pixels": [{i}, {i + 1}, {i + 2}], "label": "{"ab"[i % 2]}"}}' for i in range(20)]
    write("d.jsonl", "\n".join(lines) + "\n")
    bundle = load({"path": "d.jsonl", "target": "label"}, tmp_path)
    assert bundle.info.feature_names == ["pixels[0]", "pixels[1]", "pixels[2]"]
    assert bundle.info.class_names == ["a", "b"]


def test_jsonl_mismatched_fields_and_bad_json_name_the_row(write, tmp_path):
    write("d.jsonl", '{"a": 1, "y": 0}\n{"a": 2, "z": 1}\n')
    with pytest.raises(DataError, match=r"row 2: expected the fields"):
        load({"path": "d.jsonl"}, tmp_path)
    write("e.jsonl", '{"a": 1, "y": 0}\n{"a": 2,\n')
    with pytest.raises(DataError, match=r"row 2: invalid JSON"):
        load({"path": "e.jsonl"}, tmp_path)


def test_npy_table_with_target_column(tmp_path):
    data = np.column_stack([np.arange(30.0), np.arange(30) % 3])
    np.save(tmp_path / "d.npy", data)
    bundle = load({"path": "d.npy", "split": {"val": 0, "test": 0}}, tmp_path)
    assert bundle.info.num_classes == 3
    assert bundle.splits["train"].inputs.shape == (30, 1)


def test_npy_with_wrong_rank_is_an_error(tmp_path):
    np.save(tmp_path / "d.npy", np.zeros((4, 2, 2)))
    with pytest.raises(DataError, match="2-D numeric array"):
        load({"path": "d.npy"}, tmp_path)


def test_npz_named_arrays_with_fixed_test_split(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "d.npz",
        x=rng.random((50, 1, 4, 4)),
        y=np.arange(50) % 2,
        x_test=rng.random((10, 1, 4, 4)),
        y_test=np.arange(10) % 2,
    )
    bundle = load({"path": "d.npz", "split": {"val": 0.2}}, tmp_path)
    assert bundle.info.input_shape == (1, 4, 4)
    assert {k: len(s) for k, s in bundle.splits.items()} == {"train": 40, "val": 10, "test": 10}


def test_npz_without_targets_is_an_error(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((3, 2)))
    with pytest.raises(DataError, match="no matching targets"):
        load({"path": "d.npz"}, tmp_path)


def test_folder_of_npy_arrays_one_subfolder_per_class(tmp_path):
    for label in ("circle", "square"):
        (tmp_path / "imgs" / label).mkdir(parents=True)
        for i in range(5):
            np.save(tmp_path / "imgs" / label / f"{i}.npy", np.full((2, 3), i, np.float32))
    bundle = load({"path": "imgs", "split": {"val": 0, "test": 0}}, tmp_path)
    assert bundle.info.class_names == ["circle", "square"]
    assert bundle.splits["train"].inputs.shape == (10, 2, 3)


def test_separate_train_val_test_files(write, tmp_path):
    rows = "".join(f"{i},{i % 3}\n" for i in range(30))
    for name in ("tr.csv", "va.csv", "te.csv"):
        write(name, "x,y\n" + rows)
    bundle = load({"train": "tr.csv", "val": "va.csv", "test": "te.csv"}, tmp_path)
    assert {k: len(s) for k, s in bundle.splits.items()} == {"train": 30, "val": 30, "test": 30}


def test_label_in_val_file_outside_train_classes_names_the_row(write, tmp_path):
    write("tr.csv", "x,y\n" + "".join(f"{i},{'ab'[i % 2]}\n" for i in range(10)))
    write("va.csv", "x,y\n1,a\n2,c\n")
    with pytest.raises(DataError, match=r"va.csv, row 3: label 'c' is not one of the 2 classes"):
        load({"train": "tr.csv", "val": "va.csv"}, tmp_path)


def test_declared_classes_reject_other_labels(write, tmp_path):
    write("d.csv", IRIS_LIKE)
    with pytest.raises(DataError, match="label 'eel' is not one of"):
        load({"path": "d.csv", "classes": ["cat", "dog"]}, tmp_path)


def test_two_sources_are_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="exactly one source"):
        load({"dataset": "iris", "path": "d.csv"}, tmp_path)


def test_unknown_data_key_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'batchsize'"):
        load({"dataset": "iris", "batchsize": 3}, tmp_path)
