"""RNN, LSTM and GRU as ONNX's RNN/LSTM/GRU operators, one node per layer of the stack.

torch stacks the gates as LSTM i, f, g, o and GRU r, z, n; ONNX wants LSTM i, o, f, c and
GRU z, r, h, so the weights are re-ordered by gate blocks. torch's GRU applies the reset
gate after the recurrent product (linear_before_reset = 1 in ONNX).
"""

from __future__ import annotations

import numpy as np

from nnrun.export.graph import Call, OnnxGraph
from nnrun.export.registry import converter
from nnrun.nn.rnn import GRU, LSTM, RNN, _Recurrent

# ONNX gate order as indices into torch's gate blocks
GATE_ORDER = {RNN: [0], LSTM: [0, 3, 1, 2], GRU: [1, 0, 2]}


def _reordered(array: np.ndarray, order: list[int]) -> np.ndarray:
    blocks = np.split(array, len(order), axis=0)
    return np.concatenate([blocks[i] for i in order], axis=0)


def _layer_weights(g: OnnxGraph, rnn: _Recurrent, layer: int, order: list[int]) -> list[str]:
    """W (D, G·H, I), R (D, G·H, H) and B (D, 2·G·H) of one layer, directions stacked."""
    names = [f"l{layer}{suffix}" for suffix in rnn.directions()]

    def stacked(kind: str) -> np.ndarray:
        arrays = [getattr(rnn, f"{kind}_{name}").data for name in names]
        return np.stack([_reordered(a, order) for a in arrays])

    first = getattr(rnn, f"weight_ih_{names[0]}")
    weights = [
        g.param(first, f"onnx_W{layer}", lambda: stacked("weight_ih")),
        g.param(first, f"onnx_R{layer}", lambda: stacked("weight_hh")),
    ]
    if rnn.bias:
        weights.append(
            g.param(
                first,
                f"onnx_B{layer}",
                lambda: np.concatenate([stacked("bias_ih"), stacked("bias_hh")], axis=1),
            )
        )
    return weights


@converter(_Recurrent)
def recurrent(g: OnnxGraph, call: Call[_Recurrent]) -> str:
    rnn = call.layer
    call.only("x")  # variable lengths (a second input) are not exported
    kind = type(rnn)
    op_type = {RNN: "RNN", LSTM: "LSTM", GRU: "GRU"}[kind]
    attrs: dict = {
        "hidden_size": rnn.hidden_size,
        "direction": "bidirectional" if rnn.bidirectional else "forward",
    }
    if kind is RNN:
        attrs["activations"] = ["Relu" if rnn.nonlinearity == "relu" else "Tanh"] * len(
            rnn.directions()
        )
    if kind is GRU:
        attrs["linear_before_reset"] = 1
    # ONNX recurrences are time-major: (T, N, features)
    x = g.transpose(call.x.name, (1, 0, 2)) if rnn.batch_first else call.x.name
    final: str | None = None
    for layer in range(rnn.num_layers):
        outputs = 3 if kind is LSTM else 2
        y, final, *_ = g.op(
            op_type, x, *_layer_weights(g, rnn, layer, GATE_ORDER[kind]), outputs=outputs, **attrs
        )
        # Y (T, D, N, H) → (T, N, D·H): directions side by side, as nnrun concatenates them
        x = g.op("Reshape", g.transpose(y, (0, 2, 1, 3)), g.ints([0, 0, -1]))
    if rnn.output == "last":
        assert final is not None, "num_layers >= 1"
        # Y_h (D, N, H): the forward direction's last step, the backward one's first
        return g.op("Reshape", g.transpose(final, (1, 0, 2)), g.ints([0, -1]))
    return g.transpose(x, (1, 0, 2)) if rnn.batch_first else x
