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
from nnrun.registry import OPTIMIZERS
from tests.optim.samples import EVERY_TERM, NAMES


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


def run_both(model, data, optimizer=lambda params: SGD(params, lr=0.1), **kwargs):
    """Train a copy eagerly and one compiled from the same generator state; compare."""
    twin = copy.deepcopy(model)
    eager = eager_step(model, optimizer(model.parameters()))
    step = compile_step(twin, functional.cross_entropy, optimizer(twin.parameters()), **kwargs)
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


@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_every_optimizer_updates_bitwise_as_eagerly_when_bound_to_the_plan_buffers(name, maximize):
    def optimizer(params):
        return OPTIMIZERS.build(name, list(params), **EVERY_TERM[name], maximize=maximize)

    step = run_both(mlp(), batches([8] * 6 + [3] * 3 + [8] * 3), optimizer)
    assert step.compiled.replaying


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


class Twice(Module):
    """One Linear applied twice: its parameters get gradients from two paths."""

    def __init__(self):
        super().__init__()
        self.inner = Linear(5, activation="tanh")
        self.head = Linear(3)

    def forward(self, x):
        return self.head(self.inner(self.inner(x)))


def test_gradients_meeting_at_a_shared_parameter_are_summed_bitwise():
    model = Twice()
    model(np.zeros((2, 5), np.float32))
    run_both(model, batches([8] * 6))


def test_parameter_gradients_are_kept_in_buffers_reused_from_step_to_step():
    model = mlp()
    optimizer = SGD(model.parameters(), lr=0.1)
    step = compile_step(model, functional.cross_entropy, optimizer)
    seen = []
    original = optimizer.step

    def record_grads():
        seen.append([p.grad for p in model.parameters()])
        original()

    optimizer.step = record_grads
    for x, y in batches([8] * 5):
        step(x, y)
    assert step.compiled.replaying
    replayed = seen[2:]  # two recordings, then replays
    for grads in replayed[1:]:
        assert all(a is b for a, b in zip(grads, replayed[0], strict=True))
    assert all(p.grad is None for p in model.parameters())  # zero_grad still drops them


def test_gradients_accumulate_over_two_replayed_backward_passes():
    """A parameter that still holds a gradient gets the next one added, as eagerly."""
    model = mlp()
    twin = copy.deepcopy(model)
    data = batches([8] * 8)
    compiled = compiled_call(
        lambda x, y: functional.cross_entropy(model(x), y), "on", key=lambda: model.training
    )
    for index, (x, y) in enumerate(data):
        compiled.backward(compiled(x, y))
        twin_loss = functional.cross_entropy(twin(x), y)
        twin_loss.backward()
        if index % 2:  # zero every second batch: the other one accumulates
            for a, b in zip(model.parameters(), twin.parameters(), strict=True):
                assert np.array_equal(a.grad, b.grad)
                a.grad = b.grad = None
    assert compiled.replaying


def test_a_plain_backward_through_a_replayed_step_matches_eager_and_the_plan_keeps_working():
    model = mlp()
    twin = copy.deepcopy(model)
    compiled = compiled_call(
        lambda x, y: functional.cross_entropy(model(x), y), "on", key=lambda: model.training
    )
    for index, (x, y) in enumerate(batches([8] * 6)):
        loss = compiled(x, y)
        if index < 2:  # the recordings
            compiled.backward(loss)
        else:
            loss.backward()  # the engine's backward, not the plan's
        twin_loss = functional.cross_entropy(twin(x), y)
        twin_loss.backward()
        for a, b in zip(model.parameters(), twin.parameters(), strict=True):
            assert np.array_equal(a.grad, b.grad)
            a.grad = b.grad = None
    assert compiled.replaying


def test_a_second_backward_through_a_replayed_step_is_refused_as_eagerly():
    model = mlp(Dropout(0.5))
    compiled = compiled_call(
        lambda x, y: functional.cross_entropy(model(x), y), "on", key=lambda: model.training
    )
    data = batches([8] * 4)
    for x, y in data[:3]:
        compiled.backward(compiled(x, y))
        model.zero_grad()
    loss = compiled(*data[3])
    compiled.backward(loss)
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()
    model.zero_grad()
    compiled.backward(compiled(*data[0]))  # and the next replay runs as usual


def test_outputs_of_a_replay_are_not_overwritten_by_the_next_one():
    """Values that reach the caller are never preallocated buffers: a caller may keep them
    (predict concatenates the outputs of every batch)."""
    model = mlp()
    model.eval()
    compiled = compiled_call(lambda x: model(x).reshape(-1), "on")
    data = [x for x, _ in batches([6] * 5)]
    with no_grad():
        kept = [compiled(x).data for x in data]
        expected = [model(Tensor(x)).data.reshape(-1) for x in data]
    assert compiled.replaying
    for got, want in zip(kept, expected, strict=True):
        assert np.array_equal(got, want)


class Transposed(Module):
    """A dense layer on a transposed (non-contiguous) value: its gradient buffer must be
    one that a 2-D view can be written through."""

    def __init__(self):
        super().__init__()
        self.mix = Linear(8)
        self.head = Linear(3)

    def forward(self, x):
        return self.head(self.mix(x).transpose(1, 0))


def test_a_dense_layer_on_a_non_contiguous_value_replays_bitwise():
    model = Transposed()
    model(np.zeros((8, 5), np.float32))
    run_both(model, batches([8] * 6))
