"""Embedding: a lookup table of vectors indexed by integers, as torch.nn.Embedding."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrun.autograd.function import Function, Grads
from nnrun.autograd.tensor import Tensor
from nnrun.constraints import Positive
from nnrun.errors import ArgumentError, DataError
from nnrun.init import initialize
from nnrun.nn.module import Module
from nnrun.nn.parameter import Parameter
from nnrun.registry import LAYERS


class EmbeddingLookup(Function):
    """weight[indices]; the backward scatters the gradient rows back with np.add.at
    (repeated indices accumulate) and leaves the padding row at zero."""

    def forward(
        self, weight: np.ndarray, indices: np.ndarray, padding_idx: int | None
    ) -> np.ndarray:
        self.weight_shape, self.indices, self.padding_idx = weight.shape, indices, padding_idx
        rows: np.ndarray = weight[indices]
        return rows

    def backward(self, grad: np.ndarray) -> Grads:
        grad_weight = np.zeros(self.weight_shape, dtype=grad.dtype)
        np.add.at(grad_weight, self.indices.reshape(-1), grad.reshape(-1, grad.shape[-1]))
        if self.padding_idx is not None:
            grad_weight[self.padding_idx] = 0
        return (grad_weight,)


def _normal(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(shape)


@LAYERS.register("embedding")
class Embedding(Module):
    """Maps integer indices of any shape (...) to vectors (..., embedding_dim).

    `weight` (num_embeddings, embedding_dim) is drawn from N(0, 1) as torch unless `init`
    says otherwise. The row `padding_idx` (negative counts from the end) starts at zero and
    never receives a gradient, so it stays a fixed padding vector.
    """

    def __init__(
        self,
        num_embeddings: Positive,
        embedding_dim: Positive,
        padding_idx: int | None = None,
        init: str | dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ArgumentError(
                    f"embedding: padding_idx must be in [-{num_embeddings}, "
                    f"{num_embeddings - 1}] for num_embeddings={num_embeddings}, "
                    f"got {padding_idx}",
                    key="padding_idx",
                    expected=f"an index into the {num_embeddings} rows",
                    found=repr(padding_idx),
                )
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        weight = initialize(init, (num_embeddings, embedding_dim), np.float32, _normal)
        if padding_idx is not None:
            weight[padding_idx] = 0
        self.weight = Parameter(weight)

    def forward(self, indices: Any) -> Tensor:
        array = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
        if array.dtype.kind not in "iu":
            raise DataError(
                f"embedding expects integer indices, got dtype {array.dtype} "
                f"(convert token ids to integers, e.g. with a vocabulary)"
            )
        if array.size and (array.min() < 0 or array.max() >= self.num_embeddings):
            bad = array[(array < 0) | (array >= self.num_embeddings)]
            raise DataError(
                f"embedding has num_embeddings={self.num_embeddings} (indices 0.."
                f"{self.num_embeddings - 1}), got index {int(bad.flat[0])} "
                f"({bad.size} out-of-range values; indices range {int(array.min())}.."
                f"{int(array.max())})"
            )
        return EmbeddingLookup.apply(self.weight, indices=array, padding_idx=self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text
