"""Elementwise ops. Gradients come back in the broadcast shape; the engine reduces them."""

from __future__ import annotations

import math

import numpy as np

from nnrun.autograd.function import Function, Grads
from nnrun.ops.activations import erf as erf_array


class Add(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out: np.ndarray = a + b
        return out

    def backward(self, grad: np.ndarray) -> Grads:
        return grad, grad


class Sub(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out: np.ndarray = a - b
        return out

    def backward(self, grad: np.ndarray) -> Grads:
        return grad, (-grad if self.needs_input_grad[1] else None)


class Mul(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        out: np.ndarray = a * b
        return out

    def backward(self, grad: np.ndarray) -> Grads:
        need_a, need_b = self.needs_input_grad
        return (grad * self.b if need_a else None, grad * self.a if need_b else None)


class Div(Function):
    out: np.ndarray

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.b = b
        self.out = a / b
        return self.out

    def backward(self, grad: np.ndarray) -> Grads:
        need_a, need_b = self.needs_input_grad
        grad_a = grad / self.b
        return (grad_a if need_a else None, -grad_a * self.out if need_b else None)


class Neg(Function):
    def forward(self, a: np.ndarray) -> np.ndarray:
        return -a

    def backward(self, grad: np.ndarray) -> Grads:
        return (-grad,)


class PowScalar(Function):
    """x ** c for a constant exponent c."""

    def forward(self, x: np.ndarray, exponent: float) -> np.ndarray:
        self.x, self.exponent = x, exponent
        return x**exponent

    def backward(self, grad: np.ndarray) -> Grads:
        c = self.exponent
        if c == 2:
            return (grad * (2 * self.x),)
        return (grad * (c * self.x ** (c - 1)),)


class Pow(Function):
    """a ** b for tensors; d/db uses log(a), taken as 0 where a ** b is 0."""

    out: np.ndarray

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        self.out = a**b
        return self.out

    def backward(self, grad: np.ndarray) -> Grads:
        need_a, need_b = self.needs_input_grad
        grad_a = grad * self.b * self.a ** (self.b - 1) if need_a else None
        grad_b = None
        if need_b:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = np.where(self.out == 0, 0, np.log(np.where(self.a == 0, 1, self.a)))
            grad_b = grad * self.out * log_a
        return grad_a, grad_b


class Exp(Function):
    out: np.ndarray

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = np.exp(x)
        return self.out

    def backward(self, grad: np.ndarray) -> Grads:
        return (grad * self.out,)


class Log(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        out: np.ndarray = np.log(x)
        return out

    def backward(self, grad: np.ndarray) -> Grads:
        return (grad / self.x,)


class Sqrt(Function):
    out: np.ndarray

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = np.sqrt(x)
        return self.out

    def backward(self, grad: np.ndarray) -> Grads:
        return (grad * 0.5 / self.out,)


class Abs(Function):
    """|x|; the gradient at 0 is 0, as in PyTorch."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        out: np.ndarray = np.abs(x)
        return out

    def backward(self, grad: np.ndarray) -> Grads:
        return (grad * np.sign(self.x),)


class Sign(Function):
    """sign(x): piecewise constant, so its gradient is zero everywhere it exists."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.sign(x)
        return out

    def backward(self, grad: np.ndarray) -> Grads:
        return (np.zeros_like(grad),)


class Clip(Function):
    """clip(x, low, high); the gradient passes where low <= x <= high (torch.clamp)."""

    def forward(self, x: np.ndarray, low: float | None, high: float | None) -> np.ndarray:
        self.x, self.low, self.high = x, low, high
        out: np.ndarray = np.clip(x, low, high)
        return out

    def backward(self, grad: np.ndarray) -> Grads:
        x = self.x
        if self.low is None:
            inside = x <= self.high
        elif self.high is None:
            inside = x >= self.low
        else:
            inside = (x >= self.low) & (x <= self.high)
        return (grad * inside,)


class Tanh(Function):
    out: np.ndarray

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad: np.ndarray) -> Grads:
        return (grad * (1 - self.out * self.out),)


class Sigmoid(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        # tanh form: no overflow for large |x|, one transcendental call.
        self.out = 0.5 * (np.tanh(0.5 * x) + 1)
        return self.out

    def backward(self, grad: np.ndarray) -> Grads:
        return (grad * self.out * (1 - self.out),)


class Relu(Function):
    out: np.ndarray

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = np.maximum(x, 0)
        return self.out

    def backward(self, grad: np.ndarray) -> Grads:
        return (grad * (self.out > 0),)


class Sin(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        out: np.ndarray = np.sin(x)
        return out

    def backward(self, grad: np.ndarray) -> Grads:
        return (grad * np.cos(self.x),)


class Cos(Function):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        out: np.ndarray = np.cos(x)
        return out

    def backward(self, grad: np.ndarray) -> Grads:
        return (-grad * np.sin(self.x),)


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


class Erf(Function):
    """The error function (Cephes rational approximations, float64-accurate)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return erf_array(x).astype(x.dtype, copy=False)

    def backward(self, grad: np.ndarray) -> Grads:
        return (grad * _TWO_OVER_SQRT_PI * np.exp(-self.x * self.x),)


class Maximum(Function):
    """Elementwise max; ties split the gradient evenly (as torch.maximum)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        out: np.ndarray = np.maximum(a, b)
        return out

    def backward(self, grad: np.ndarray) -> Grads:
        share_a = (self.a > self.b) + 0.5 * (self.a == self.b)
        need_a, need_b = self.needs_input_grad
        return (grad * share_a if need_a else None, grad * (1 - share_a) if need_b else None)


class Minimum(Function):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        out: np.ndarray = np.minimum(a, b)
        return out

    def backward(self, grad: np.ndarray) -> Grads:
        share_a = (self.a < self.b) + 0.5 * (self.a == self.b)
        need_a, need_b = self.needs_input_grad
        return (grad * share_a if need_a else None, grad * (1 - share_a) if need_b else None)


class Where(Function):
    """where(condition, a, b); `condition` is a constant boolean array."""

    def forward(self, a: np.ndarray, b: np.ndarray, condition: np.ndarray) -> np.ndarray:
        self.condition = condition
        return np.where(condition, a, b)

    def backward(self, grad: np.ndarray) -> Grads:
        need_a, need_b = self.needs_input_grad
        zero = np.zeros((), dtype=grad.dtype)
        return (
            np.where(self.condition, grad, zero) if need_a else None,
            np.where(self.condition, zero, grad) if need_b else None,
        )
