"""Fused scaled dot-product attention: softmax(Q Kᵀ·scale + mask) V in one Function.

Heads are handled inside the op (one reshape, batched matmuls over (N, heads)), so a
multi-head layer costs one graph node between its input and output projections.
"""

from __future__ import annotations

import numpy as np

from nnrun.autograd.function import Function, Grads
from nnrun.ops.dropout import keep_multiplier


def _heads(x: np.ndarray, heads: int) -> np.ndarray:
    """(N, L, heads·d) as a (N, heads, L, d) view. Each (L, d) matrix has unit column
    stride, so matmul runs BLAS on it (or into it) with no copy."""
    n, length, width = x.shape
    return x.reshape(n, length, heads, width // heads).transpose(0, 2, 1, 3)


def _packed_heads(x: np.ndarray, heads: int) -> np.ndarray:
    """(N, L, 3·heads·d) holding q, k, v side by side as a (3, N, heads, L, d) view."""
    n, length, width = x.shape
    return x.reshape(n, length, 3, heads, width // (3 * heads)).transpose(2, 0, 3, 1, 4)


def _merged(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A new (N, L, heads·d) array for a result of `shape` (N, heads, L, d), which matmul
    writes through `_heads`: the heads are merged as they are written, with no copy."""
    n, heads, length, d = shape
    return np.empty((n, length, heads * d), dtype)


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

    It takes no `out=` arrays: in the transformer step, preallocated arrays for its values
    and gradients (with dropout's) made the replay measurably slower than arrays from the
    allocator, which come back warm in cache.
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
        self.heads = heads
        if self.packed:
            q, k, v = _packed_heads(arrays[0], heads)
        elif heads > 1:
            q, k, v = (_heads(a, heads) for a in arrays)
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
        self.q, self.k, self.v = q, k, v
        self.probs, self.weights, self.dropout = probs, weights, multiplier
        if not self.split:
            value: np.ndarray = weights @ v
            return value
        merged = _merged((*weights.shape[:-1], v.shape[-1]), np.result_type(weights, v))
        np.matmul(weights, v, out=_heads(merged, heads))
        return merged

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
            grad = _heads(grad, self.heads)
        needs = self.needs_input_grad
        probs = self.probs
        grad_probs = grad @ np.swapaxes(self.v, -1, -2)
        if self.dropout is not None:
            grad_probs *= self.dropout
        grad_scores = grad_probs
        grad_scores -= (grad_probs * probs).sum(axis=-1, keepdims=True)
        grad_scores *= probs
        grad_scores *= self.scale
        products = (  # (left, right) of the q, k and v gradients
            (grad_scores, self.k),
            (np.swapaxes(grad_scores, -1, -2), self.q),
            (np.swapaxes(self.weights, -1, -2), grad),
        )
        if self.packed:
            # written straight into the (N, L, 3E) layout of the packed input
            shape = (*grad_scores.shape[:-1], 3 * self.q.shape[-1])
            packed = _merged(shape, grad.dtype)
            for (left, right), into in zip(
                products, _packed_heads(packed, self.heads), strict=True
            ):
                np.matmul(left, right, out=into)
            return (packed,)
        grads: list[np.ndarray | None] = []
        for (left, right), need in zip(products, needs, strict=True):
            if not need:
                grads.append(None)
            elif self.split:
                merged = _merged((*left.shape[:-1], right.shape[-1]), np.result_type(left, right))
                np.matmul(left, right, out=_heads(merged, self.heads))
                grads.append(merged)
            else:
                grads.append(left @ right)
        return tuple(grads)
