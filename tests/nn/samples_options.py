"""Gradcheck samples for layer options: recurrent initial/final states, attention weights,
pooling ceil_mode/return_indices, linear upsampling, GCN edge weights, column-major
reshape (merged with the layers' other samples by the registry walker)."""

from __future__ import annotations

import numpy as np

from nnrun import functional as F
from tests.nn.samples import LayerSample, rand
from tests.nn.samples_seq import EDGES, LENGTHS, PADDING


def every_output(outputs):
    """All float outputs of a multi-output layer as one vector (so each is gradchecked)."""
    return F.concatenate([o.reshape(-1) for o in outputs], axis=0)


def _states(kind: str) -> list[LayerSample]:
    named = {"h0": rand(4, 2, 3, seed=31)}
    if kind == "lstm":
        named["c0"] = rand(4, 2, 3, seed=32)
    options = {"hidden_size": 3, "num_layers": 2, "bidirectional": True, "return_state": True}
    return [
        LayerSample(
            options,
            [rand(2, 3, 2, seed=30), LENGTHS],
            named=named,
            select=every_output,
            id="initial-and-final-states",
        )
    ]


LAYER_SAMPLES: dict[str, list[LayerSample]] = {
    "rnn": _states("rnn"),
    "lstm": _states("lstm"),
    "gru": _states("gru"),
    "scaled_dot_product_attention": [
        LayerSample(
            {"causal": True, "return_weights": True},
            [rand(2, 3, 4, seed=33), rand(2, 4, 4, seed=34)],
            call_kwargs={"key_padding_mask": np.array([[False] * 4, [False] * 3 + [True]])},
            select=every_output,
            id="weights",
        )
    ],
    "multihead_attention": [
        LayerSample(
            {"num_heads": 2, "return_weights": True, "dropout": 0.2},
            [rand(2, 3, 4, seed=35)],
            call_kwargs={"key_padding_mask": PADDING},
            select=every_output,
            id="weights-averaged",
        ),
        LayerSample(
            {"num_heads": 2, "return_weights": True, "average_weights": False},
            [rand(2, 3, 4, seed=36), rand(2, 2, 4, seed=37)],
            select=every_output,
            id="weights-per-head",
        ),
    ],
    "max_pool2d": [
        LayerSample(
            {
                "kernel_size": 3,
                "stride": 2,
                "padding": 1,
                "ceil_mode": True,
                "return_indices": True,
            },
            [rand(2, 3, 6, 5, seed=38)],
            select=lambda outputs: outputs[0],
            id="ceil-indices",
        )
    ],
    "max_pool1d": [
        LayerSample({"kernel_size": 2, "stride": 2, "ceil_mode": True}, [rand(2, 3, 7, seed=39)])
    ],
    "avg_pool2d": [
        LayerSample(
            {"kernel_size": 3, "stride": 2, "ceil_mode": True, "count_include_pad": False},
            [rand(2, 3, 6, 6, seed=40)],
            id="ceil",
        )
    ],
    "upsample": [
        LayerSample(
            {"mode": "bilinear", "size": [5, 3]}, [rand(2, 3, 3, 4, seed=41)], id="bilinear"
        ),
        LayerSample(
            {"mode": "linear", "scale_factor": 2, "align_corners": True},
            [rand(2, 3, 4, seed=42)],
            id="linear-align-corners",
        ),
    ],
    "gcn_conv": [
        LayerSample(
            {"out_channels": 3},
            [rand(4, 3, seed=43), EDGES, rand(EDGES.shape[1], seed=44, low=0.5, high=2.0)],
            id="edge-weight",
        )
    ],
    "reshape": [LayerSample({"shape": [4, -1], "order": "F"}, [rand(3, 2, 4, seed=45)], id="F")],
}
