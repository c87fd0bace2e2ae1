"""Losses on pairs and triplets of outputs: margin_ranking, cosine_embedding, triplet_margin.

Their targets are −1/+1 labels; 0/1 labels are accepted too (0 is read as −1).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import numpy as np

from nnrun import functional
from nnrun.autograd.tensor import Tensor
from nnrun.constraints import Range
from nnrun.errors import ShapeError
from nnrun.losses.base import (
    Loss,
    Reduction,
    check_same_shape,
    check_sign_targets,
    check_target_kind,
    prediction_tensor,
    raw_target,
    reduce,
    sign_tensor,
    target_array,
)
from nnrun.nn.distance import check_norm_degree, pairwise_distance
from nnrun.registry import LOSSES

# torch's cosine_embedding_loss adds this to the squared norms before dividing.
_NORM_EPS = 1e-12


def _same_shapes(name: str, labels: tuple[str, ...], tensors: tuple[Tensor, ...]) -> None:
    if len({t.shape for t in tensors}) > 1:
        shapes = ", ".join(f"{label} {t.shape}" for label, t in zip(labels, tensors, strict=True))
        raise ShapeError(f"{name}: the inputs need the same shape, got {shapes}")


def _embeddings(name: str, labels: tuple[str, ...], tensors: tuple[Tensor, ...]) -> None:
    """Embeddings are (N, D) or one unbatched (D,), all of the same shape."""
    _same_shapes(name, labels, tensors)
    if tensors[0].ndim not in (1, 2):
        raise ShapeError(
            f"{name}: embeddings must be (N, D) or (D,), got {labels[0]} {tensors[0].shape}"
        )


@LOSSES.register("margin_ranking", "margin_ranking_loss", "ranking")
class MarginRanking(Loss):
    """max(0, −y·(x1 − x2) + margin), as torch.nn.functional.margin_ranking_loss: y = 1
    says x1 should rank above x2 by at least `margin`, y = −1 the reverse.

    Called as loss(input1, input2, target), all three of the same shape (e.g. (N,)).
    """

    name = "margin_ranking"
    output = "scores"
    inputs: ClassVar[tuple[str, ...]] = ("input1", "input2", "target")

    def __init__(self, margin: float = 0.0, reduction: Reduction = "mean"):
        super().__init__(reduction)
        self.margin = margin

    def check_targets(self, prediction_shape: tuple[int, ...], target: np.ndarray) -> None:
        check_target_kind(self.name, target, "fiub")
        check_same_shape(self.name, prediction_shape, target)
        check_sign_targets(self.name, target, allow_zero=True)

    def __call__(self, input1: Any, input2: Any, target: Any) -> Tensor:
        x1, x2 = prediction_tensor(input1), prediction_tensor(input2)
        _same_shapes(self.name, ("input1", "input2"), (x1, x2))
        target = raw_target(target)
        if self.checks_targets:
            self.check_targets(x1.shape, target)
        signs = sign_tensor(target_array(target, x1), allow_zero=True)
        return reduce(((x2 - x1) * signs + self.margin).relu(), self.reduction)


@LOSSES.register("cosine_embedding", "cosine_embedding_loss")
class CosineEmbedding(Loss):
    """1 − cos(x1, x2) for similar pairs (y = 1), max(0, cos(x1, x2) − margin) for
    dissimilar ones (y = −1), as torch.nn.functional.cosine_embedding_loss.

    Called as loss(input1, input2, target): embeddings (N, D) or (D,), target (N,) or ().
    `margin` in [−1, 1]; torch suggests 0 to 0.5.
    """

    name = "cosine_embedding"
    output = "embeddings"
    inputs: ClassVar[tuple[str, ...]] = ("input1", "input2", "target")

    def __init__(self, margin: Annotated[float, Range(-1, 1)] = 0.0, reduction: Reduction = "mean"):
        super().__init__(reduction)
        self.margin = margin

    def check_targets(self, prediction_shape: tuple[int, ...], target: np.ndarray) -> None:
        check_target_kind(self.name, target, "fiub")
        if target.shape != prediction_shape[:-1]:
            raise ShapeError(
                f"{self.name}: embeddings {prediction_shape} need targets of shape "
                f"{prediction_shape[:-1]} (one −1/+1 label per pair), got {target.shape}"
            )
        check_sign_targets(self.name, target, allow_zero=True)

    def __call__(self, input1: Any, input2: Any, target: Any) -> Tensor:
        x1, x2 = prediction_tensor(input1), prediction_tensor(input2)
        _embeddings(self.name, ("input1", "input2"), (x1, x2))
        target = raw_target(target)
        if self.checks_targets:
            self.check_targets(x1.shape, target)
        signs = sign_tensor(target_array(target, x1), allow_zero=True)
        dot = (x1 * x2).sum(axis=-1)
        squares = ((x1 * x1).sum(axis=-1) + _NORM_EPS) * ((x2 * x2).sum(axis=-1) + _NORM_EPS)
        cosine = dot / squares.sqrt()
        losses = functional.where(signs > 0, 1 - cosine, (cosine - self.margin).relu())
        return reduce(losses, self.reduction)


@LOSSES.register("triplet_margin", "triplet_margin_loss", "triplet")
class TripletMargin(Loss):
    """max(0, d(a, p) − d(a, n) + margin) with d the p-norm pairwise_distance (plus eps), as
    torch.nn.functional.triplet_margin_loss. With `swap`, d(a, n) is replaced by
    min(d(a, n), d(p, n)) (the distance swap of Balntas et al., 2016).

    Called as loss(anchor, positive, negative): embeddings (N, D) or (D,), no target.
    """

    name = "triplet_margin"
    output = "embeddings"
    inputs: ClassVar[tuple[str, ...]] = ("anchor", "positive", "negative")

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        reduction: Reduction = "mean",
    ):
        super().__init__(reduction)
        check_norm_degree(self.name, p)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def __call__(self, anchor: Any, positive: Any, negative: Any) -> Tensor:
        a, pos, neg = (prediction_tensor(x) for x in (anchor, positive, negative))
        _embeddings(self.name, self.inputs, (a, pos, neg))
        to_positive = pairwise_distance(a, pos, self.p, self.eps)
        to_negative = pairwise_distance(a, neg, self.p, self.eps)
        if self.swap:
            to_negative = functional.minimum(
                to_negative, pairwise_distance(pos, neg, self.p, self.eps)
            )
        return reduce((to_positive - to_negative + self.margin).relu(), self.reduction)
