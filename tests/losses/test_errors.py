"""Bad targets and options raise nnrun errors that name the loss and both shapes."""

from __future__ import annotations

import numpy as np
import pytest

import nnrun.components  # noqa: F401  (fills the registries)
from nnrun.errors import ArgumentError, ConfigError, DataError, ShapeError
from nnrun.registry import LOSSES


def test_mse_refuses_to_broadcast_a_column_against_a_vector():
    with pytest.raises(ShapeError) as error:
        LOSSES.build("mse")(np.zeros((32, 1)), np.zeros(32))
    message = str(error.value)
    assert message.startswith("mse: prediction (32, 1) and target (32,) differ")
    assert "(32, 1)" in message.split(";")[1]  # the hint says what shape to give


@pytest.mark.parametrize("name", ["l1", "smooth_l1", "huber", "bce_with_logits", "hinge", "kl_div"])
def test_elementwise_losses_need_equal_shapes(name):
    with pytest.raises(ShapeError, match=rf"^{name}: prediction \(4, 3\) and target \(4, 2\)"):
        LOSSES.build(name)(np.zeros((4, 3)), np.ones((4, 2)))


def test_cross_entropy_names_the_expected_index_shape():
    with pytest.raises(ShapeError, match=r"class-index targets need shape \(8,\)"):
        LOSSES.build("cross_entropy")(np.zeros((8, 3)), np.zeros((8, 1), dtype=np.int64))


def test_cross_entropy_suggests_class_dim_for_sequence_logits():
    with pytest.raises(ShapeError, match="class_dim: -1"):
        LOSSES.build("cross_entropy")(np.zeros((2, 7, 5)), np.zeros((2, 7), dtype=np.int64))


def test_cross_entropy_with_float_labels_says_they_must_be_integers():
    with pytest.raises(ShapeError, match="class-index targets must be integers"):
        LOSSES.build("cross_entropy")(np.zeros((4, 3)), np.array([0.0, 1.0, 2.0, 1.0]))


@pytest.mark.parametrize("label", [3, -1])
def test_out_of_range_class_is_a_data_error(label):
    with pytest.raises(DataError, match=rf"target class {label} is out of range for 3 classes"):
        LOSSES.build("cross_entropy")(np.zeros((2, 3)), np.array([0, label]))
    with pytest.raises(DataError, match="out of range"):
        LOSSES.build("nll")(np.zeros((2, 3)), np.array([label, 0]))


def test_class_weights_must_match_the_class_count():
    with pytest.raises(ShapeError, match="weight has 2 entries but the prediction has 3 classes"):
        LOSSES.build("cross_entropy", weight=[1.0, 2.0])(np.zeros((2, 3)), np.array([0, 1]))


def test_class_dim_out_of_range():
    with pytest.raises(ShapeError, match="class_dim=3 is out of range"):
        LOSSES.build("cross_entropy", class_dim=3)(np.zeros((2, 3)), np.array([0, 1]))


def test_binary_cross_entropy_on_logits_suggests_bce_with_logits():
    with pytest.raises(ConfigError, match="bce_with_logits"):
        LOSSES.build("binary_cross_entropy")(np.array([[2.5]]), np.array([[1.0]]))


def test_sign_targets_other_than_plus_minus_one_are_a_data_error():
    with pytest.raises(DataError, match="hinge: targets must be −1/\\+1 or 0/1 labels"):
        LOSSES.build("hinge")(np.zeros((3, 1)), np.array([[1.0], [2.0], [0.0]]))


def test_pos_weight_must_broadcast_against_the_prediction():
    with pytest.raises(ShapeError, match="pos_weight of shape \\(2,\\) does not broadcast"):
        LOSSES.build("bce_with_logits", pos_weight=[1.0, 2.0])(np.zeros((4, 3)), np.ones((4, 3)))


def test_embedding_losses_need_matching_inputs():
    with pytest.raises(
        ShapeError, match="anchor \\(4, 3\\), positive \\(4, 3\\), negative \\(4, 2\\)"
    ):
        LOSSES.build("triplet_margin")(np.zeros((4, 3)), np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ShapeError, match="need targets of shape \\(4,\\)"):
        LOSSES.build("cosine_embedding")(np.zeros((4, 3)), np.zeros((4, 3)), np.ones((4, 1)))


@pytest.mark.parametrize(
    "name, options, key",
    [
        ("mse", {"reduction": "average"}, "reduction"),
        ("mse", {"reduction": "batchmean"}, "reduction"),
        ("cross_entropy", {"label_smoothing": 1.5}, "label_smoothing"),
        ("cross_entropy", {"weight": [1.0, -1.0]}, "weight"),
        ("smooth_l1", {"beta": -1.0}, "beta"),
        ("huber", {"delta": 0.0}, "delta"),
        ("multi_margin", {"p": 3}, "p"),
        ("triplet_margin", {"p": 0.0}, "p"),
        ("cosine_embedding", {"margin": 2.0}, "margin"),
        ("bce_with_logits", {"pos_weight": "high"}, "pos_weight"),
    ],
)
def test_invalid_options_raise_argument_errors_naming_the_key(name, options, key):
    with pytest.raises(ArgumentError) as error:
        LOSSES.build(name, **options)
    assert error.value.key == key


def test_kl_div_accepts_batchmean():
    assert LOSSES.build("kl_div", reduction="batchmean").reduction == "batchmean"
