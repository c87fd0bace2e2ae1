"""Classification losses: cross_entropy, nll, binary_cross_entropy, bce_with_logits, hinge,
multi_margin (torch.nn.functional semantics and defaults)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from nnrun.autograd.tensor import Tensor
from nnrun.constraints import Fraction
from nnrun.errors import ConfigError, DataError, ShapeError
from nnrun.losses.base import (
    ClassWeights,
    Loss,
    Reduction,
    check_broadcasts,
    check_same_shape,
    check_sign_targets,
    check_target_kind,
    first_bad,
    option_array,
    prediction_tensor,
    raw_target,
    reduce,
    sign_tensor,
    target_array,
)
from nnrun.ops import fused
from nnrun.ops import losses as ops
from nnrun.registry import LOSSES


def _class_axis(name: str, shape: tuple[int, ...], class_dim: int) -> int:
    """The class axis of a prediction of `shape` as a non-negative index; 0 for an
    unbatched (C,)."""
    ndim = len(shape)
    if ndim == 0:
        raise ShapeError(f"{name}: the prediction must hold class scores, got a scalar")
    if ndim == 1:
        return 0
    if not -ndim <= class_dim < ndim:
        raise ShapeError(
            f"{name}: class_dim={class_dim} is out of range for a prediction of shape "
            f"{shape} (valid: {-ndim} to {ndim - 1})"
        )
    return class_dim % ndim


def _classes_first(
    prediction: Tensor, target: np.ndarray, axis: int, probabilities: bool
) -> tuple[Tensor, np.ndarray]:
    """Prediction (N, C, d1, ...) with the classes on axis 1, as the fused ops expect, and
    the matching target; an unbatched (C,) prediction becomes one example (1, C)."""
    if prediction.ndim == 1:
        return prediction.reshape(1, -1), target.reshape(1, *target.shape)
    if axis == 1:
        return prediction, target
    others = [i for i in range(prediction.ndim) if i != axis]
    moved = prediction.transpose(others[0], axis, *others[1:])
    return moved, np.moveaxis(target, axis, 1) if probabilities else target


def _index_shape(shape: tuple[int, ...], axis: int) -> tuple[int, ...]:
    return shape[:axis] + shape[axis + 1 :]


def _layout_hint(shape: tuple[int, ...], target: np.ndarray, axis: int) -> str:
    if axis == 1 and len(shape) == 3 and target.shape[:2] == shape[:2]:
        return "; for (N, T, C) logits with (N, T) targets set class_dim: -1"
    return ""


def _check_index_target(
    name: str, shape: tuple[int, ...], target: np.ndarray, axis: int, ignore_index: int | None
) -> None:
    """Index targets must have the prediction's shape without the class axis, and values in
    [0, C) or equal to `ignore_index`."""
    expected = _index_shape(shape, axis)
    if target.shape != expected:
        raise ShapeError(
            f"{name}: prediction {shape} and target {target.shape} do not fit; "
            f"class-index targets need shape {expected} (the prediction's shape without its "
            f"class axis {axis}){_layout_hint(shape, target, axis)}"
        )
    classes = shape[axis]
    valid = (target >= 0) & (target < classes)
    if ignore_index is not None:
        valid |= target == ignore_index
    if not valid.all():
        bad = target[~valid].reshape(-1)[0]
        also = "" if ignore_index is None else f", or ignore_index={ignore_index}"
        raise DataError(
            f"{name}: target class {bad} is out of range for {classes} classes (valid: 0 to "
            f"{classes - 1}{also}), at {first_bad(valid)}"
        )


def _check_probability_target(
    name: str, shape: tuple[int, ...], target: np.ndarray, axis: int
) -> None:
    """Float targets are class probabilities and need the prediction's shape."""
    if target.shape == shape:
        return
    if target.shape == _index_shape(shape, axis):
        hint = f"class-index targets must be integers, got {target.dtype}: cast the labels"
    else:
        hint = f"probability targets need the prediction's shape {shape}"
    raise ShapeError(
        f"{name}: prediction {shape} and float target {target.shape} do not fit; "
        f"{hint}{_layout_hint(shape, target, axis)}"
    )


def _check_class_weights(name: str, weight: list[float] | None, classes: int) -> None:
    if weight is not None and len(weight) != classes:
        raise ShapeError(
            f"{name}: weight has {len(weight)} entries but the prediction has {classes} "
            f"classes; give one weight per class"
        )


class _ClassScores(Loss):
    """Shared by cross_entropy and nll: per-class scores with class-index targets (or, for
    cross_entropy, probabilities), `weight` per class, `ignore_index`, `class_dim`."""

    target_kinds = "iu"

    def __init__(
        self,
        weight: ClassWeights | None = None,
        ignore_index: int = -100,
        class_dim: int = 1,
        reduction: Reduction = "mean",
    ):
        super().__init__(reduction)
        self.weight, self.ignore_index, self.class_dim = weight, ignore_index, class_dim

    def check_targets(self, prediction_shape: tuple[int, ...], target: np.ndarray) -> None:
        check_target_kind(self.name, target, self.target_kinds)
        axis = _class_axis(self.name, prediction_shape, self.class_dim)
        if target.dtype.kind == "f":
            _check_probability_target(self.name, prediction_shape, target, axis)
        else:
            _check_index_target(self.name, prediction_shape, target, axis, self.ignore_index)
        _check_class_weights(self.name, self.weight, prediction_shape[axis])

    def _layout(
        self, prediction: Any, target: Any
    ) -> tuple[Tensor, Tensor, np.ndarray, np.ndarray | None]:
        """Check the inputs (if `checks_targets`); return the prediction, its scores with
        the classes on axis 1 (what the fused ops expect), the matching target and the
        class weights."""
        prediction = prediction_tensor(prediction)
        target = raw_target(target)
        if self.checks_targets:
            self.check_targets(prediction.shape, target)
        target = target_array(target, prediction, self.target_kinds)
        axis = _class_axis(self.name, prediction.shape, self.class_dim)
        probabilities = target.dtype.kind == "f"
        weight = option_array(self.weight, prediction)
        scores, target = _classes_first(prediction, target, axis, probabilities)
        return prediction, scores, target, weight

    def _finish(self, loss: Tensor, prediction: Tensor) -> Tensor:
        """Per-example losses of an unbatched (C,) prediction come back as a scalar."""
        return loss.reshape(()) if prediction.ndim == 1 and self.reduction == "none" else loss


@LOSSES.register("cross_entropy", "ce", "cross_entropy_loss")
class CrossEntropy(_ClassScores):
    """Softmax cross-entropy of logits, as torch.nn.functional.cross_entropy.

    prediction: logits (N, C), (N, C, d1, ...) or unbatched (C,). target: class indices
    (N, d1, ...) (ints; `ignore_index` entries count nothing) or class probabilities of the
    prediction's shape (floats). `weight` (one per class) rescales classes; "mean" then
    divides by the summed weight of the counted targets. `label_smoothing` in [0, 1] mixes
    the target with the uniform distribution. `class_dim` is where the classes are: torch's
    layout is 1; sequence models whose logits are (N, T, C) with (N, T) targets set -1.
    """

    name = "cross_entropy"
    output = "logits"
    target_kinds = "fiu"

    def __init__(
        self,
        weight: ClassWeights | None = None,
        ignore_index: int = -100,
        label_smoothing: Fraction = 0.0,
        class_dim: int = 1,
        reduction: Reduction = "mean",
    ):
        super().__init__(weight, ignore_index, class_dim, reduction)
        self.label_smoothing = label_smoothing

    def __call__(self, prediction: Any, target: Any) -> Tensor:
        prediction, scores, target, weight = self._layout(prediction, target)
        # The fused op directly: functional.cross_entropy rounds float64 targets via float32.
        loss = fused.CrossEntropy.apply(
            scores,
            Tensor._wrap(target, False),
            weight=weight,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
            reduction=self.reduction,
        )
        return self._finish(loss, prediction)


@LOSSES.register("nll", "nll_loss", "negative_log_likelihood")
class NLL(_ClassScores):
    """Negative log-likelihood of log-probabilities (e.g. a log_softmax output), as
    torch.nn.functional.nll_loss: loss = −weight[y]·x[y].

    prediction (N, C), (N, C, d1, ...) or (C,); target class indices (N, d1, ...).
    `weight`, `ignore_index` and `class_dim` as in cross_entropy.
    """

    name = "nll"
    output = "log_probabilities"

    def __call__(self, prediction: Any, target: Any) -> Tensor:
        prediction, scores, target, weight = self._layout(prediction, target)
        loss = ops.NegativeLogLikelihood.apply(
            scores,
            target=target,
            weight=weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )
        return self._finish(loss, prediction)


@LOSSES.register("binary_cross_entropy", "bce")
class BinaryCrossEntropy(Loss):
    """Binary cross-entropy of probabilities (a sigmoid output), as
    torch.nn.functional.binary_cross_entropy: −w·[y·log p + (1 − y)·log(1 − p)], each log
    clamped at −100. Prediction and target (floats in [0, 1]) have the same shape; `weight`
    broadcasts against the last axis. Prefer bce_with_logits: it is stabler on logits.
    """

    name = "binary_cross_entropy"
    output = "probabilities"

    def __init__(self, weight: list[float] | None = None, reduction: Reduction = "mean"):
        super().__init__(reduction)
        self.weight = weight

    def check_targets(self, prediction_shape: tuple[int, ...], target: np.ndarray) -> None:
        check_target_kind(self.name, target, "fiub")
        check_same_shape(self.name, prediction_shape, target)
        check_broadcasts(self.name, "weight", self.weight, prediction_shape)

    def __call__(self, prediction: Any, target: Any) -> Tensor:
        probs = prediction_tensor(prediction)
        target = raw_target(target)
        if self.checks_targets:
            self.check_targets(probs.shape, target)
        target = target_array(target, probs)
        outside = (probs.data < 0) | (probs.data > 1)
        if outside.any():
            raise ConfigError(
                f"{self.name}: the prediction must be probabilities in [0, 1], found "
                f"{probs.data[outside].reshape(-1)[0]:.4g}; end the model with a sigmoid, "
                f"or use the loss bce_with_logits on the raw outputs"
            )
        weight = option_array(self.weight, probs)
        return ops.BinaryCrossEntropy.apply(
            probs, Tensor._wrap(target, False), weight=weight, reduction=self.reduction
        )


@LOSSES.register("bce_with_logits", "binary_cross_entropy_with_logits")
class BCEWithLogits(Loss):
    """Sigmoid + binary cross-entropy on logits in one stable op, as
    torch.nn.functional.binary_cross_entropy_with_logits.

    Prediction and target (floats in [0, 1], e.g. (N, 1) for one binary label or (N, C)
    for multi-label) have the same shape. `pos_weight` (one value, or one per class along
    the last axis) multiplies the positive term: > 1 raises recall. `weight` rescales
    elements, broadcast against the last axis.
    """

    name = "bce_with_logits"
    output = "logits"

    def __init__(
        self,
        weight: list[float] | None = None,
        pos_weight: float | list[float] | None = None,
        reduction: Reduction = "mean",
    ):
        super().__init__(reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def check_targets(self, prediction_shape: tuple[int, ...], target: np.ndarray) -> None:
        check_target_kind(self.name, target, "fiub")
        check_same_shape(self.name, prediction_shape, target)
        check_broadcasts(self.name, "weight", self.weight, prediction_shape)
        check_broadcasts(self.name, "pos_weight", self.pos_weight, prediction_shape)

    def __call__(self, prediction: Any, target: Any) -> Tensor:
        logits = prediction_tensor(prediction)
        target = raw_target(target)
        if self.checks_targets:
            self.check_targets(logits.shape, target)
        target = target_array(target, logits)
        weight = option_array(self.weight, logits)
        pos_weight = option_array(self.pos_weight, logits)
        return ops.BinaryCrossEntropyWithLogits.apply(
            logits,
            Tensor._wrap(target, False),
            weight=weight,
            pos_weight=pos_weight,
            reduction=self.reduction,
        )


@LOSSES.register("hinge", "binary_hinge")
class Hinge(Loss):
    """Binary hinge loss max(0, margin − y·x) on raw scores x (the SVM loss).

    Prediction and target have the same shape (e.g. (N, 1)); targets are −1/+1 labels, or
    0/1 labels (0 is read as −1). Predict the positive class where x > 0. Not torch's
    HingeEmbeddingLoss; for the multi-class hinge see multi_margin.
    """

    name = "hinge"
    output = "scores"

    def __init__(self, margin: float = 1.0, reduction: Reduction = "mean"):
        super().__init__(reduction)
        self.margin = margin

    def check_targets(self, prediction_shape: tuple[int, ...], target: np.ndarray) -> None:
        check_target_kind(self.name, target, "fiub")
        check_same_shape(self.name, prediction_shape, target)
        check_sign_targets(self.name, target, allow_zero=True)

    def __call__(self, prediction: Any, target: Any) -> Tensor:
        scores = prediction_tensor(prediction)
        target = raw_target(target)
        if self.checks_targets:
            self.check_targets(scores.shape, target)
        signs = sign_tensor(target_array(target, scores), allow_zero=True)
        return reduce((self.margin - scores * signs).relu(), self.reduction)


@LOSSES.register("multi_margin", "multi_margin_loss", "multiclass_hinge")
class MultiMargin(Loss):
    """Multi-class hinge loss, as torch.nn.MultiMarginLoss: per example
    Σ_{i≠y} weight[y]·max(0, margin − x[y] + x[i])^p / C.

    prediction scores (N, C) or (C,); target class indices (N,) or (). p is 1 or 2.
    """

    name = "multi_margin"
    output = "scores"

    def __init__(
        self,
        p: Literal[1, 2] = 1,
        margin: float = 1.0,
        weight: ClassWeights | None = None,
        reduction: Reduction = "mean",
    ):
        super().__init__(reduction)
        self.p, self.margin, self.weight = p, margin, weight

    def check_targets(self, prediction_shape: tuple[int, ...], target: np.ndarray) -> None:
        check_target_kind(self.name, target, "iu")
        if len(prediction_shape) not in (1, 2):
            raise ShapeError(
                f"{self.name}: the prediction must be scores (N, C) or (C,), got {prediction_shape}"
            )
        axis = len(prediction_shape) - 1
        _check_index_target(self.name, prediction_shape, target, axis, ignore_index=None)
        _check_class_weights(self.name, self.weight, prediction_shape[-1])

    def __call__(self, prediction: Any, target: Any) -> Tensor:
        scores = prediction_tensor(prediction)
        target = raw_target(target)
        if self.checks_targets:
            self.check_targets(scores.shape, target)
        weight = option_array(self.weight, scores)
        classes = scores.shape[-1]
        scores_2d, index = scores.reshape(-1, classes), target.reshape(-1)
        rows = np.arange(len(index))
        target_scores = scores_2d[rows, index].reshape(-1, 1)
        violations = (scores_2d - target_scores + self.margin).relu()
        if self.p == 2:
            violations = violations * violations
        others = np.ones(scores_2d.shape, dtype=scores.dtype)
        others[rows, index] = 0  # the target class itself is not a violation
        if weight is not None:
            others *= weight[index][:, None]
        losses = (violations * others).sum(axis=1) / classes
        return reduce(losses.reshape(target.shape), self.reduction)
