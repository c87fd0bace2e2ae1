"""The engine checks each backward result where it consumes it."""

import numpy as np
import pytest

from nnrun import Tensor
from nnrun.autograd.engine import BackwardContractError, accumulate
from nnrun.autograd.function import Function


class ReturnsBareArray(Function):
    def forward(self, x):
        return x * 2

    def backward(self, grad):
        return grad * 2


class DropsAGradient(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return (grad,)


class WrongShape(Function):
    def forward(self, x):
        return x.sum(axis=1)

    def backward(self, grad):
        return (np.ones((3, 5), dtype=grad.dtype),)


class Broadcasts(Function):
    def forward(self, bias):
        return np.broadcast_to(bias, (4, 3)).copy()

    def backward(self, grad):
        return (grad,)


def leaf(*shape):
    return Tensor(np.ones(shape, dtype=np.float32), requires_grad=True)


def test_a_backward_returning_a_bare_array_is_an_error_naming_the_op():
    out = ReturnsBareArray.apply(leaf(3))
    with pytest.raises(BackwardContractError, match=r"ReturnsBareArray.*ndarray.*tuple"):
        out.sum().backward()


def test_a_backward_returning_too_few_gradients_is_an_error_not_a_dropped_gradient():
    out = DropsAGradient.apply(leaf(2), leaf(2))
    with pytest.raises(BackwardContractError, match=r"DropsAGradient.*1 gradients for 2 inputs"):
        out.sum().backward()


def test_a_gradient_that_cannot_reduce_to_its_input_names_index_and_both_shapes():
    out = WrongShape.apply(leaf(3, 4))
    with pytest.raises(BackwardContractError) as error:
        out.sum().backward()
    message = str(error.value)
    assert "WrongShape" in message and "input 0" in message
    assert "(3, 5)" in message and "(3, 4)" in message


def test_a_broadcast_gradient_is_reduced_to_the_input_shape():
    bias = leaf(3)
    Broadcasts.apply(bias).sum().backward()
    np.testing.assert_array_equal(bias.grad, np.full(3, 4.0, dtype=np.float32))


def test_accumulate_adds_in_place_only_into_an_owned_gradient():
    shared = np.ones(2)
    pending: dict[int, list] = {}
    accumulate(pending, 1, shared, owned=False)
    accumulate(pending, 1, np.ones(2), owned=True)
    assert pending[1][0] is not shared and pending[1][1]  # a fresh sum, now owned
    np.testing.assert_array_equal(shared, np.ones(2))
    owned_sum = pending[1][0]
    accumulate(pending, 1, np.ones(2), owned=False)
    assert pending[1][0] is owned_sum
    np.testing.assert_array_equal(owned_sum, np.full(2, 3.0))
