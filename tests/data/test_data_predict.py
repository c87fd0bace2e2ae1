"""read_inputs: new inputs for predict, preprocessed exactly like training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnrun.data import load_data, read_inputs
from nnrun.errors import DataError


@pytest.fixture(scope="module")
def iris():
    return load_data({"dataset": "iris"}, 0, Path("."))


RAW = np.array([[5.1, 3.5, 1.4, 0.2], [6.3, 2.9, 5.6, 1.8]])


def expected(bundle) -> np.ndarray:
    return bundle.preprocessor.transform_inputs(RAW)


def test_csv_with_header_selects_columns_by_name(iris, write):
    path = write(
        "p.csv",
        "species,petal_width,petal_length,sepal_width,sepal_length\n"
        "x,0.2,1.4,3.5,5.1\nx,1.8,5.6,2.9,6.3\n",
    )
    np.testing.assert_allclose(read_inputs(path, iris.info, iris.preprocessor), expected(iris))


def test_csv_without_header(iris, write):
    path = write("p.csv", "5.1,3.5,1.4,0.2\n6.3,2.9,5.6,1.8\n")
    np.testing.assert_allclose(read_inputs(path, iris.info, iris.preprocessor), expected(iris))


def test_csv_wrong_width_and_bad_cell(iris, write):
    with pytest.raises(DataError, match="expected 4 feature columns"):
        read_inputs(write("a.csv", "1,2,3\n"), iris.info, iris.preprocessor)
    with pytest.raises(DataError, match=r"row 2, column 3 .*expected a number, found 'big'"):
        read_inputs(write("b.csv", "1,2,3,4\n1,2,big,4\n"), iris.info, iris.preprocessor)


def test_csv_header_missing_a_feature_suggests(iris, write):
    path = write("p.csv", "sepal_length,sepal_width,petal_length,petal_widht\n1,2,3,4\n")
    with pytest.raises(DataError, match="did you mean 'petal_widht'"):
        read_inputs(path, iris.info, iris.preprocessor)


def test_npy_npz_and_jsonl(iris, tmp_path, write):
    np.save(tmp_path / "p.npy", RAW)
    np.savez(tmp_path / "p.npz", x=RAW)
    lines = "".join(
        f'{{"sepal_length": {a}, "sepal_width": {b}, "petal_length": {c}, "petal_width": {d}}}\n'
        for a, b, c, d in RAW
    )
    jsonl = write("p.jsonl", lines)
    for path in (tmp_path / "p.npy", tmp_path / "p.npz", jsonl):
        np.testing.assert_allclose(read_inputs(path, iris.info, iris.preprocessor), expected(iris))


def test_npy_wrong_shape(iris, tmp_path):
    np.save(tmp_path / "p.npy", np.zeros((2, 5)))
    with pytest.raises(DataError, match=r"expected inputs of shape \(N, 4\)"):
        read_inputs(tmp_path / "p.npy", iris.info, iris.preprocessor)


def test_images_accept_flat_or_shaped_arrays(tmp_path):
    bundle = load_data({"dataset": "digits", "reshape": [1, 8, 8]}, 0, Path("."))
    np.save(tmp_path / "flat.npy", np.zeros((3, 64)))
    np.save(tmp_path / "one.npy", np.zeros((1, 8, 8)))
    out = read_inputs(tmp_path / "flat.npy", bundle.info, bundle.preprocessor)
    assert out.shape == (3, 1, 8, 8)
    assert read_inputs(tmp_path / "one.npy", bundle.info, bundle.preprocessor).shape == (1, 1, 8, 8)


def test_text_prompt_for_a_language_model(write):
    bundle = load_data({"dataset": "shakespeare"}, 0, Path("."))
    tokens = read_inputs(write("prompt.txt", "To be"), bundle.info, bundle.preprocessor)
    assert tokens.shape == (1, 5) and bundle.preprocessor.decode_tokens(tokens[0]) == "To be"


def test_missing_value_without_fill_names_the_row(iris, write):
    with pytest.raises(DataError, match=r"row 2, column 3 \('petal_length'\): missing value"):
        read_inputs(write("p.csv", "1,2,3,4\n1,2,,4\n"), iris.info, iris.preprocessor)
    with pytest.raises(DataError, match=r"example 2: missing value in feature 3"):
        iris.preprocessor.transform_inputs(np.array([[1, 2, 3, 4], [1, 2, np.nan, 4]]))
