"""Hand-written NumPy training steps: the floor a framework on NumPy can approach.

Each `*_step(...)` returns a closure doing forward, softmax cross-entropy, backward and an
SGD update with no framework at all, in the layout that suits NumPy best (channel-major
activations for the CNN, time-major for the LSTM). Used by bench/steps.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

LR = np.float32(0.01)


def _uniform(rng: np.random.Generator, fan_in: int, shape: tuple[int, ...]) -> np.ndarray:
    bound = 1 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(np.float32)


def _cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The mean cross-entropy (a step reports its loss, as nnrun's and PyTorch's do) and its
    gradient with respect to the logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    rows = np.arange(len(y))
    probs = np.exp(shifted)
    sums = probs.sum(axis=1, keepdims=True)
    loss = float((np.log(sums[:, 0]) - shifted[rows, y]).mean())
    probs /= sums
    probs[rows, y] -= 1
    probs /= len(y)
    return loss, probs


def _sgd(params: list[np.ndarray], grads: list[np.ndarray]) -> None:
    for param, grad in zip(params, grads, strict=True):
        grad *= LR
        param -= grad


def mlp_step(sizes: list[int], x: np.ndarray, y: np.ndarray) -> Callable[[], float]:
    rng = np.random.default_rng(0)
    weights = [
        [_uniform(rng, a, (b, a)), _uniform(rng, a, (b,))] for a, b in itertools.pairwise(sizes)
    ]

    def step() -> float:
        activations = [x]
        h = x
        for i, (w, b) in enumerate(weights):
            h = h @ w.T
            h += b
            if i < len(weights) - 1:
                np.maximum(h, 0, out=h)
            activations.append(h)
        loss, grad = _cross_entropy(h, y)
        for i in range(len(weights) - 1, -1, -1):
            w, b = weights[i]
            a = activations[i]
            grad_w = np.multiply(grad.T, a) if len(a) == 1 else grad.T @ a
            grad_b = grad.sum(axis=0)
            if i > 0:
                grad = grad @ w
                grad *= a > 0
            _sgd([w, b], [grad_w, grad_b])
        return loss

    return step


def _im2col(xp: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(C, N, Hp, Wp) padded → (C·9, N·H·W) patches of a 3×3 kernel."""
    windows = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))
    c = xp.shape[0]
    return np.ascontiguousarray(windows.transpose(0, 4, 5, 1, 2, 3)).reshape(c * 9, -1)


def _col2im_into(grad_cols: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum (C·9, N·H·W) patch gradients back into (C, N, H, W) (padding 1)."""
    c, n, h, w = shape
    padded = np.zeros((c, n, h + 2, w + 2), np.float32)
    cols = grad_cols.reshape(c, 3, 3, n, h, w)
    for di in range(3):
        for dj in range(3):
            padded[:, :, di : di + h, dj : dj + w] += cols[:, di, dj]
    return padded[:, :, 1:-1, 1:-1]


def _pool(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2×2 max pool of (C, N, H, W) and the mask of the winners."""
    c, n, h, w = a.shape
    blocks = a.reshape(c, n, h // 2, 2, w // 2, 2)
    out = blocks.max(axis=(3, 5))
    return out, blocks == out[:, :, :, None, :, None]


def cnn_step(x: np.ndarray, y: np.ndarray) -> Callable[[], float]:
    """conv3x3(16)+relu+pool, conv3x3(32)+relu+pool, linear(10), as bench/cnn.py."""
    rng = np.random.default_rng(0)
    n = len(x)
    w1, b1 = _uniform(rng, 9, (16, 9)), _uniform(rng, 9, (16,))
    w2, b2 = _uniform(rng, 144, (32, 144)), _uniform(rng, 144, (32,))
    wl, bl = _uniform(rng, 1568, (10, 1568)), _uniform(rng, 1568, (10,))
    x_cn = np.ascontiguousarray(x.transpose(1, 0, 2, 3))
    params = [w1, b1, w2, b2, wl, bl]

    def conv(a: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cols = _im2col(np.pad(a, ((0, 0), (0, 0), (1, 1), (1, 1))), a.shape[2:])
        out = w @ cols
        out += b[:, None]
        np.maximum(out, 0, out=out)
        return out.reshape(len(w), *a.shape[1:]), cols

    def step() -> float:
        a1, cols1 = conv(x_cn, w1, b1)
        p1, mask1 = _pool(a1)
        a2, cols2 = conv(p1, w2, b2)
        p2, mask2 = _pool(a2)
        flat = p2.transpose(1, 0, 2, 3).reshape(n, -1)
        loss, grad = _cross_entropy(flat @ wl.T + bl, y)
        grad_wl, grad_bl = grad.T @ flat, grad.sum(axis=0)
        grad_p2 = (grad @ wl).reshape(n, 32, 7, 7).transpose(1, 0, 2, 3)
        grad_a2 = (mask2 * grad_p2[:, :, :, None, :, None]).reshape(a2.shape)
        grad_a2 *= a2 > 0
        rows2 = grad_a2.reshape(32, -1)
        grad_w2, grad_b2 = rows2 @ cols2.T, rows2.sum(axis=1)
        grad_p1 = _col2im_into(w2.T @ rows2, p1.shape)
        grad_a1 = (mask1 * grad_p1[:, :, :, None, :, None]).reshape(a1.shape)
        grad_a1 *= a1 > 0
        rows1 = grad_a1.reshape(16, -1)
        grad_w1, grad_b1 = rows1 @ cols1.T, rows1.sum(axis=1)
        _sgd(params, [grad_w1, grad_b1, grad_w2, grad_b2, grad_wl, grad_bl])
        return loss

    return step


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * np.tanh(0.5 * x) + 0.5


def lstm_step(x: np.ndarray, y: np.ndarray, hidden: int) -> Callable[[], float]:
    """LSTM over x (N, T, I), last state → linear(10), as bench/lstm.py."""
    rng = np.random.default_rng(0)
    n, t, features = x.shape
    w_ih, w_hh = (
        _uniform(rng, hidden, (4 * hidden, features)),
        _uniform(rng, hidden, (4 * hidden, hidden)),
    )
    bias = _uniform(rng, hidden, (4 * hidden,))
    wl, bl = _uniform(rng, hidden, (10, hidden)), _uniform(rng, hidden, (10,))
    x_flat = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(t * n, features)
    params = [w_ih, w_hh, bias, wl, bl]

    def step() -> float:
        gates = (x_flat @ w_ih.T + bias).reshape(t, n, 4 * hidden)
        states = np.zeros((t + 1, n, hidden), np.float32)
        cells = np.zeros((t + 1, n, hidden), np.float32)
        for s in range(t):
            g = gates[s]
            g += states[s] @ w_hh.T
            g[:, : 2 * hidden] = _sigmoid(g[:, : 2 * hidden])
            g[:, 3 * hidden :] = _sigmoid(g[:, 3 * hidden :])
            np.tanh(g[:, 2 * hidden : 3 * hidden], out=g[:, 2 * hidden : 3 * hidden])
            i, f, c, o = np.split(g, 4, axis=1)
            cells[s + 1] = f * cells[s] + i * c
            states[s + 1] = o * np.tanh(cells[s + 1])
        last = states[t]
        loss, grad = _cross_entropy(last @ wl.T + bl, y)
        grad_wl, grad_bl = grad.T @ last, grad.sum(axis=0)
        grad_h, grad_c = grad @ wl, np.zeros((n, hidden), np.float32)
        grad_gates = np.empty_like(gates)
        for s in range(t - 1, -1, -1):
            i, f, c, o = np.split(gates[s], 4, axis=1)
            tanh_cell = np.tanh(cells[s + 1])
            grad_c += grad_h * o * (1 - tanh_cell * tanh_cell)
            out = grad_gates[s]
            out[:, :hidden] = grad_c * c * i * (1 - i)
            out[:, hidden : 2 * hidden] = grad_c * cells[s] * f * (1 - f)
            out[:, 2 * hidden : 3 * hidden] = grad_c * i * (1 - c * c)
            out[:, 3 * hidden :] = grad_h * tanh_cell * o * (1 - o)
            grad_c *= f
            grad_h = out @ w_hh
        rows = grad_gates.reshape(t * n, 4 * hidden)
        grad_w_ih = rows.T @ x_flat
        grad_w_hh = rows.T @ states[:-1].reshape(t * n, hidden)
        _sgd(params, [grad_w_ih, grad_w_hh, rows.sum(axis=0), grad_wl, grad_bl])
        return loss

    return step


def _layer_norm(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    invstd = 1 / np.sqrt((centered * centered).mean(axis=-1, keepdims=True) + 1e-5)
    return centered * invstd, invstd


def _layer_norm_grad(grad: np.ndarray, xhat: np.ndarray, invstd: np.ndarray) -> np.ndarray:
    grad = grad - grad.mean(axis=-1, keepdims=True)
    grad -= xhat * (grad * xhat).mean(axis=-1, keepdims=True)
    return grad * invstd


def transformer_step(
    x: np.ndarray, y: np.ndarray, heads: int, feedforward: int, p: float
) -> Callable[[], float]:
    """Post-norm encoder layer (self-attention, feed-forward, dropout p; layer norms without
    affine parameters) → mean over time → linear(10), as bench/transformer.py."""
    rng = np.random.default_rng(0)
    n, length, width = x.shape
    d = width // heads
    w_in, b_in = _uniform(rng, width, (3 * width, width)), np.zeros(3 * width, np.float32)
    w_out, b_out = _uniform(rng, width, (width, width)), np.zeros(width, np.float32)
    w1, b1 = _uniform(rng, width, (feedforward, width)), _uniform(rng, width, (feedforward,))
    w2, b2 = _uniform(rng, feedforward, (width, feedforward)), _uniform(rng, feedforward, (width,))
    wl, bl = _uniform(rng, width, (10, width)), _uniform(rng, width, (10,))
    params = [w_in, b_in, w_out, b_out, w1, b1, w2, b2, wl, bl]
    x2 = x.reshape(n * length, width)
    scale = np.float32(1 / np.sqrt(d))
    keep_scale = np.float32(1 / (1 - p))

    def dropout(shape: tuple[int, ...]) -> np.ndarray:
        return (rng.random(shape, dtype=np.float32) >= p) * keep_scale

    def step() -> float:
        qkv = (x2 @ w_in.T + b_in).reshape(n, length, 3, heads, d).transpose(2, 0, 3, 1, 4)
        q, k, v = qkv
        probs = q @ k.transpose(0, 1, 3, 2)
        probs *= scale
        probs -= probs.max(axis=-1, keepdims=True)
        np.exp(probs, out=probs)
        probs /= probs.sum(axis=-1, keepdims=True)
        mask_attn = dropout(probs.shape)
        weights = probs * mask_attn
        context = (weights @ v).transpose(0, 2, 1, 3).reshape(n * length, width)
        mask1 = dropout((n * length, width))
        h1, invstd1 = _layer_norm(x2 + (context @ w_out.T + b_out) * mask1)
        hidden = h1 @ w1.T + b1
        np.maximum(hidden, 0, out=hidden)
        mask_ff = dropout(hidden.shape)
        hidden_kept = hidden * mask_ff
        mask2 = dropout((n * length, width))
        h2, invstd2 = _layer_norm(h1 + (hidden_kept @ w2.T + b2) * mask2)
        pooled = h2.reshape(n, length, width).mean(axis=1)
        loss, grad = _cross_entropy(pooled @ wl.T + bl, y)
        grads = {"wl": grad.T @ pooled, "bl": grad.sum(axis=0)}
        grad_h2 = np.repeat((grad @ wl) / length, length, axis=0)
        grad_r2 = _layer_norm_grad(grad_h2, h2, invstd2)
        grad_f = grad_r2 * mask2
        grads["w2"], grads["b2"] = grad_f.T @ hidden_kept, grad_f.sum(axis=0)
        grad_hidden = (grad_f @ w2) * mask_ff
        grad_hidden *= hidden > 0
        grads["w1"], grads["b1"] = grad_hidden.T @ h1, grad_hidden.sum(axis=0)
        grad_h1 = grad_r2 + grad_hidden @ w1
        grad_r1 = _layer_norm_grad(grad_h1, h1, invstd1)
        grad_o = grad_r1 * mask1
        grads["w_out"], grads["b_out"] = grad_o.T @ context, grad_o.sum(axis=0)
        grad_context = (grad_o @ w_out).reshape(n, length, heads, d).transpose(0, 2, 1, 3)
        grad_v = weights.transpose(0, 1, 3, 2) @ grad_context
        grad_probs = (grad_context @ v.transpose(0, 1, 3, 2)) * mask_attn
        grad_scores = probs * (grad_probs - (grad_probs * probs).sum(axis=-1, keepdims=True))
        grad_scores *= scale
        grad_q, grad_k = grad_scores @ k, grad_scores.transpose(0, 1, 3, 2) @ q
        grad_qkv = np.stack((grad_q, grad_k, grad_v)).transpose(1, 3, 0, 2, 4)
        grad_qkv = grad_qkv.reshape(n * length, 3 * width)
        grads["w_in"], grads["b_in"] = grad_qkv.T @ x2, grad_qkv.sum(axis=0)
        order = ["w_in", "b_in", "w_out", "b_out", "w1", "b1", "w2", "b2", "wl", "bl"]
        _sgd(params, [grads[name] for name in order])
        return loss

    return step
