"""Optimizer checkpoints: plain nested dicts, resumed bitwise-identically."""

import copy
import json
from types import SimpleNamespace

import numpy as np
import pytest

from nnrun.errors import CheckpointError
from nnrun.registry import OPTIMIZERS
from tests.optim.samples import EVERY_TERM, NAMES


def make_model(dtype=np.float32):
    rng = np.random.default_rng(1)
    return [
        (
            name,
            SimpleNamespace(
                data=rng.normal(size=shape).astype(dtype), grad=None, requires_grad=True
            ),
        )
        for name, shape in (("fc.weight", (3, 2)), ("fc.bias", (3,)))
    ]


def run_steps(optimizer, named, steps, first_step):
    for step in range(first_step, first_step + steps):
        rng = np.random.default_rng(100 + step)
        for _, param in named:
            param.grad = rng.normal(size=param.data.shape).astype(param.data.dtype)
        optimizer.step()


def through_checkpoint(state):
    """What a safetensors + JSON checkpoint gives back: fresh arrays, JSON-decoded rest."""
    arrays = {}

    def split(value, path):
        if isinstance(value, np.ndarray):
            arrays[path] = value.copy()
            return {"__array__": path}
        if isinstance(value, dict):
            return {str(k): split(v, f"{path}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [split(v, f"{path}.{i}") for i, v in enumerate(value)]
        return value

    def join(value):
        if isinstance(value, dict):
            if set(value) == {"__array__"}:
                return arrays[value["__array__"]]
            return {k: join(v) for k, v in value.items()}
        if isinstance(value, list):
            return [join(v) for v in value]
        return value

    return join(json.loads(json.dumps(split(state, "optimizer"))))


@pytest.mark.parametrize("name", NAMES)
def test_resume_from_state_dict_continues_bitwise_identical(name):
    options = EVERY_TERM[name]
    straight = make_model()
    optimizer = OPTIMIZERS.build(name, straight, **options)
    run_steps(optimizer, straight, 3, first_step=0)

    resumed = make_model()
    first = OPTIMIZERS.build(name, resumed, **options)
    run_steps(first, resumed, 1, first_step=0)
    saved = through_checkpoint(first.state_dict())
    params = copy.deepcopy(resumed)
    second = OPTIMIZERS.build(name, params, **options)
    second.load_state_dict(saved)
    run_steps(second, params, 2, first_step=1)

    for (_, a), (_, b) in zip(straight, params, strict=True):
        assert a.data.dtype == b.data.dtype == np.float32
        np.testing.assert_array_equal(a.data, b.data)


def test_state_dict_is_keyed_by_name_and_holds_plain_values():
    named = make_model()
    optimizer = OPTIMIZERS.build("adam", named, betas=[0.8, 0.9])
    run_steps(optimizer, named, 2, first_step=0)
    state = optimizer.state_dict()
    assert set(state["state"]) == {"fc.weight", "fc.bias"}
    assert state["state"]["fc.bias"]["step"] == 2
    assert state["param_groups"][0]["params"] == ["fc.weight", "fc.bias"]
    assert state["param_groups"][0]["betas"] == [0.8, 0.9]
    weight_state = state["state"]["fc.weight"]["exp_avg"]
    assert weight_state is not optimizer.state[id(named[0][1])]["exp_avg"]


def test_state_dict_uses_indices_for_unnamed_parameters():
    params = [param for _, param in make_model()]
    optimizer = OPTIMIZERS.build("sgd", params, momentum=0.9)
    run_steps(optimizer, [(None, p) for p in params], 1, first_step=0)
    state = optimizer.state_dict()
    assert set(state["state"]) == {0, 1}
    assert state["param_groups"][0]["params"] == [0, 1]
    fresh = OPTIMIZERS.build("sgd", params, momentum=0.9)
    fresh.load_state_dict(through_checkpoint(state))  # JSON turns 0 into "0"
    np.testing.assert_array_equal(
        fresh.state[id(params[0])]["momentum_buffer"],
        optimizer.state[id(params[0])]["momentum_buffer"],
    )


def test_loading_restores_hyper_parameters_set_by_a_schedule():
    optimizer = OPTIMIZERS.build("sgd", make_model(), lr=0.1)
    optimizer.param_groups[0]["lr"] = 0.025
    fresh = OPTIMIZERS.build("sgd", make_model(), lr=0.1)
    fresh.load_state_dict(optimizer.state_dict())
    assert fresh.param_groups[0]["lr"] == 0.025


def test_loading_a_state_for_other_parameters_is_a_checkpoint_error():
    optimizer = OPTIMIZERS.build("adam", make_model())
    other = [("encoder.weight", param) for _, param in make_model()[:1]]
    with pytest.raises(CheckpointError, match=r"encoder\.weight|fc\.weight"):
        OPTIMIZERS.build("adam", other).load_state_dict(optimizer.state_dict())


def test_loading_a_state_with_another_group_layout_is_a_checkpoint_error():
    named = make_model()
    optimizer = OPTIMIZERS.build(
        "adam", named, param_groups=[{"match": "*.bias", "weight_decay": 0.0}]
    )
    with pytest.raises(CheckpointError, match="parameter group"):
        OPTIMIZERS.build("adam", make_model()).load_state_dict(optimizer.state_dict())


def test_loading_a_buffer_of_the_wrong_shape_is_a_checkpoint_error():
    named = make_model()
    optimizer = OPTIMIZERS.build("sgd", named, momentum=0.9)
    run_steps(optimizer, named, 1, first_step=0)
    state = optimizer.state_dict()
    state["state"]["fc.bias"]["momentum_buffer"] = np.zeros(4, dtype=np.float32)
    with pytest.raises(CheckpointError, match="shape"):
        OPTIMIZERS.build("sgd", make_model(), momentum=0.9).load_state_dict(state)
