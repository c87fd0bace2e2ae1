"""The Tensor API users and tests write against."""

import numpy as np
import pytest

import nnrun
from nnrun import Tensor


def test_default_dtype_is_float32_and_float64_when_asked():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(np.zeros(3)).dtype == np.float32
    assert Tensor([1.0], dtype=np.float64).dtype == np.float64
    assert Tensor(np.array([1, 2])).dtype.kind == "i"


def test_attributes_and_conversions():
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.requires_grad and t.grad is None
    assert isinstance(t.data, np.ndarray) and t.numpy() is t.data
    assert Tensor([[4.0]]).item() == 4.0
    d = t.detach()
    assert not d.requires_grad and d.data is t.data
    (t * 2).sum().backward()
    assert t.grad is not None
    t.zero_grad()
    assert t.grad is None


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError):
        Tensor([1, 2], requires_grad=True)


def test_reflected_operators_with_scalars_and_arrays():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = 1 + (2 * x) - (3 / x) + np.array([1.0, 1.0]) * x - 1 - x / 2 + 2**x
    y.sum().backward()
    expected = 2 + 3 / np.array([1.0, 4.0]) + 1 - 0.5 + 2 ** np.array([1.0, 2.0]) * np.log(2)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-6)
    a = np.ones((2, 2))
    assert isinstance(a @ Tensor(np.eye(2)), Tensor)
    assert isinstance(a + Tensor(np.eye(2)), Tensor)


def test_comparisons_return_boolean_tensors_without_grad():
    x = Tensor([1.0, -1.0], requires_grad=True)
    for mask in (x > 0, x >= 0, x < 0, x <= 0, x == 1.0, x != 1.0):
        assert mask.dtype == bool and not mask.requires_grad
    np.testing.assert_array_equal((x > 0).data, [True, False])
    assert x[x > 0].shape == (1,)


def test_backward_needs_a_gradient_for_non_scalar_goals():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2).backward()
    (x * 2).backward(np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [2.0, 20.0])


def test_leaf_gradients_accumulate_until_zeroed():
    x = Tensor([3.0], requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [12.0])
    x.zero_grad()
    (x * 1).sum().backward()
    np.testing.assert_allclose(x.grad, [1.0])


def test_leaves_sharing_a_gradient_buffer_stay_independent():
    a = Tensor([1.0], requires_grad=True)
    b = Tensor([1.0], requires_grad=True)
    (a + b).sum().backward()
    (a * 5).sum().backward()
    np.testing.assert_allclose(a.grad, [6.0])
    np.testing.assert_allclose(b.grad, [1.0])


def test_second_backward_through_a_freed_graph_raises_clearly():
    x = Tensor([2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(nnrun.autograd.GraphFreedError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = Tensor([2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, [8.0])


def test_no_grad_records_no_graph():
    x = Tensor([1.0], requires_grad=True)
    with nnrun.no_grad():
        y = x * 2 + 1
    assert not y.requires_grad and y._ctx is None
    assert nnrun.is_grad_enabled()

    @nnrun.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad


def test_a_100000_op_chain_backpropagates_without_recursion():
    x = Tensor([1.0], requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0])


def test_gradients_sum_over_every_path():
    x = Tensor([2.0], requires_grad=True, dtype=np.float64)
    a = x * 3
    y = a * a + a + x
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [2 * 9 * 2 + 3 + 1])


def test_inputs_that_need_no_gradient_get_none():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    (x * c).sum().backward()
    assert c.grad is None


def test_indexing_forms():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert x[0].shape == (3, 4)
    assert x[:, 1:, ::2].shape == (2, 2, 2)
    assert x[None, ..., 0].shape == (1, 2, 3)
    assert x[np.array([1, 1, 0])].shape == (3, 3, 4)
    assert x[x.data > 10].shape == (13,)


def test_methods_exist_as_named():
    x = Tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
    for name in (
        "sum",
        "mean",
        "max",
        "min",
        "var",
        "exp",
        "log",
        "sqrt",
        "abs",
        "tanh",
        "sigmoid",
        "relu",
    ):
        assert isinstance(getattr(x, name)(), Tensor)
    assert x.clip(2, 4).data.max() == 4
    assert x.reshape(3, 2).shape == (3, 2)
    assert x.transpose(1, 0).shape == x.T.shape == (3, 2)
    assert x.swapaxes(0, 1).shape == (3, 2)
    assert x.expand_dims(0).squeeze(0).shape == (2, 3)
    assert x.sum(axis=1, keepdims=True).shape == (2, 1)
