"""Fused scaled dot-product attention: softmax(Q Kᵀ·scale + mask) V in one Function.

Heads are handled inside the op (one reshape, batched matmuls over (N, heads)), so a
multi-head layer costs one graph node between its input and output projections.
"""

from __future__ import annotations

import numpy as np

from nnrun.autograd.function import Function, Grads
from nnrun.ops.dropout import keep_multiplier


def _split_heads(x: np.ndarray, heads: int) -> np.ndarray:
    """(N, L, heads·d) → contiguous (N, heads, L, d)."""
    n, length, width = x.shape
    return np.ascontiguousarray(x.reshape(n, length, heads, width // heads).transpose(0, 2, 1, 3))


def _merge_heads(x: np.ndarray) -> np.ndarray:
    """(N, heads, L, d) → (N, L, heads·d)."""
    n, heads, length, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(n, length, heads * d)


class Attention(Function):
    """Attention of queries over keys/values.

    Inputs either (q, k, v) or one packed (N, L, 3E) array holding q, k, v side by side
    (self-attention straight from a fused input projection). With `heads` = 1 and unpacked
    inputs, q (..., L, d), k (..., S, d), v (..., S, dv) → (..., L, dv) as
    torch.nn.functional.scaled_dot_product_attention; with `heads` > 1, q (N, L, E),
    k (N, S, E), v (N, S, Ev) are split into heads and the output is (N, L, Ev).

    Attributes: `mask` bool, True = not attended (broadcastable to the scores (..., L, S));
    `bias` float added to the scores; `causal` hides keys after the query (top-left aligned,
    as torch); `scale` (default 1/√d); `dropout` the drop probability of the attention
    weights (the mask is drawn in forward from nnrun's generator). A query that sees no key
    gets a zero output (torch gives NaN).
    """

    def forward(
        self,
        *arrays: np.ndarray,
        heads: int = 1,
        mask: np.ndarray | None = None,
        bias: np.ndarray | None = None,
        causal: bool = False,
        scale: float | None = None,
        dropout: float = 0.0,
    ) -> np.ndarray:
        self.packed = len(arrays) == 1
        if self.packed:
            n, length, width = arrays[0].shape
            split = arrays[0].reshape(n, length, 3, heads, width // (3 * heads))
            q, k, v = np.ascontiguousarray(split.transpose(2, 0, 3, 1, 4))
        elif heads > 1:
            q, k, v = (_split_heads(a, heads) for a in arrays)
        else:
            q, k, v = arrays
        self.split = self.packed or heads > 1
        self.scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
        scores = q @ np.swapaxes(k, -1, -2)
        scores *= self.scale
        if bias is not None:
            scores += bias
        hidden = mask
        if causal:
            length, source = scores.shape[-2:]
            upper = np.triu(np.ones((length, source), dtype=bool), k=1)
            hidden = upper if hidden is None else hidden | upper
        if hidden is not None:
            np.copyto(scores, -np.inf, where=hidden)
        probs = self._softmax(scores, guard=hidden is not None or bias is not None)
        multiplier = keep_multiplier(probs.shape, dropout, q.dtype) if dropout > 0 else None
        weights = probs if multiplier is None else probs * multiplier
        out = weights @ v
        self.q, self.k, self.v = q, k, v
        self.probs, self.weights, self.dropout = probs, weights, multiplier
        return _merge_heads(out) if self.split else out

    @staticmethod
    def _softmax(scores: np.ndarray, guard: bool) -> np.ndarray:
        top = scores.max(axis=-1, keepdims=True)
        if guard:  # rows with every key hidden: exp(-inf) = 0 everywhere, no NaN
            top[~np.isfinite(top)] = 0
        scores -= top
        np.exp(scores, out=scores)
        total = scores.sum(axis=-1, keepdims=True)
        if guard:
            total[total == 0] = 1
        scores /= total
        return scores

    def backward(self, grad: np.ndarray) -> Grads:
        if self.split:
            grad = _split_heads(grad, self.q.shape[1])
        grad_v = np.swapaxes(self.weights, -1, -2) @ grad
        grad_probs = grad @ np.swapaxes(self.v, -1, -2)
        if self.dropout is not None:
            grad_probs *= self.dropout
        probs = self.probs
        grad_scores = grad_probs
        grad_scores -= (grad_probs * probs).sum(axis=-1, keepdims=True)
        grad_scores *= probs
        grad_scores *= self.scale
        grad_q = grad_scores @ self.k
        grad_k = np.swapaxes(grad_scores, -1, -2) @ self.q
        if self.packed:
            stacked = np.stack((grad_q, grad_k, grad_v))  # (3, N, heads, L, d)
            n, length = stacked.shape[1], stacked.shape[3]
            return (stacked.transpose(1, 3, 0, 2, 4).reshape(n, length, -1),)
        if self.split:
            grads = (_merge_heads(grad_q), _merge_heads(grad_k), _merge_heads(grad_v))
        else:
            grads = (grad_q, grad_k, grad_v)
        return tuple(
            g if need else None for g, need in zip(grads, self.needs_input_grad, strict=True)
        )
