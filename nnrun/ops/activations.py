"""Fused activation ops: one Function per activation, forward and hand-written backward.

Each replaces a chain of 3–8 elementwise ops, so a hidden layer pays one op's Python
overhead for its nonlinearity. Formulas, defaults and the gradient at kinks follow
torch.nn.functional (e.g. leaky_relu and elu take the x <= 0 branch at 0).
"""

from __future__ import annotations

import math

import numpy as np

from nnrun.autograd.function import Function, Grads
from nnrun.ops.buffers import clip, first, fits, target

# Cephes ndtr.c rational approximations (S. L. Moshier, public domain), the ones SciPy and
# many libms use: erf(x) = x·T(x²)/U(x²) on |x| <= 1 and erfc(x) = exp(−x²)·P(x)/Q(x) on
# 1 < x < 8 (relative error ~1e-16). Beyond |x| = 6, 1 − erfc(x) rounds to 1 in float64.
_ERF_T = (
    9.60497373987051638749e0,
    9.00260197203842689217e1,
    2.23200534594684319226e3,
    7.00332514112805075473e3,
    5.55923013010394962768e4,
)
_ERF_U = (
    1.0,
    3.35617141647503099647e1,
    5.21357949780152679795e2,
    4.59432382970980127987e3,
    2.26290000613890934246e4,
    4.92673942608635921086e4,
)
_ERFC_P = (
    2.46196981473530512524e-10,
    5.64189564831068821977e-1,
    7.46321056442269912687e0,
    4.86371970985681366614e1,
    1.96520832956077098242e2,
    5.26445194995477358631e2,
    9.34528527171957607540e2,
    1.02755188689515710272e3,
    5.57535335369399327526e2,
)
_ERFC_Q = (
    1.0,
    1.32281951154744992508e1,
    8.67072140885989742329e1,
    3.54937778887819891062e2,
    9.75708501743205489753e2,
    1.82390916687909736289e3,
    2.24633760818710981792e3,
    1.65666309194161350182e3,
    5.57535340817727675546e2,
)
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def _horner(coefficients: tuple[float, ...], x: np.ndarray) -> np.ndarray:
    """Σ c_i x^(n−i): coefficients from the highest power down."""
    out = np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        out *= x
        out += c
    return out


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, to float64 precision for float64 input (computed in x's dtype)."""
    z = np.abs(x)
    inner = np.minimum(z, 1.0)
    inner_sq = inner * inner
    near = inner * _horner(_ERF_T, inner_sq) / _horner(_ERF_U, inner_sq)
    outer = np.clip(z, 1.0, 6.0)
    far = 1.0 - np.exp(-outer * outer) * _horner(_ERFC_P, outer) / _horner(_ERFC_Q, outer)
    out: np.ndarray = np.copysign(np.where(z <= 1.0, near, far), x)
    return out


class LeakyRelu(Function):
    """x for x > 0, negative_slope·x otherwise."""

    def forward(self, x: np.ndarray, negative_slope: float) -> np.ndarray:
        self.positive, self.negative_slope = x > 0, negative_slope
        return np.where(self.positive, x, x * negative_slope)

    def backward(self, grad: np.ndarray) -> Grads:
        return (np.where(self.positive, grad, grad * self.negative_slope),)


class Elu(Function):
    """scale·x for x > 0, scale·alpha·(exp(x) − 1) otherwise (SELU is fixed alpha, scale)."""

    def forward(self, x: np.ndarray, alpha: float, scale: float) -> np.ndarray:
        self.positive, self.scale = x > 0, scale
        self.negative_part = scale * alpha * np.exp(np.minimum(x, 0))  # d/dx for x <= 0
        return np.where(self.positive, scale * x, scale * alpha * np.expm1(np.minimum(x, 0)))

    def backward(self, grad: np.ndarray) -> Grads:
        return (np.where(self.positive, grad * self.scale, grad * self.negative_part),)


class Gelu(Function):
    """x·Φ(x) with Φ the standard normal CDF; `approximate="tanh"` uses
    Φ(x) ≈ (1 + tanh(√(2/π)(x + 0.044715x³)))/2, as torch."""

    forward_out = backward_out = True

    def forward(self, x: np.ndarray, approximate: str, out: np.ndarray | None = None) -> np.ndarray:
        self.x, self.approximate = x, approximate
        if approximate == "tanh":
            self.tanh = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))
            self.cdf = 0.5 * (1 + self.tanh)
        else:
            self.cdf = 0.5 * (1 + erf(x * _SQRT_HALF))
        value: np.ndarray = np.multiply(x, self.cdf, out=target(out, x))
        return value

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        x = self.x
        if self.approximate == "tanh":
            inner_slope = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
            density = 0.5 * (1 - self.tanh * self.tanh) * inner_slope
        else:
            density = _INV_SQRT_2PI * np.exp(-0.5 * x * x)
        slope = self.cdf + x * density
        return (np.multiply(grad, slope, out=fits(first(out), grad, slope)),)


class Silu(Function):
    """x·sigmoid(x) (swish)."""

    forward_out = backward_out = True

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.x = x
        self.sigmoid = 0.5 * (np.tanh(0.5 * x) + 1)  # no overflow for large |x|
        value: np.ndarray = np.multiply(x, self.sigmoid, out=target(out, x))
        return value

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        s = self.sigmoid
        slope = s * (1 + self.x * (1 - s))
        return (np.multiply(grad, slope, out=fits(first(out), grad, slope)),)


class Softplus(Function):
    """log(1 + exp(beta·x))/beta, and x itself where beta·x > threshold (as torch)."""

    def forward(self, x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
        self.scaled = x * beta
        self.linear = self.scaled > threshold
        # log(1 + e^s) = max(s, 0) + log1p(e^−|s|): no overflow, no loss for large |s|.
        smooth = (np.maximum(self.scaled, 0) + np.log1p(np.exp(-np.abs(self.scaled)))) / beta
        return np.where(self.linear, x, smooth)

    def backward(self, grad: np.ndarray) -> Grads:
        sigmoid = 0.5 * (np.tanh(0.5 * self.scaled) + 1)
        return (np.where(self.linear, grad, grad * sigmoid),)


class Softsign(Function):
    """x / (1 + |x|)."""

    forward_out = backward_out = True

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.denominator = 1 + np.abs(x)
        value: np.ndarray = np.divide(x, self.denominator, out=target(out, x))
        return value

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        square = self.denominator * self.denominator
        return (np.divide(grad, square, out=fits(first(out), grad, square)),)


class Hardtanh(Function):
    """clip(x, min_val, max_val); the gradient is 1 strictly inside, 0 at and beyond the
    bounds (torch's hardtanh_backward)."""

    forward_out = backward_out = True

    def forward(
        self, x: np.ndarray, min_val: float, max_val: float, out: np.ndarray | None = None
    ) -> np.ndarray:
        self.inside = (x > min_val) & (x < max_val)
        value: np.ndarray = clip(x, min_val, max_val, target(out, x))
        return value

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        return (np.multiply(grad, self.inside, out=fits(first(out), grad, self.inside)),)


class HardSigmoid(Function):
    """relu6(x + 3)/6: 0 below −3, 1 above 3, linear between (torch.nn.Hardsigmoid)."""

    forward_out = backward_out = True

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.inside = (x > -3) & (x < 3)
        value: np.ndarray = clip(x / 6 + 0.5, 0, 1, target(out, x))
        return value

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        kept: np.ndarray = np.multiply(grad, self.inside, out=fits(first(out), grad, self.inside))
        kept /= 6
        return (kept,)


class SignSte(Function):
    """Forward sign(x); backward the straight-through estimator: the gradient passes
    unchanged where |x| <= 1 and is 0 elsewhere (the gradient of hardtanh)."""

    forward_out = backward_out = True

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.inside = np.abs(x) <= 1
        value: np.ndarray = np.sign(x, out=target(out, x))
        return value

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        return (np.multiply(grad, self.inside, out=fits(first(out), grad, self.inside)),)


# Below this |πx| the quotients lose digits to cancellation; the Taylor series below are
# exact to float64 there (first omitted terms ~1e-22 and ~1e-16 relative).
_SINC_SERIES_LIMIT = 1e-2


class Sinc(Function):
    """sin(πx)/(πx), 1 at x = 0 (torch.sinc); derivative (cos(πx) − sinc(x))/x, 0 at 0."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        angle = np.pi * x
        small = np.abs(angle) < _SINC_SERIES_LIMIT
        safe = np.where(small, 1, angle)
        angle_sq = angle * angle
        self.x, self.small, self.angle_sq = x, small, angle_sq
        series = 1 - angle_sq / 6 * (1 - angle_sq / 20 * (1 - angle_sq / 42))
        self.out = np.where(small, series, np.sin(safe) / safe)
        self.cos = np.cos(angle)
        return self.out

    def backward(self, grad: np.ndarray) -> Grads:
        x = self.x
        safe_x = np.where(self.small, 1, x)
        angle_sq = self.angle_sq
        series = -(np.pi**2) * x / 3 * (1 - angle_sq / 10 * (1 - angle_sq / 28))
        slope = np.where(self.small, series, (self.cos - self.out) / safe_x)
        return (grad * slope,)


class Gaussian(Function):
    """exp(−x²), the radial-basis unit."""

    out: np.ndarray

    forward_out = backward_out = True

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.x = x
        self.out = np.exp(-x * x, out=target(out, x))
        return self.out

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        slope = -2 * self.x * self.out
        return (np.multiply(grad, slope, out=fits(first(out), grad, slope)),)


class Polynomial(Function):
    """c0 + c1·x + c2·x² + ... evaluated by Horner's rule (coefficients lowest power first)."""

    def forward(self, x: np.ndarray, coefficients: tuple[float, ...]) -> np.ndarray:
        self.x, self.coefficients = x, coefficients
        return _horner(coefficients[::-1], x)

    def backward(self, grad: np.ndarray) -> Grads:
        derivative = tuple(k * c for k, c in enumerate(self.coefficients))[1:]
        if not derivative:
            return (np.zeros_like(grad),)
        return (grad * _horner(derivative[::-1], self.x),)


class Mish(Function):
    """x·tanh(softplus(x)) (Misra 2019, torch.nn.Mish); d/dx = tanh(sp) + x·sigmoid(x)·sech²(sp)."""

    forward_out = backward_out = True

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        # softplus as max(x, 0) + log1p(e^−|x|): no overflow for large |x|.
        self.x = x
        self.tanh = np.tanh(np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))))
        value: np.ndarray = np.multiply(x, self.tanh, out=target(out, x))
        return value

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        sigmoid = 0.5 * (np.tanh(0.5 * self.x) + 1)
        slope = self.tanh + self.x * sigmoid * (1 - self.tanh * self.tanh)
        return (np.multiply(grad, slope, out=fits(first(out), grad, slope)),)
