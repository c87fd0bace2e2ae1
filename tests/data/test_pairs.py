"""data.pairs: pairwise ranking examples drawn within each split of a regression table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnrun.data import BatchLoader, DataBundle, load_data, read_inputs
from nnrun.data.info import Split
from nnrun.data.options import PairsSpec, data_spec
from nnrun.data.pairs import draw_pairs, pair_split
from nnrun.data.predict import read_labeled
from nnrun.errors import ConfigError, DataError

SPLIT = {"val": 0.2, "test": 0.2}


def table_text(rows: int = 60) -> str:
    """A regression CSV whose first feature is the row id, so every row is unique."""
    lines = [f"{i},{(i * 7) % 13}.5,{(i * 37) % 101 / 4}\n" for i in range(rows)]
    return "id,noise,score\n" + "".join(lines)


def load(path: Path, seed: int = 0, **options) -> DataBundle:
    return load_data({"path": str(path), "split": SPLIT, **options}, seed, Path("."))


@pytest.fixture
def table(write) -> Path:
    return write("scores.csv", table_text())


def row_keys(inputs: np.ndarray) -> list[bytes]:
    return [row.tobytes() for row in inputs]


def test_pairs_stay_within_their_split_and_are_labelled_by_target_order(table):
    single = load(table)
    paired = load(table, pairs={"per_example": 5})
    owner, target_of = {}, {}
    for name, split in single.splits.items():
        for key, y in zip(row_keys(split.inputs), split.targets[:, 0], strict=True):
            owner[key], target_of[key] = name, float(y)
    assert set(paired.splits) == {"train", "val", "test"}
    for name, split in paired.splits.items():
        keys_a, keys_b = row_keys(split.inputs["a"]), row_keys(split.inputs["b"])
        assert {owner[k] for k in keys_a + keys_b} == {name}
        expected = [
            1.0 if target_of[a] > target_of[b] else -1.0
            for a, b in zip(keys_a, keys_b, strict=True)
        ]
        np.testing.assert_array_equal(split.targets[:, 0], expected)
        assert split.targets.dtype == np.float32 and split.targets.shape == (len(keys_a), 1)
        assert all(a != b for a, b in zip(keys_a, keys_b, strict=True))
        assert 0 < len(split) <= 5 * len(single.splits[name])


def test_both_items_are_scaled_with_the_single_example_training_statistics(table):
    single = load(table)
    paired = load(table, pairs={"per_example": 6})
    # Fitting on pair rows would weight rows by how often they were drawn: the statistics
    # must be those of the plain training split, applied to both items.
    np.testing.assert_array_equal(paired.preprocessor.shift, single.preprocessor.shift)
    np.testing.assert_array_equal(paired.preprocessor.scale, single.preprocessor.scale)
    train = set(row_keys(single.splits["train"].inputs))
    for key in ("a", "b"):
        assert set(row_keys(paired.splits["train"].inputs[key])) <= train
    assert paired.preprocessor.task.name == "regression"  # raw targets are still numbers


def test_info_describes_ranking_pairs(table):
    single, paired = load(table), load(table, pairs={"per_example": 3})
    info = paired.info
    assert info.task.name == "ranking"
    assert info.input_shape == single.info.input_shape == (2,)
    assert info.target_shape == (1,) and info.target_dtype == "float32"
    assert info.sizes == {name: len(s) for name, s in paired.splits.items()}
    assert info.feature_names == ["id", "noise"]


def test_pairing_is_seeded_by_run_seed_or_data_seed(table):
    first, again, other = (load(table, seed=s, pairs={}) for s in (3, 3, 4))
    for name in first.splits:
        for key in ("a", "b"):
            np.testing.assert_array_equal(
                first.splits[name].inputs[key], again.splits[name].inputs[key]
            )
    assert not np.array_equal(first.splits["train"].inputs["b"], other.splits["train"].inputs["b"])
    fixed_a, fixed_b = (
        load_data({"path": str(table), "seed": 7, "pairs": {}}, s, Path(".")) for s in (1, 2)
    )
    np.testing.assert_array_equal(
        fixed_a.splits["val"].inputs["a"], fixed_b.splits["val"].inputs["a"]
    )


def test_each_split_name_draws_its_own_pairs():
    split = Split(np.arange(40, dtype=np.float32).reshape(20, 2), np.arange(20.0).reshape(-1, 1))
    options = PairsSpec(per_example=4, margin=0.0)
    val, test = pair_split(split, options, 0, "val"), pair_split(split, options, 0, "test")
    assert not np.array_equal(val.inputs["b"], test.inputs["b"])


def test_ties_and_pairs_within_the_margin_are_skipped():
    targets = np.array([0.0, 0.0, 1.0, 1.0, 2.0, 2.0]).reshape(-1, 1)
    split = Split(np.arange(6, dtype=np.float32).reshape(6, 1), targets)
    rng = np.random.default_rng(0)
    no_ties = draw_pairs(split, 50, 0.0, rng)
    gaps = (
        targets[no_ties.inputs["a"][:, 0].astype(int)]
        - targets[no_ties.inputs["b"][:, 0].astype(int)]
    )
    assert len(no_ties) > 0 and np.all(gaps != 0)
    np.testing.assert_array_equal(no_ties.targets, np.sign(gaps))
    wide = draw_pairs(split, 50, 1.0, rng)
    ids_a, ids_b = wide.inputs["a"][:, 0].astype(int), wide.inputs["b"][:, 0].astype(int)
    assert len(wide) > 0 and np.all(np.abs(targets[ids_a] - targets[ids_b]) == 2)


def test_margin_leaving_no_pair_is_a_data_error(table):
    with pytest.raises(DataError, match=r"split .* gives no pair .* lower data.pairs.margin"):
        load(table, pairs={"margin": 1000.0})


def test_pairs_option_defaults_and_off_state():
    assert data_spec({}).pairs is None
    assert data_spec({"pairs": {}}).pairs == PairsSpec(per_example=4, margin=0.0)
    with pytest.raises(ConfigError, match=r"data\.pairs\.size"):
        data_spec({"pairs": {"size": 3}})


def test_classification_data_cannot_be_paired():
    with pytest.raises(ConfigError) as error:
        load_data({"dataset": "iris", "pairs": {}}, 0, Path("."))
    problem = error.value.problems[0]
    assert problem.path == "data.pairs" and "task classification" in problem.found
    assert "regression" in problem.expected


def test_non_table_data_cannot_be_paired():
    with pytest.raises(ConfigError, match=r"data\.pairs"):
        load_data({"dataset": "copy", "pairs": {}}, 0, Path("."))


def test_several_target_columns_cannot_be_paired(tmp_path):
    x = np.arange(40.0).reshape(20, 2)
    np.savez(tmp_path / "two.npz", x=x, y=np.stack([x[:, 0], -x[:, 1]], axis=1))
    with pytest.raises(ConfigError) as error:
        load(tmp_path / "two.npz", pairs={}, task="regression")
    assert error.value.problems[0].found == "2 target columns"


def test_loader_batches_both_items_and_augments_each(table):
    bundle = load(table, pairs={}, batch_size=16, augment={"noise": 0.5})
    inputs, targets = next(bundle.loader("train").batches(0))
    assert set(inputs) == {"a", "b"}
    assert inputs["a"].shape == inputs["b"].shape == (16, 2) and targets.shape == (16, 1)
    plain = BatchLoader(bundle.splits["train"], 16, shuffle=True)
    clean, _ = next(plain.batches(0))
    for key in ("a", "b"):
        assert not np.allclose(inputs[key], clean[key])
        np.testing.assert_allclose(inputs[key], clean[key], atol=4.0)


def test_predict_refuses_ranking_models_clearly(table, write):
    bundle = load(table, pairs={})
    new = write("new.csv", "id,noise\n1,2\n")
    with pytest.raises(DataError, match=r"trained on pairs .* nnrun predict reads single"):
        read_inputs(new, bundle.info, bundle.preprocessor)


def test_eval_data_of_a_ranking_run_is_paired(table, write):
    cfg = {"path": str(table), "split": SPLIT, "pairs": {"per_example": 2}}
    bundle = load_data(cfg, 0, Path("."))
    new = write("new.csv", "id,noise,score\n" + "".join(f"{i},1,{i}\n" for i in range(10)))
    part = read_labeled(new, cfg, bundle.preprocessor)
    assert set(part.inputs) == {"a", "b"} and 0 < len(part) <= 20
    ids_a = part.inputs["a"][:, 0] * bundle.preprocessor.scale[0] + bundle.preprocessor.shift[0]
    ids_b = part.inputs["b"][:, 0] * bundle.preprocessor.scale[0] + bundle.preprocessor.shift[0]
    np.testing.assert_array_equal(part.targets[:, 0], np.sign(np.round(ids_a) - np.round(ids_b)))
