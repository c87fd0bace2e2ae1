"""Gradcheck samples for the math nodes, expression nodes and learned tensors."""

from __future__ import annotations

from nnrun.nn.expression import FUNCTIONS
from tests.nn.samples import LayerSample, away_from_kinks, rand

# One expression calling every function (kinks of abs/relu/max/min at 0 and of clip at ±1
# are avoided by away_from_kinks); `test_the_sample_expression_calls_every_function` keeps
# it complete when a function is added.
EVERY_FUNCTION = (
    "0.1 * exp(x) + log(abs(x) + 1) + sqrt(x ** 2 + 1) + sin(x) * cos(x) + tanh(x)"
    " + sigmoid(-x) + relu(x) + softplus(x) - sum(x, axis=-1, keepdims=True)"
    " + mean(x, axis=[0, 1]) * max(x, axis=-1, keepdims=True) - min(x, keepdims=True)"
    " + max(x, 0.3 * x) + min(x, -x) + clip(x, -1, 1) + x @ transpose(x) @ x / 10"
    " - 2 / (x ** 2 + 1) + 2 ** x"
)
assert all(f"{name}(" in EVERY_FUNCTION for name in FUNCTIONS)

LAYER_SAMPLES: dict[str, list[LayerSample]] = {
    "log": [LayerSample({}, [rand(3, 4, low=0.5, high=2.0)])],
    "exp": [LayerSample({}, [rand(3, 4)])],
    "sqrt": [LayerSample({}, [rand(3, 4, low=0.5, high=2.0)])],
    "abs": [LayerSample({}, [away_from_kinks(3, 4)])],
    "cos": [LayerSample({}, [rand(3, 4)])],
    "square": [LayerSample({}, [rand(3, 4)])],
    "pow": [
        LayerSample({"exponent": -2.0}, [rand(3, 4, low=0.5, high=2.0)], id="inverse-square"),
        LayerSample({"exponent": 3}, [rand(3, 4)], id="cube"),
    ],
    "clip": [
        LayerSample({"min": -1.0, "max": 1.0}, [away_from_kinks(3, 4)], id="both"),
        LayerSample({"min": 0.0}, [away_from_kinks(3, 4, seed=1)], id="min-only"),
    ],
    "sum": [
        LayerSample({}, [rand(3, 4)], id="last-axis"),
        LayerSample({"axis": [1, 2], "keepdims": True}, [rand(2, 3, 4)], id="axes-keepdims"),
        LayerSample({"axis": None}, [rand(3, 4)], id="all"),
    ],
    "max": [LayerSample({"axis": 1}, [rand(3, 4, 2)])],
    "min": [LayerSample({"keepdims": True}, [rand(3, 4)])],
    "mean": [
        LayerSample({}, [rand(3, 4), rand(3, 4, seed=1)], id="of-inputs"),
        LayerSample({"axis": 0}, [rand(3, 4)], id="reduction"),
    ],
    "expr": [
        LayerSample({"expr": EVERY_FUNCTION}, [away_from_kinks(3, 4)], id="every-function"),
        LayerSample(
            {"expr": "x * (x + y) + log(x + y) + y ** 2"},
            [],
            named={"x": rand(4, 1, low=0.5, high=2), "y": rand(4, 1, seed=1, low=0.5, high=2)},
            id="lecture-forward-pass",
        ),
        LayerSample(
            {"expr": "sum(x * (x @ A), keepdims=True) + x @ b + c"},
            [],
            named={
                "x": rand(5, 3),
                "A": rand(3, 3, seed=1),
                "b": rand(3, 1, seed=2),
                "c": rand(1, seed=3),
            },
            id="quadratic-form",
        ),
    ],
    "parameter": [
        LayerSample({"shape": [2, 3]}, [], id="matrix"),
        LayerSample({"shape": [], "init": "zeros"}, [], id="scalar"),
    ],
    "constant": [LayerSample({"value": [[1.0, 2.0], [3.0, 4.0]]}, [])],
}

GRADCHECK_SKIP: dict[str, str] = {
    "constant": "a constant has no gradient (frozen); tests/config/test_graph_expressions.py "
    "checks that gradients flow through it to the other inputs of an expression",
}
