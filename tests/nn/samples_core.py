"""Gradcheck samples for the core layers (linear, shape, dropout, embedding, sequential)
and every activation, as activation (ACTIVATION_SAMPLES) and as layer (LAYER_SAMPLES)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tests.nn.samples import LayerSample, away_from_kinks, rand

# Option sets per registered activation; the walker applies each to `away_from_kinks` inputs.
# Kinks of the chosen options sit at 0 or ±1 (avoided by away_from_kinks) or outside [−2, 2].
ACTIVATION_SAMPLES: dict[str, list[dict[str, Any]]] = {
    "identity": [{}],
    "sign": [{}],
    "sign_ste": [{}],
    "sigmoid": [{}],
    "tanh": [{}],
    "relu": [{}],
    "leaky_relu": [{}, {"negative_slope": 0.2}],
    "elu": [{}, {"alpha": 0.5}],
    "selu": [{}],
    "gelu": [{}, {"approximate": "tanh"}],
    "silu": [{}],
    "softplus": [{}, {"beta": 2.0, "threshold": 2.0}],
    "softsign": [{}],
    "hardtanh": [{}, {"min_val": 0.0, "max_val": 3.0}],
    "hard_sigmoid": [{}],
    "sinusoid": [{}],
    "sinc": [{}],
    "gaussian": [{}],
    "polynomial": [{"coefficients": [0.5, -1.0, 0.25, 0.1]}, {"coefficients": [2.0]}],
    "softmax": [{}, {"dim": 0}],
    "log_softmax": [{}, {"dim": 0}],
    "mish": [{}],
}

# Activations whose backward is deliberately not the derivative of the forward; the walker
# must not compare them with finite differences on inputs where the two differ.
GRADCHECK_SKIP: dict[str, str] = {
    "sign_ste": "straight-through estimator: backward passes the gradient where |x| <= 1 "
    "although sign(x) is flat there (tested in tests/nn/test_activation.py)",
}


def _activation_layer_samples() -> dict[str, list[LayerSample]]:
    samples: dict[str, list[LayerSample]] = {}
    for name, option_sets in ACTIVATION_SAMPLES.items():
        samples[name] = [
            LayerSample(options, [away_from_kinks(3, 4, seed=i)], id=f"{name}-{i}")
            for i, options in enumerate(option_sets)
        ]
    # Outside |x| <= 1 the straight-through gradient is 0, as is sign's: comparable there.
    outside = 1.5 * np.sign(away_from_kinks(3, 4)) + rand(3, 4, seed=1, low=-0.4, high=0.4)
    samples["sign_ste"] = [LayerSample({}, [outside], id="sign_ste-outside-pass-band")]
    return samples


LAYER_SAMPLES: dict[str, list[LayerSample]] = {
    **_activation_layer_samples(),
    "linear": [
        LayerSample({"units": 3}, [rand(4, 5)], id="linear"),
        LayerSample({"units": 2, "bias": False}, [rand(2, 3, 4, seed=1)], id="linear-3d-no-bias"),
        LayerSample(
            {"units": 3, "activation": {"type": "leaky_relu", "negative_slope": 0.1}},
            [rand(4, 5, seed=2)],
            id="linear-activation",
        ),
    ],
    "flatten": [
        LayerSample({}, [rand(2, 3, 2, 2)], id="flatten"),
        LayerSample({"start_dim": 0, "end_dim": 1}, [rand(2, 3, 2)], id="flatten-leading"),
    ],
    "reshape": [LayerSample({"shape": [2, -1]}, [rand(3, 8)], id="reshape")],
    "dropout": [
        LayerSample({"p": 0.3}, [rand(4, 6)], train=True, id="dropout-train"),
        LayerSample({"p": 0.3}, [rand(4, 6)], train=False, id="dropout-eval"),
    ],
    "embedding": [
        # padding_idx=0 unused by these indices: the padding row's deliberately missing
        # gradient is tested in tests/nn/test_embedding.py.
        LayerSample(
            {"num_embeddings": 6, "embedding_dim": 3, "padding_idx": 0},
            [np.array([[1, 2, 5], [2, 2, 3]])],
            id="embedding",
        )
    ],
    # The builder passes children positionally; with no kwargs the walker gets the empty
    # Sequential, the identity (as torch). Chains are gradchecked in test_container.py.
    "sequential": [LayerSample({}, [rand(3, 4)], id="sequential-empty")],
}
