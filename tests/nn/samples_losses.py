"""Gradcheck samples for every registered loss (LOSS_SAMPLES) and the two-input distance
layers (LAYER_SAMPLES). Float inputs keep away from the losses' kinks (hinges at 0, |d| at
0 and at beta/delta), so central differences are exact enough."""

from __future__ import annotations

import numpy as np

from tests.nn.samples import LayerSample, LossSample, away_from_kinks, rand


def _labels(*shape: int, classes: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, classes, shape)


def _probabilities(*shape: int, seed: int = 0, axis: int = 1) -> np.ndarray:
    p = rand(*shape, seed=seed, low=0.1, high=1.0)
    return p / p.sum(axis=axis, keepdims=True)


def _signs(*shape: int, seed: int = 0) -> np.ndarray:
    return np.where(rand(*shape, seed=seed) > 0, 1.0, -1.0)


_ignored = _labels(6, classes=4, seed=3)
_ignored[[1, 4]] = -100

LOSS_SAMPLES: dict[str, list[LossSample]] = {
    "cross_entropy": [
        LossSample({}, rand(6, 4), _labels(6, classes=4), id="indices"),
        LossSample({}, rand(6, 4, seed=1), _probabilities(6, 4), id="probabilities"),
        LossSample(
            {"weight": [0.5, 1.0, 2.0, 1.5], "label_smoothing": 0.1},
            rand(6, 4, seed=2),
            _ignored,
            id="weight_smoothing_ignore_index",
        ),
        LossSample(
            {"reduction": "none"}, rand(2, 4, 3, seed=3), _labels(2, 3, classes=4), id="nct"
        ),
        LossSample(
            {"class_dim": -1, "reduction": "sum"},
            rand(2, 3, 4, seed=4),
            _labels(2, 3, classes=4),
            id="ntc_class_dim_last",
        ),
    ],
    "nll": [
        LossSample({}, rand(6, 4, low=-3, high=0), _labels(6, classes=4)),
        LossSample(
            {"weight": [0.5, 1.0, 2.0, 1.5], "reduction": "none"},
            rand(6, 4, seed=1, low=-3, high=0),
            _ignored,
            id="weight_ignore_index",
        ),
        LossSample({}, rand(2, 4, 3, seed=2), _labels(2, 3, classes=4), id="nct"),
    ],
    "binary_cross_entropy": [
        LossSample({}, rand(5, 3, low=0.1, high=0.9), rand(5, 3, seed=1, low=0, high=1)),
        LossSample(
            {"weight": [1.0, 2.0, 0.5], "reduction": "sum"},
            rand(5, 3, seed=2, low=0.1, high=0.9),
            (rand(5, 3, seed=3) > 0).astype(float),
            id="weight",
        ),
    ],
    "bce_with_logits": [
        LossSample({}, rand(5, 1, low=-3, high=3), (rand(5, 1, seed=1) > 0).astype(float)),
        LossSample(
            {"pos_weight": [2.0, 0.5, 1.0], "weight": [1.0, 3.0, 0.5]},
            rand(5, 3, seed=2, low=-3, high=3),
            rand(5, 3, seed=3, low=0, high=1),
            id="pos_weight_weight",
        ),
        LossSample(
            {"pos_weight": 3.0, "reduction": "none"},
            rand(4, 2, seed=4, low=-3, high=3),
            (rand(4, 2, seed=5) > 0).astype(float),
            id="scalar_pos_weight",
        ),
    ],
    "mse": [
        LossSample({}, rand(5, 3), rand(5, 3, seed=1)),
        LossSample({"reduction": "none"}, rand(4, seed=2), rand(4, seed=3), id="none"),
    ],
    "l1": [LossSample({}, away_from_kinks(5, 3), np.zeros((5, 3)))],
    "smooth_l1": [
        LossSample({}, away_from_kinks(5, 3), np.zeros((5, 3))),
        LossSample({"beta": 0.0, "reduction": "sum"}, away_from_kinks(6, seed=1), np.zeros(6)),
    ],
    "huber": [
        LossSample({}, away_from_kinks(5, 3), np.zeros((5, 3))),
        LossSample({"delta": 0.5}, away_from_kinks(6, seed=1) * 1.2, np.full(6, 0.3), id="delta"),
    ],
    "hinge": [
        LossSample({}, away_from_kinks(6, 1), _signs(6, 1, seed=1)),
        LossSample(
            {"reduction": "sum"},
            away_from_kinks(6, seed=2),
            (rand(6, seed=3) > 0).astype(float),
            id="zero_one_labels",
        ),
    ],
    "multi_margin": [
        LossSample({}, rand(5, 4, seed=1), _labels(5, classes=4, seed=2)),
        LossSample(
            {"p": 2, "margin": 0.5, "weight": [1.0, 2.0, 0.5, 1.5]},
            rand(5, 4, seed=3),
            _labels(5, classes=4, seed=4),
            id="squared_weighted",
        ),
    ],
    "margin_ranking": [
        LossSample(
            {"margin": 0.1},
            away_from_kinks(6, seed=1),
            _signs(6, seed=3),
            extra=[np.zeros(6)],
        ),
    ],
    "kl_div": [
        LossSample({}, np.log(_probabilities(4, 5)), _probabilities(4, 5, seed=1)),
        LossSample(
            {"log_target": True, "reduction": "batchmean"},
            rand(4, 5, seed=2),
            np.log(_probabilities(4, 5, seed=3)),
            id="log_target_batchmean",
        ),
    ],
    "cosine_embedding": [
        LossSample(
            {"margin": 0.1},
            rand(6, 3, seed=1),
            _signs(6, seed=2),
            extra=[rand(6, 3, seed=3)],
        ),
    ],
    "triplet_margin": [
        LossSample({}, rand(5, 3, seed=1), None, extra=[rand(5, 3, seed=2), rand(5, 3, seed=3)]),
        LossSample(
            {"p": 1.0, "swap": True, "margin": 0.5},
            rand(5, 3, seed=4),
            None,
            extra=[rand(5, 3, seed=5), rand(5, 3, seed=6)],
            id="l1_swap",
        ),
    ],
}

LAYER_SAMPLES: dict[str, list[LayerSample]] = {
    "cosine_similarity": [
        LayerSample({}, [rand(4, 3), rand(4, 3, seed=1)]),
        LayerSample({"dim": -1}, [rand(2, 4, 3, seed=2), rand(1, 3, seed=3)], id="broadcast"),
    ],
    "pairwise_distance": [
        LayerSample({}, [rand(4, 3), rand(4, 3, seed=1)]),
        LayerSample({"p": 3.0, "keepdim": True}, [rand(4, 3, seed=2), rand(4, 3, seed=3)], id="p3"),
    ],
}
