"""The worked examples of the lecture nnrun teaches, checked by backprop."""

import numpy as np

from nnrun import Tensor


def f64(value, grad=True):
    return Tensor(np.asarray(value, dtype=np.float64), requires_grad=grad, dtype=np.float64)


def test_quadratic_form_gradients():
    """f(x, A) = xᵀAx: ∂f/∂x = (Aᵀ + A)x and ∂f/∂A = xxᵀ."""
    rng = np.random.default_rng(0)
    x_val, a_val = rng.standard_normal(3), rng.standard_normal((3, 3))
    x, a = f64(x_val), f64(a_val)
    (x @ a @ x).backward()
    np.testing.assert_allclose(x.grad, (a_val.T + a_val) @ x_val)
    np.testing.assert_allclose(a.grad, np.outer(x_val, x_val))


def test_reciprocal_square_through_an_intermediate():
    """y = 1/x² built as z = x², y = 1/z: dy/dz = −1/z², dy/dx = −2/x³."""
    x = f64(1.5)
    z = x * x
    (1 / z).backward()
    np.testing.assert_allclose(x.grad, -2 / 1.5**3)
    z_leaf = f64(z.data)  # dy/dz: the same y with z as the leaf
    (1 / z_leaf).backward()
    np.testing.assert_allclose(z_leaf.grad, -1 / 1.5**4)


def test_two_backward_paths_into_x_are_summed():
    """y = x/z with z = x²: both paths into x add up to dy/dx = −1/x²."""
    x = f64(0.7)
    z = x * x
    y = x / z
    y.backward()
    np.testing.assert_allclose(x.grad, -1 / 0.7**2)


def test_forward_pass_example_value_and_partials():
    """y = x·(x+y') + log(x+y') + y'²."""
    x_val, yp_val = 2.0, 3.0
    x, yp = f64(x_val), f64(yp_val)
    s = x + yp
    y = x * s + s.log() + yp * yp
    np.testing.assert_allclose(y.data, x_val * 5 + np.log(5) + 9)
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * x_val + yp_val + 1 / 5)
    np.testing.assert_allclose(yp.grad, x_val + 1 / 5 + 2 * yp_val)
