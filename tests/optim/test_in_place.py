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
