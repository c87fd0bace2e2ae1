"""Replayed steps hand preallocated arrays to the ops that take `out=` (normalization,
recurrences, elementwise ops, ...): the same arrays from step to step, and still bitwise the
eager step's values."""

from __future__ import annotations

import numpy as np

from nnrun import Tensor, compile_step, functional, no_grad
from nnrun.compile import compiled_call
from nnrun.compile.tape import Tape
from nnrun.nn.attention import MultiheadAttention
from nnrun.nn.dropout import Dropout
from nnrun.nn.linear import Linear
from nnrun.nn.module import Module, input_tensor
from nnrun.nn.normalization import LayerNorm
from nnrun.nn.rnn import LSTM
from nnrun.optim.sgd import SGD
from tests.compile.test_step import run_both


class Mixer(Module):
    """Attention, layer norm, dropout, an LSTM and elementwise ops in one step; the
    normalized value is read by three ops (its gradients meet there)."""

    def __init__(self):
        super().__init__()
        self.attention = MultiheadAttention(2, dropout=0.2)
        self.norm = LayerNorm(8)
        self.dropout = Dropout(0.3)
        self.lstm = LSTM(hidden_size=6, output="last")
        self.head = Linear(3)

    def forward(self, x):
        x = input_tensor(x)
        y = self.norm(x + self.attention(x))
        z = self.dropout(y.tanh() + y * y.sigmoid())
        return self.head(self.lstm(z).relu())


def sequences(sizes, length=5, width=8):
    rng = np.random.default_rng(0)
    return [
        (rng.standard_normal((n, length, width)).astype(np.float32), rng.integers(0, 3, n))
        for n in sizes
    ]


def built(model, x):
    model(x)
    return model


def test_opted_in_ops_replay_bitwise_equal_to_eager_steps():
    data = sequences([4] * 7)
    run_both(built(Mixer(), data[0][0]), data)


def test_replays_reuse_the_same_value_and_gradient_arrays_from_step_to_step():
    data = sequences([4] * 7)
    model = built(Mixer(), data[0][0])
    step = compile_step(model, functional.cross_entropy, SGD(model.parameters(), lr=0.1))
    seen = []
    for x, y in data:
        step(x, y)
        plans = [plan for plan in step.compiled.plans.values() if isinstance(plan, Tape)]
        if not plans:
            continue  # still recording
        (tape,) = plans
        seen.append(
            [
                (op.cls.__name__, op.call_attrs.get("out"), op.out.data, op.grad_out)
                for op in tape.ops
            ]
        )
    assert step.compiled.replaying
    replays = seen[1:]  # the plan's first replay onwards
    written = {name for name, out, value, _ in replays[0] if value is out}
    assert {"Normalize", "LSTM", "Tanh", "Sigmoid", "Mul", "Add"} <= written
    buffers = 0
    for later in replays[1:]:
        for (name, out, value, grads), (_, first_out, first_value, first_grads) in zip(
            later, replays[0], strict=True
        ):
            assert out is first_out, name
            if first_value is first_out:
                assert value is first_value, name
            for grad, first_grad in zip(grads or (), first_grads or (), strict=True):
                assert grad is first_grad, name
                buffers += grad is not None
    assert buffers  # gradients were written into buffers, not only values


def test_a_value_the_call_returns_is_never_a_reused_buffer():
    """The normalized output reaches the caller, who may keep it: a later replay must not
    overwrite it (values only the ops read are reused)."""
    norm = built(LayerNorm(8), np.zeros((2, 5, 8), np.float32))
    compiled = compiled_call(lambda x: norm(x.tanh() * 2.0), "on")
    data = [x for x, _ in sequences([3] * 5)]
    with no_grad():
        kept = [compiled(Tensor(x)).data for x in data]
        expected = [norm(Tensor(x).tanh() * 2.0).data for x in data]
    assert compiled.replaying
    for got, want in zip(kept, expected, strict=True):
        assert np.array_equal(got, want)


class Transposed(Module):
    """Elementwise ops on transposed values, between a dense layer and a layer norm: their
    new results (and gradients) follow the transposed layout eagerly, and a buffer laid out
    otherwise would change the order of the later sums."""

    def __init__(self):
        super().__init__()
        self.mix = Linear(8)
        self.norm = LayerNorm(8)
        self.head = Linear(3)

    def forward(self, x):
        hidden = self.mix(x).transpose(1, 0).relu()  # (8, N)
        return self.head(self.norm((hidden * hidden.tanh()).transpose(1, 0)))


def test_ops_on_transposed_values_replay_bitwise():
    data = [(x[:, 0, :6], y) for x, y in sequences([6] * 6)]
    model = Transposed()
    model(data[0][0])
    run_both(model, data)


class Stacked(Module):
    """A product stacked over two batch dimensions of transposed values: NumPy lays those
    out as its operands' are, so a sum over all its elements adds them in another order than
    over a C-contiguous buffer; the product may use the buffer only for C-contiguous
    operands."""

    def __init__(self):
        super().__init__()
        self.mix = Linear(6)
        self.head = Linear(3)

    def forward(self, x):
        hidden = self.mix(x)  # (N, 12, 6)
        blocks = hidden.reshape(len(x), 3, 4, 6).transpose(1, 0, 2, 3)  # (3, N, 4, 6)
        scores = functional.matmul(blocks, blocks.swapaxes(-1, -2))
        return self.head(hidden.mean(axis=1) + scores.sum() * 0.01)


def test_a_stacked_product_of_transposed_values_replays_bitwise():
    data = sequences([4] * 8, length=12)
    run_both(built(Stacked(), data[0][0]), data)
