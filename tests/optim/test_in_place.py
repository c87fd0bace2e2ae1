"""Optimizer updates reuse their work arrays: a step allocates no parameter-sized array."""

import tracemalloc

import numpy as np
import pytest

from nnrun.nn import Parameter
from nnrun.registry import OPTIMIZERS
from tests.optim.samples import EVERY_TERM, NAMES


def test_every_registered_optimizer_has_options_for_the_walkers():
    assert set(EVERY_TERM) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_a_step_after_the_first_allocates_no_parameter_sized_array(name):
    rng = np.random.default_rng(0)
    param = Parameter(rng.standard_normal((256, 256)).astype(np.float32))
    optimizer = OPTIMIZERS.build(name, [param], **EVERY_TERM[name])
    param.grad = rng.standard_normal(param.shape).astype(np.float32)
    optimizer.step()  # creates the state and the work arrays
    tracemalloc.start()
    try:
        optimizer.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < param.data.nbytes // 4


@pytest.mark.parametrize("name", NAMES)
def test_an_update_in_blocks_equals_the_update_in_one_piece(name, monkeypatch):
    """A parameter of several blocks (and rows longer than a block) is updated bitwise as
    if it were one block."""
    import nnrun.optim.optimizer as optimizer_module

    results = []
    for block in (optimizer_module.BLOCK, 10**9):
        monkeypatch.setattr(optimizer_module, "BLOCK", block)
        rng = np.random.default_rng(1)
        params = [
            Parameter(np.asarray(rng.standard_normal(shape), np.float32))
            for shape in [(300, 1000), (2, 100_000), ()]
        ]
        optimizer = OPTIMIZERS.build(name, params, **EVERY_TERM[name])
        for step in range(3):
            for param in params:
                grad = np.random.default_rng(step).standard_normal(param.shape)
                param.grad = grad.astype(np.float32)
            optimizer.step()
        results.append([param.data for param in params])
    for blocked, whole in zip(*results, strict=True):
        np.testing.assert_array_equal(blocked, whole)


@pytest.mark.parametrize("name", NAMES)
def test_an_update_kept_for_reused_gradient_arrays_follows_replaced_data_and_state(name):
    """Gradients written into the same arrays every step (as a compiled step does) update
    bitwise as fresh gradient arrays do, also after the parameter's data or the optimizer's
    state is replaced."""
    rng = np.random.default_rng(2)
    shapes = [(300, 1000), (7,)]  # several blocks, and one
    start = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    reused = [Parameter(array.copy()) for array in start]
    fresh = [Parameter(array.copy()) for array in start]
    kept = OPTIMIZERS.build(name, reused, **EVERY_TERM[name])
    other = OPTIMIZERS.build(name, fresh, **EVERY_TERM[name])
    buffers = [np.empty(shape, np.float32) for shape in shapes]
    for step in range(9):
        if step == 4:  # new data arrays (as Module.to does)
            for param in reused + fresh:
                param.data = param.data.copy()
        if step == 6:  # state restored from a checkpoint
            kept.load_state_dict(other.state_dict())
        for param, twin, buffer in zip(reused, fresh, buffers, strict=True):
            buffer[...] = rng.standard_normal(buffer.shape)
            param.grad, twin.grad = buffer, buffer.copy()
        kept.step()
        other.step()
        kept.zero_grad()
        other.zero_grad()
        for param, twin in zip(reused, fresh, strict=True):
            np.testing.assert_array_equal(param.data, twin.data)
