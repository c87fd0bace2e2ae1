"""Elementwise ops. Gradients come back in the broadcast shape; the engine reduces them."""

from __future__ import annotations

import math

import numpy as np

from nnrun.autograd.function import Function, Grads
from nnrun.ops.activations import erf as erf_array
from nnrun.ops.buffers import clip, first, fits, target

# Ops that set `forward_out`/`backward_out` write values and gradients into the arrays a
# compiled step hands them (see Function and ops/buffers.py); otherwise the same ufunc
# calls allocate.


class Add(Function):
    forward_out = True

    def forward(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        value: np.ndarray = np.add(a, b, out=target(out, a, b))
        return value

    def backward(self, grad: np.ndarray) -> Grads:
        return grad, grad


class Sub(Function):
    forward_out = backward_out = True

    def forward(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        value: np.ndarray = np.subtract(a, b, out=target(out, a, b))
        return value

    def backward(self, grad: np.ndarray, out: Grads = (None, None)) -> Grads:
        need_b = self.needs_input_grad[1]
        return grad, (np.negative(grad, out=fits(out[1], grad)) if need_b else None)


class Mul(Function):
    forward_out = backward_out = True

    def forward(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.a, self.b = a, b
        value: np.ndarray = np.multiply(a, b, out=target(out, a, b))
        return value

    def backward(self, grad: np.ndarray, out: Grads = (None, None)) -> Grads:
        need_a, need_b = self.needs_input_grad
        a, b = self.a, self.b
        return (
            np.multiply(grad, b, out=fits(out[0], grad, b)) if need_a else None,
            np.multiply(grad, a, out=fits(out[1], grad, a)) if need_b else None,
        )


class Div(Function):
    forward_out = backward_out = True
    out: np.ndarray

    def forward(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.b = b
        self.out = np.divide(a, b, out=target(out, a, b))
        return self.out

    def backward(self, grad: np.ndarray, out: Grads = (None, None)) -> Grads:
        need_a, need_b = self.needs_input_grad
        grad_a = np.divide(grad, self.b, out=fits(out[0] if need_a else None, grad, self.b))
        if not need_b:
            return grad_a, None
        grad_b = np.negative(grad_a, out=fits(out[1], grad_a, self.out))
        return (grad_a if need_a else None, np.multiply(grad_b, self.out, out=grad_b))


class Neg(Function):
    forward_out = backward_out = True

    def forward(self, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        value: np.ndarray = np.negative(a, out=target(out, a))
        return value

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        return (np.negative(grad, out=fits(first(out), grad)),)


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
    forward_out = backward_out = True
    out: np.ndarray

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.out = np.exp(x, out=target(out, x))
        return self.out

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        return (np.multiply(grad, self.out, out=fits(first(out), grad, self.out)),)


class Log(Function):
    forward_out = backward_out = True

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.x = x
        value: np.ndarray = np.log(x, out=target(out, x))
        return value

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        return (np.divide(grad, self.x, out=fits(first(out), grad, self.x)),)


class Sqrt(Function):
    forward_out = backward_out = True
    out: np.ndarray

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.out = np.sqrt(x, out=target(out, x))
        return self.out

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        scaled: np.ndarray = np.multiply(grad, 0.5, out=fits(first(out), grad, self.out))
        scaled /= self.out
        return (scaled,)


class Abs(Function):
    """|x|; the gradient at 0 is 0, as in PyTorch."""

    forward_out = backward_out = True

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.x = x
        value: np.ndarray = np.abs(x, out=target(out, x))
        return value

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        sign = np.sign(self.x)
        return (np.multiply(grad, sign, out=fits(first(out), grad, sign)),)


class Sign(Function):
    """sign(x): piecewise constant, so its gradient is zero everywhere it exists."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.sign(x)
        return out

    def backward(self, grad: np.ndarray) -> Grads:
        return (np.zeros_like(grad),)


class Clip(Function):
    """clip(x, low, high); the gradient passes where low <= x <= high (torch.clamp)."""

    forward_out = backward_out = True

    def forward(
        self, x: np.ndarray, low: float | None, high: float | None, out: np.ndarray | None = None
    ) -> np.ndarray:
        self.x, self.low, self.high = x, low, high
        value: np.ndarray = clip(x, low, high, target(out, x))
        return value

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        x = self.x
        if self.low is None:
            inside = x <= self.high
        elif self.high is None:
            inside = x >= self.low
        else:
            inside = (x >= self.low) & (x <= self.high)
        return (np.multiply(grad, inside, out=fits(first(out), grad, inside)),)


class Tanh(Function):
    forward_out = backward_out = True
    out: np.ndarray

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.out = np.tanh(x, out=target(out, x))
        return self.out

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        slope = 1 - self.out * self.out
        return (np.multiply(grad, slope, out=fits(first(out), grad, slope)),)


class Sigmoid(Function):
    forward_out = backward_out = True

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        # tanh form: no overflow for large |x|, one transcendental call.
        value: np.ndarray = np.multiply(x, 0.5, out=target(out, x))
        np.tanh(value, out=value)
        value += 1
        value *= 0.5
        self.out = value
        return value

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        value = self.out
        scaled = np.multiply(grad, value, out=fits(first(out), grad, value))
        scaled *= 1 - value
        return (scaled,)


class Relu(Function):
    forward_out = backward_out = True
    out: np.ndarray

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.out = np.maximum(x, 0, out=target(out, x))
        return self.out

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        kept = self.out > 0
        return (np.multiply(grad, kept, out=fits(first(out), grad, kept)),)


class Sin(Function):
    forward_out = backward_out = True

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.x = x
        value: np.ndarray = np.sin(x, out=target(out, x))
        return value

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        slope = np.cos(self.x)
        return (np.multiply(grad, slope, out=fits(first(out), grad, slope)),)


class Cos(Function):
    forward_out = backward_out = True

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.x = x
        value: np.ndarray = np.cos(x, out=target(out, x))
        return value

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        slope = np.sin(self.x)
        negated = np.negative(grad, out=fits(first(out), grad, slope))
        return (np.multiply(negated, slope, out=negated),)


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

    forward_out = True

    def forward(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.a, self.b = a, b
        value: np.ndarray = np.maximum(a, b, out=target(out, a, b))
        return value

    def backward(self, grad: np.ndarray) -> Grads:
        share_a = (self.a > self.b) + 0.5 * (self.a == self.b)
        need_a, need_b = self.needs_input_grad
        return (grad * share_a if need_a else None, grad * (1 - share_a) if need_b else None)


class Minimum(Function):
    forward_out = True

    def forward(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.a, self.b = a, b
        value: np.ndarray = np.minimum(a, b, out=target(out, a, b))
        return value

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
