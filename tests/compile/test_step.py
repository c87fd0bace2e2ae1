"""compile_step: plans per input shape, replay, eager fallback with one note."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from nnrun import Tensor, compile_step, functional, no_grad, random
from nnrun.compile import CompileError, compiled_call
from nnrun.nn.container import Sequential
from nnrun.nn.dropout import Dropout
from nnrun.nn.linear import Linear
from nnrun.nn.module import Module, input_tensor
from nnrun.optim.sgd import SGD


class SignGate(Module):
    """Data-dependent control flow: a different op when the batch mean is negative."""

    def forward(self, x):
        x = input_tensor(x)
        return x.relu() if float(x.data.mean()) > 0 else x.tanh()


def mlp(*extra: Module) -> Sequential:
    model = Sequential(*extra, Linear(16, activation="relu"), Linear(3))
    model(np.zeros((2, 5), np.float32))
    return model


def batches(sizes):
    rng = np.random.default_rng(0)
    return [(rng.standard_normal((n, 5)).astype(np.float32), rng.integers(0, 3, n)) for n in sizes]


def eager_step(model, optimizer):
    def step(x, y):
        loss = functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return float(loss.data)

    return step


def run_both(model, data, **kwargs):
    """Train a copy eagerly and one compiled from the same generator state; compare."""
    twin = copy.deepcopy(model)
    eager = eager_step(model, SGD(model.parameters(), lr=0.1))
    step = compile_step(twin, functional.cross_entropy, SGD(twin.parameters(), lr=0.1), **kwargs)
    random.seed(0)
    eager_losses = [eager(x, y) for x, y in data]
    random.seed(0)
    assert [step(x, y) for x, y in data] == eager_losses
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        assert np.array_equal(a.data, b.data)
    return step


def test_each_input_shape_gets_its_own_plan_and_replays_bitwise():
    step = run_both(mlp(Dropout(0.3)), batches([8, 8, 8, 3, 8, 3, 3, 8]))
    plans = step.compiled.plans
    assert sorted(type(plan).__name__ for plan in plans.values()) == ["Tape", "Tape"]


def test_data_dependent_control_flow_runs_eagerly_after_one_note():
    notes = []
    data = batches([4] * 6)
    data[0] = (np.abs(data[0][0]), data[0][1])
    data[1] = (-np.abs(data[1][0]), data[1][1])  # the second batch takes the other branch
    step = run_both(mlp(SignGate()), data, note=notes.append)
    assert len(notes) == 1 and "cannot be replayed" in notes[0]
    assert not step.compiled.replaying


def test_compile_on_refuses_a_model_it_cannot_replay():
    model = mlp(SignGate())

    def forward(x):
        return model(x)

    compiled = compiled_call(forward, "on")
    x = np.ones((4, 5), np.float32)
    with no_grad():
        compiled(x)
        compiled(-x)
        with pytest.raises(CompileError, match=r"train\.compile is on"):
            compiled(x)


def test_forward_only_plans_replay_under_no_grad():
    model = mlp()
    model.eval()
    compiled = compiled_call(lambda x: model(x), "auto")
    data = [x for x, _ in batches([6] * 4)]
    with no_grad():
        outputs = [compiled(x).data.copy() for x in data]
        expected = [model(Tensor(x)).data for x in data]
    assert compiled.replaying
    for got, want in zip(outputs, expected, strict=True):
        assert np.array_equal(got, want)
