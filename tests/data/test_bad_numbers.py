"""Infinite, float32-overflowing, empty and single-class data are refused with the file,
row and column (issue 12, root causes 7 and 8)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnrun.data import load_data, read_inputs
from nnrun.errors import ConfigError, DataError


def table(tmp_path: Path, rows: list[str], header: str = "a,b,label") -> Path:
    path = tmp_path / "t.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


GOOD = [f"{i % 5}.5,{i % 3}.25,{i % 2}" for i in range(20)]


@pytest.mark.parametrize("cell", ["inf", "-inf", "Infinity", "1e39"])
def test_infinite_or_float32_overflowing_features_name_file_row_and_column(tmp_path, cell):
    path = table(tmp_path, [*GOOD[:5], f"1.0,{cell},1", *GOOD[5:]])
    with pytest.raises(DataError) as error:
        load_data({"path": str(path), "target": "label"}, 0, tmp_path)
    message = str(error.value)
    assert "t.csv" in message and "row 7" in message and "'b'" in message
    assert "infinite" in message or "float32" in message


@pytest.mark.parametrize("target", ["price", 1, None])  # by name, by index, the default
def test_infinite_regression_targets_name_file_row_and_target_column(tmp_path, target):
    rows = [f"{i}.0,{i * 1.5}" for i in range(20)] + ["1.0,inf"]
    path = table(tmp_path, rows, "a,price")
    with pytest.raises(DataError) as error:
        load_data({"path": str(path), "target": target, "task": "regression"}, 0, tmp_path)
    assert "t.csv, row 22, target 'price': inf is infinite" in str(error.value)


def test_infinite_targets_of_an_array_name_the_array_and_column(tmp_path):
    path = tmp_path / "d.npz"
    targets = np.zeros((10, 2))
    targets[4, 1] = np.inf
    np.savez(path, x=np.ones((10, 3)), prices=targets)
    with pytest.raises(DataError, match=r"example 5, target 'prices\[1\]': inf is infinite"):
        load_data({"path": str(path), "target": "prices", "task": "regression"}, 0, tmp_path)


def test_single_class_classification_data_is_refused(tmp_path):
    path = table(tmp_path, [f"{i}.0,{i}.5,cat" for i in range(20)])
    with pytest.raises(DataError, match="single class"):
        load_data({"path": str(path), "target": "label"}, 0, tmp_path)


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_empty_arrays_are_refused_for_training(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    if suffix == ".npy":
        np.save(path, np.zeros((0, 3)))
    else:
        np.savez(path, x=np.zeros((0, 2)), y=np.zeros(0))
    with pytest.raises(DataError, match="no rows"):
        load_data({"path": str(path)}, 0, tmp_path)


def test_drop_last_leaving_no_batch_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="drop_last"):
        load_data({"dataset": "iris", "batch_size": 1000, "drop_last": True}, 0, tmp_path)


@pytest.fixture(scope="module")
def iris():
    return load_data({"dataset": "iris"}, 0, Path("."))


def test_empty_and_infinite_prediction_inputs_are_refused(iris, tmp_path):
    np.save(tmp_path / "empty.npy", np.zeros((0, 4)))
    with pytest.raises(DataError, match="0 rows"):
        read_inputs(tmp_path / "empty.npy", iris.info, iris.preprocessor)
    np.save(tmp_path / "inf.npy", np.array([[1.0, 2.0, 3.0, 4.0], [1.0, np.inf, 3.0, 4.0]]))
    with pytest.raises(DataError, match="example 2, value 2"):
        read_inputs(tmp_path / "inf.npy", iris.info, iris.preprocessor)
