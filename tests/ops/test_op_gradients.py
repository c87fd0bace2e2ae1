"""Every engine op against central finite differences (float64) and dtype discipline."""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nnrun
import nnrun.ops
from nnrun.autograd.function import Function
from tests.ops.op_cases import CASES

ENGINE_MODULES = [
    importlib.import_module(info.name)
    for info in pkgutil.iter_modules(nnrun.ops.__path__, prefix="nnrun.ops.")
]


def _ops_defined_in(module):
    """The Function classes a module defines, but not bases its other ops extend (a
    recurrence's shared loop, the losses' shared reduction): those are never applied."""
    classes = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, Function) and obj.__module__ == module.__name__
    ]
    return {c.__name__ for c in classes if not any(c in o.__bases__ for o in classes)}


def test_every_engine_op_has_a_case():
    defined = set().union(*(_ops_defined_in(m) for m in ENGINE_MODULES))
    covered = {case.op for case in CASES}
    assert defined - covered == set()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.op}-{c.id}" if c.id else c.op for c in CASES])
def test_op_gradient_matches_finite_differences(case):
    assert nnrun.gradcheck(case.fn, case.inputs)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.op}-{c.id}" if c.id else c.op for c in CASES])
def test_float32_in_gives_float32_values_and_gradients(case):
    tensors = [nnrun.Tensor(x.astype(np.float32), requires_grad=True) for x in case.inputs]
    out = case.fn(*tensors)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    for t in tensors:
        assert t.grad is None or t.grad.dtype == np.float32


def test_scalars_never_upcast_float32():
    x = nnrun.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    for y in (
        x * 2.5,
        2.5 * x,
        x + np.float64(1.0),
        x / np.float64(3),
        x ** np.float64(2),
        x - np.array(1.0),
        np.float64(2) - x,
        x * np.ones(3),
    ):
        assert y.dtype == np.float32


shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_binary_ops_broadcast_gradients(data):
    shape_a, shape_b = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, base_shape=())
    ).input_shapes
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 2.0, shape_a)
    b = rng.uniform(0.5, 2.0, shape_b)
    op = data.draw(st.sampled_from(["add", "sub", "mul", "div", "pow"]))
    fn = {
        "add": lambda x, y: x + y,
        "sub": lambda x, y: x - y,
        "mul": lambda x, y: x * y,
        "div": lambda x, y: x / y,
        "pow": lambda x, y: x**y,
    }[op]
    assert nnrun.gradcheck(fn, [a, b])


@settings(max_examples=25, deadline=None)
@given(shape=shapes, data=st.data())
def test_reductions_over_random_axes(shape, data):
    x = np.random.default_rng(1).permutation(int(np.prod(shape))).reshape(shape) * 0.1
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    keepdims = data.draw(st.booleans())
    op = data.draw(st.sampled_from(["sum", "mean", "max", "min", "var"]))
    assert nnrun.gradcheck(lambda t: getattr(t, op)(axis=axis, keepdims=keepdims), [x])


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 6), picks=st.lists(st.integers(0, 5), min_size=1, max_size=10))
def test_repeated_integer_indices_accumulate(n, picks):
    index = np.array([p % n for p in picks])
    x = np.random.default_rng(2).standard_normal((n, 2))
    assert nnrun.gradcheck(
        lambda t: t[index] * np.arange(1, len(index) * 2 + 1).reshape(-1, 2), [x]
    )
    t = nnrun.Tensor(x, requires_grad=True, dtype=np.float64)
    t[index].sum().backward()
    np.testing.assert_array_equal(t.grad[:, 0], np.bincount(index, minlength=n))
