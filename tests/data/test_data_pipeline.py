"""Splitting, missing values, normalization from train only, targets, saved state."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nnrun.data import DATA_SPEC, DataInfo, Preprocessor, load_data
from nnrun.data.options import SplitSpec, data_spec
from nnrun.data.split import split_indices
from nnrun.errors import ConfigError, DataError

HERE = Path(".")


def test_split_sizes_follow_fractions():
    bundle = load_data({"dataset": "iris", "split": {"val": 0.2, "test": 0.1}}, 0, HERE)
    assert {k: len(s) for k, s in bundle.splits.items()} == {"train": 105, "val": 30, "test": 15}


def test_splits_are_stratified_for_classification():
    bundle = load_data({"dataset": "iris"}, 3, HERE)
    for name, size in (("train", 35), ("val", 5), ("test", 10)):
        assert np.bincount(bundle.splits[name].targets).tolist() == [size] * 3


def test_split_is_a_function_of_the_seed():
    first = load_data({"dataset": "wine"}, 1, HERE).splits["test"].inputs
    again = load_data({"dataset": "wine"}, 1, HERE).splits["test"].inputs
    other = load_data({"dataset": "wine"}, 2, HERE).splits["test"].inputs
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_data_seed_overrides_run_seed():
    a = load_data({"dataset": "wine", "seed": 7}, 1, HERE).splits["test"].inputs
    b = load_data({"dataset": "wine", "seed": 7}, 2, HERE).splits["test"].inputs
    np.testing.assert_array_equal(a, b)


def test_split_indices_partition_every_example_once():
    labels = np.repeat(np.arange(4), [50, 30, 15, 5])
    parts = split_indices(100, {"val": 0.1, "test": 0.2}, 0, labels)
    everything = np.concatenate(list(parts.values()))
    assert sorted(everything.tolist()) == list(range(100))
    assert (len(parts["val"]), len(parts["test"])) == (10, 20)
    assert set(labels[parts["train"]]) == {0, 1, 2, 3}


def test_standardization_uses_train_statistics_only():
    bundle = load_data({"dataset": "diabetes"}, 0, HERE)
    train = bundle.splits["train"].inputs
    np.testing.assert_allclose(train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(train.std(axis=0), 1, atol=1e-4)
    assert np.abs(bundle.splits["test"].inputs.mean(axis=0)).max() > 1e-3


def test_transform_inputs_reuses_training_statistics(write, tmp_path):
    write("d.csv", "a,b,y\n" + "".join(f"{i},{100 + 3 * i},{i}\n" for i in range(40)))
    bundle = load_data({"path": "d.csv", "split": {"val": 0, "test": 0.5}}, 0, tmp_path)
    pre = bundle.preprocessor
    raw = np.array([[0.0, 100.0], [39.0, 217.0]])
    expected = (raw - pre.shift) / pre.scale
    np.testing.assert_allclose(pre.transform_inputs(raw), expected.astype(np.float32))


def test_minmax_maps_train_to_unit_interval():
    train = load_data({"dataset": "digits", "normalize": "minmax"}, 0, HERE).splits["train"]
    assert train.inputs.min() == 0.0 and train.inputs.max() == 1.0


def test_normalize_none_keeps_raw_values():
    train = load_data({"dataset": "digits", "normalize": "none"}, 0, HERE).splits["train"]
    assert train.inputs.max() == 16.0 and train.inputs.dtype == np.float32


def test_missing_value_error_names_row_and_column(write, tmp_path):
    write("d.csv", "a,b,y\n1,2,0\n3,,1\n5,6,0\n")
    with pytest.raises(DataError, match=r"d.csv, row 3: missing value in feature 'b'"):
        load_data({"path": "d.csv"}, 0, tmp_path)


def test_missing_values_dropped_or_filled_with_train_mean(write, tmp_path):
    rows = "".join(f"{i},{'NA' if i == 5 else i},{i % 2}\n" for i in range(20))
    write("d.csv", "a,b,y\n" + rows)
    common = {"path": "d.csv", "split": {"val": 0, "test": 0}, "normalize": "none"}
    dropped = load_data({**common, "on_missing": "drop"}, 0, tmp_path)
    assert len(dropped.splits["train"]) == 19
    filled = load_data({**common, "on_missing": "fill"}, 0, tmp_path)
    train = filled.splits["train"].inputs
    mean_without_5 = (sum(range(20)) - 5) / 19
    assert train[5, 1] == pytest.approx(mean_without_5)
    assert filled.preprocessor.transform_inputs(np.array([[1.0, np.nan]]))[0, 1] == pytest.approx(
        mean_without_5
    )


def test_missing_label_cannot_be_filled(write, tmp_path):
    write("d.csv", "a,y\n1,0\n2,\n3,1\n")
    with pytest.raises(DataError, match=r"row 3: the target 'y' is missing"):
        load_data({"path": "d.csv", "on_missing": "fill"}, 0, tmp_path)


def test_binary_targets_are_float_column_vectors():
    bundle = load_data({"dataset": "breast_cancer"}, 0, HERE)
    targets = bundle.splits["train"].targets
    assert targets.shape[1:] == (1,) and targets.dtype == np.float32
    assert set(np.unique(targets)) == {0.0, 1.0}
    assert bundle.info.output_size == 1
    assert bundle.preprocessor.decode_labels(np.array([0, 1])).tolist() == ["malignant", "benign"]


def test_task_override_makes_binary_set_two_class_classification():
    bundle = load_data({"dataset": "breast_cancer", "task": "classification"}, 0, HERE)
    assert bundle.splits["train"].targets.dtype == np.int64 and bundle.info.output_size == 2


def test_binary_with_three_classes_is_an_error():
    with pytest.raises(DataError, match="exactly 2 classes"):
        load_data({"dataset": "iris", "task": "binary"}, 0, HERE)


def test_regression_targets_are_float_columns():
    bundle = load_data({"dataset": "diabetes"}, 0, HERE)
    assert bundle.splits["train"].targets.shape[1:] == (1,)
    assert bundle.info.num_classes is None and bundle.info.output_size == 1


def test_one_hot_targets():
    targets = load_data({"dataset": "iris", "one_hot": True}, 0, HERE).splits["val"].targets
    assert targets.shape == (15, 3) and np.all(targets.sum(axis=1) == 1)


def test_reshape_digits_to_images_and_bad_reshape():
    bundle = load_data({"dataset": "digits", "reshape": [1, 8, 8]}, 0, HERE)
    assert bundle.splits["train"].inputs.shape[1:] == (1, 8, 8)
    assert bundle.info.input_shape == (1, 8, 8)
    with pytest.raises(DataError, match="does not fit examples of 64 values"):
        load_data({"dataset": "digits", "reshape": [3, 8, 8]}, 0, HERE)


def test_decode_labels_returns_original_strings():
    pre = load_data({"dataset": "iris"}, 0, HERE).preprocessor
    assert pre.decode_labels(np.array([2, 0])).tolist() == ["virginica", "setosa"]


def test_preprocessor_state_round_trip_is_json_and_arrays():
    pre = load_data({"dataset": "wine"}, 0, HERE).preprocessor
    arrays, meta = pre.state()
    restored = Preprocessor.from_state(arrays, json.loads(json.dumps(meta)))
    x = np.random.default_rng(0).random((3, 13)) * 100
    np.testing.assert_array_equal(restored.transform_inputs(x), pre.transform_inputs(x))
    assert restored.decode_labels(np.array([1])).tolist() == ["class_1"]
    assert all(isinstance(a, np.ndarray) and a.dtype == np.float64 for a in arrays.values())


def test_data_info_json_round_trip():
    info = load_data({"dataset": "digits", "reshape": [1, 8, 8]}, 0, HERE).info
    text = json.dumps(info.to_json())
    assert DataInfo.from_json(text) == info


def test_unknown_dataset_and_bad_params_are_config_errors():
    with pytest.raises(ConfigError, match="did you mean 'digits'"):
        load_data({"dataset": "digit"}, 0, HERE)
    with pytest.raises(ConfigError, match=r"data.params.nois.*did you mean 'noise'"):
        load_data({"dataset": "moons", "params": {"nois": 0.1}}, 0, HERE)
    with pytest.raises(ConfigError, match="params only apply"):
        load_data({"path": "x.csv", "params": {"noise": 0.1}}, 0, HERE)


def test_inferred_task_regression_for_many_distinct_values(write, tmp_path):
    write("d.csv", "a,y\n" + "".join(f"{i},{i * 1.5}\n" for i in range(50)))
    assert load_data({"path": "d.csv"}, 0, tmp_path).info.task.name == "regression"


def test_data_spec_documents_every_key_and_defaults_fill_in():
    assert all(option.doc for option in DATA_SPEC.values())
    cfg = data_spec({"dataset": "iris"})
    assert (cfg.batch_size, cfg.shuffle, cfg.drop_last) == (32, True, False)
    assert cfg.split == SplitSpec(val=0.1, test=0.2, stratify=True)
    assert data_spec(cfg) is cfg


def test_split_fractions_must_leave_training_data():
    with pytest.raises(ConfigError, match="val \\+ test < 1"):
        load_data({"dataset": "iris", "split": {"val": 0.5, "test": 0.5}}, 0, HERE)
