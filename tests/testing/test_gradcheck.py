"""gradcheck as a user-facing tool: passes on correct ops, names the culprit on wrong ones."""

import numpy as np
import pytest

import nnrun
from nnrun.autograd.function import Function
from nnrun.testing.gradcheck import gradcheck_report


class WrongSquare(Function):
    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, grad):
        return (grad * 3 * self.x,)  # should be 2x


def test_gradcheck_passes_on_a_correct_composition():
    assert nnrun.gradcheck(lambda a, b: (a * b).tanh().sum(axis=0), [np.ones((2, 3)), np.ones(3)])


def test_gradcheck_names_input_index_and_values_on_mismatch():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(nnrun.GradcheckError) as error:
        nnrun.gradcheck(lambda a: WrongSquare.apply(a), [x])
    message = str(error.value)
    assert "input 0" in message and "analytic" in message and "numeric" in message
    assert "(1, 1)" in message or "(1, 0)" in message


def test_large_inputs_are_checked_along_random_directions():
    x = np.random.default_rng(0).standard_normal((40, 40))
    (result,) = gradcheck_report(lambda a: (a * a).sum(axis=1), [x])
    assert result.method == "directions" and result.ok
    (bad,) = gradcheck_report(lambda a: WrongSquare.apply(a), [x])
    assert not bad.ok


def test_gradcheck_checks_parameters_used_by_closure():
    w = nnrun.Tensor(np.ones((3, 2)), requires_grad=True, dtype=np.float64)
    results = gradcheck_report(lambda x: x @ w, [np.ones((4, 3))], params=[w], names=["x", "w"])
    assert [r.name for r in results] == ["x", "w"] and all(r.ok for r in results)
