"""Gradcheck samples for the sequence, attention, transformer and graph layers."""

from __future__ import annotations

import numpy as np

from tests.nn.samples import LayerSample, rand

# A 4-node graph: a directed cycle plus one extra edge and one self loop.
EDGES = np.array([[0, 1, 2, 3, 0, 2], [1, 2, 3, 0, 2, 2]], dtype=np.int64)
LENGTHS = np.array([3, 2], dtype=np.int64)
PADDING = np.array([[False, False, False], [False, False, True]])


def _recurrent() -> list[LayerSample]:
    x = rand(2, 3, 3, seed=1)
    return [
        LayerSample({"hidden_size": 4}, [x], id="plain"),
        LayerSample(
            {"hidden_size": 4, "bidirectional": True, "num_layers": 2, "dropout": 0.3},
            [x, LENGTHS],
            id="bidirectional-2-layers-lengths",
        ),
        LayerSample(
            {"hidden_size": 4, "output": "last", "bias": False}, [x, PADDING], id="last-mask"
        ),
    ]


LAYER_SAMPLES: dict[str, list[LayerSample]] = {
    "rnn": [
        *_recurrent(),
        LayerSample(
            {"hidden_size": 4, "nonlinearity": "relu", "output": "last", "bidirectional": True},
            [rand(2, 3, 3, seed=2)],
            id="relu-last",
        ),
    ],
    "lstm": _recurrent(),
    "gru": _recurrent(),
    "scaled_dot_product_attention": [
        LayerSample({}, [rand(2, 3, 4, seed=3)], id="self"),
        LayerSample(
            {"causal": True, "dropout": 0.2},
            [rand(2, 3, 4, seed=4), rand(2, 3, 4, seed=5), rand(2, 3, 2, seed=6)],
            call_kwargs={"key_padding_mask": PADDING},
            id="causal-masked-dropout",
        ),
    ],
    "multihead_attention": [
        LayerSample(
            {"num_heads": 2, "causal": True},
            [rand(2, 3, 4, seed=7)],
            call_kwargs={"key_padding_mask": PADDING},
            id="self-causal-mask",
        ),
        LayerSample(
            {"num_heads": 2, "dropout": 0.2},
            [rand(2, 3, 4, seed=8), rand(2, 2, 4, seed=9)],
            id="cross-dropout",
        ),
    ],
    "positional_encoding": [
        LayerSample({"max_len": 5}, [rand(2, 3, 5, seed=10)], id="sinusoidal"),
        LayerSample(
            {"kind": "learned", "max_len": 4, "dropout": 0.2},
            [rand(2, 3, 4, seed=11)],
            id="learned-dropout",
        ),
    ],
    "transformer_encoder_layer": [
        LayerSample(
            {"nhead": 2, "dim_feedforward": 6, "dropout": 0.0},
            [rand(2, 3, 4, seed=12)],
            train=False,
            call_kwargs={"src_key_padding_mask": PADDING},
            id="post-norm",
        ),
        LayerSample(
            {
                "nhead": 2,
                "dim_feedforward": 6,
                "dropout": 0.2,
                "norm_first": True,
                "activation": "gelu",
                "causal": True,
            },
            [rand(2, 3, 4, seed=13)],
            id="norm-first-causal-dropout",
        ),
    ],
    "transformer_decoder_layer": [
        LayerSample(
            {"nhead": 2, "dim_feedforward": 6, "dropout": 0.0, "causal": True},
            [rand(2, 3, 4, seed=14), rand(2, 2, 4, seed=15)],
            train=False,
            call_kwargs={"tgt_key_padding_mask": PADDING},
            id="with-memory",
        ),
        LayerSample(
            {"nhead": 2, "dim_feedforward": 6, "dropout": 0.1, "norm_first": True},
            [rand(2, 3, 4, seed=16), rand(2, 2, 4, seed=17)],
            id="norm-first",
        ),
    ],
    "transformer_encoder": [
        LayerSample(
            {"num_layers": 2, "nhead": 2, "dim_feedforward": 6, "dropout": 0.0, "norm": True},
            [rand(2, 3, 4, seed=18)],
            train=False,
            id="two-layers-norm",
        ),
    ],
    "gcn_conv": [LayerSample({"out_channels": 3}, [rand(4, 3, seed=19), EDGES])],
    "sage_conv": [LayerSample({"out_channels": 3}, [rand(4, 3, seed=20), EDGES])],
    "gat_conv": [
        LayerSample({"out_channels": 2, "heads": 2}, [rand(4, 3, seed=21), EDGES], id="concat"),
        LayerSample(
            {"out_channels": 2, "heads": 2, "concat": False, "dropout": 0.3},
            [rand(4, 3, seed=22), EDGES],
            id="mean-dropout",
        ),
    ],
    "global_mean_pool": [LayerSample({}, [rand(5, 3, seed=23), np.array([0, 0, 1, 1, 1])])],
    "global_add_pool": [LayerSample({}, [rand(5, 3, seed=24), np.array([0, 1, 1, 0, 1])])],
    "global_max_pool": [LayerSample({}, [rand(5, 3, seed=25), np.array([1, 0, 1, 1, 0])])],
}
