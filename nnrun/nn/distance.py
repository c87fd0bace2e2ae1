"""Distances between two tensors, as functions (used by the embedding losses) and as layers
with two inputs (`cosine_similarity`, `pairwise_distance`), with torch.nn.functional's
semantics and defaults."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from nnrun.autograd.tensor import Tensor
from nnrun.errors import ArgumentError, ShapeError
from nnrun.nn.module import Module, input_tensor
from nnrun.registry import LAYERS


def _pair(x1: Any, x2: Any) -> tuple[Tensor, Tensor]:
    """Both inputs as tensors; arrays take the other tensor's dtype so nothing upcasts."""
    like = x1 if isinstance(x1, Tensor) else x2 if isinstance(x2, Tensor) else None
    return input_tensor(x1, like), input_tensor(x2, like)


def _broadcast_shape(name: str, x1: Tensor, x2: Tensor) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ShapeError(
            f"{name}: inputs of shapes {x1.shape} and {x2.shape} do not broadcast together; "
            f"they need equal sizes (or 1) in every dimension, counted from the right"
        ) from None


def vector_norm(x: Tensor, p: float, axis: int, keepdims: bool = False) -> Tensor:
    """The p-norm (Σ|x|ᵖ)^(1/p) along `axis`; p = inf is max |x|."""
    if p == 2:
        return (x * x).sum(axis=axis, keepdims=keepdims).sqrt()
    if p == 1:
        return x.abs().sum(axis=axis, keepdims=keepdims)
    if math.isinf(p):
        return x.abs().max(axis=axis, keepdims=keepdims)
    return ((x.abs() ** p).sum(axis=axis, keepdims=keepdims)) ** (1.0 / p)


def cosine_similarity(x1: ArrayLike, x2: ArrayLike, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x1·x2 / (max(‖x1‖, eps)·max(‖x2‖, eps)) along `dim` of the broadcast shape, which
    the output drops: (N, D), (N, D) → (N,) with the default dim=1."""
    x1, x2 = _pair(x1, x2)
    shape = _broadcast_shape("cosine_similarity", x1, x2)
    if not -len(shape) <= dim < len(shape):
        raise ShapeError(
            f"cosine_similarity: dim={dim} is out of range for inputs of shape {shape} "
            f"(valid: {-len(shape)} to {len(shape) - 1})"
        )
    unit1 = x1 / (x1 * x1).sum(axis=dim, keepdims=True).sqrt().clip(min=eps)
    unit2 = x2 / (x2 * x2).sum(axis=dim, keepdims=True).sqrt().clip(min=eps)
    return (unit1 * unit2).sum(axis=dim)


def pairwise_distance(
    x1: Any, x2: Any, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """‖x1 − x2 + eps‖_p along the last dimension: (N, D), (N, D) → (N,) ((N, 1) with
    `keepdim`). `eps` keeps the norm differentiable where x1 = x2."""
    x1, x2 = _pair(x1, x2)
    shape = _broadcast_shape("pairwise_distance", x1, x2)
    if not shape:
        raise ShapeError("pairwise_distance: inputs must have at least one dimension, got scalars")
    return vector_norm(x1 - x2 + eps, p, axis=-1, keepdims=keepdim)


def check_norm_degree(owner: str, p: float) -> None:
    """Raise ArgumentError unless p is a valid norm degree (p > 0, inf allowed)."""
    if not p > 0:
        raise ArgumentError(
            f"{owner}: the norm degree p must be positive (inf for the max norm), got {p}",
            key="p",
            expected="a number > 0",
            found=repr(p),
        )


@LAYERS.register("cosine_similarity")
class CosineSimilarity(Module):
    """Cosine similarity of two inputs along `dim` (torch.nn.CosineSimilarity).

    Inputs (*₁, D, *₂), broadcastable; output (*₁, *₂). No parameters.
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        if eps < 0:
            raise ArgumentError(f"cosine_similarity: eps must be >= 0, got {eps}", key="eps")
        self.dim, self.eps = dim, eps

    def forward(self, x1: Any, x2: Any) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, eps={self.eps}"


@LAYERS.register("pairwise_distance")
class PairwiseDistance(Module):
    """p-norm distance between two inputs along the last dimension (torch.nn.PairwiseDistance).

    Inputs (N, D) or (D,), broadcastable; output (N,) or () ((N, 1) / (1,) with `keepdim`).
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        check_norm_degree("pairwise_distance", p)
        self.p, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Any, x2: Any) -> Tensor:
        return pairwise_distance(x1, x2, self.p, self.eps, self.keepdim)

    def extra_repr(self) -> str:
        return f"p={self.p}, eps={self.eps}, keepdim={self.keepdim}"
