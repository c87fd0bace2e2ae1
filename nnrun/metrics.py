"""Evaluation metrics on whole-epoch NumPy arrays, registered in `METRICS` by name.

The trainer concatenates one split's outputs and targets over an epoch and calls
`compute_metrics` once. Inputs per task (targets equal to ``IGNORE_INDEX`` = -100 are left
out everywhere, PyTorch's ``ignore_index`` convention for padding and unlabelled nodes):

- ``classification`` / ``node_classification``: outputs (N, C) scores or logits, targets (N,)
- ``sequence``: outputs (N, T, C), targets (N, T); flattened to (N*T, C) and (N*T,)
- ``binary``: outputs (N,) or (N, 1) logits, positive when > 0; targets 0/1
- ``regression``: outputs and targets of the same shape (N, ...), compared elementwise
- ``ranking``: outputs (N,) or (N, 1) score differences s_a − s_b (the trainer subtracts a
  two-output model's scores), targets −1/+1 of the same shape (0 reads as −1, as in the loss)

A metric spec in the config is a name (``f1``) or a mapping (``{type: top_k_accuracy, k: 3}``);
an optional ``name`` key renames its result (e.g. to keep two top-k accuracies apart).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Literal, cast

import numpy as np

from nnrun.errors import ArgumentError, DataError, ShapeError
from nnrun.registry import METRICS
from nnrun.tasks import IGNORE_INDEX, LabelKind, Task, get_task

_SPLIT_PREFIXES = ("train_", "val_", "valid_", "validation_", "test_", "train/", "val/", "test/")


@dataclass(frozen=True)
class LabelData:
    """Unmasked classification data: `predictions` and `targets` (M,) ints in [0, C)."""

    predictions: np.ndarray
    targets: np.ndarray
    num_classes: int
    scores: np.ndarray  # (M, C) class scores (logits); (M,) logits for binary

    @cached_property
    def confusion(self) -> np.ndarray:
        """(C, C) counts, rows = true class, columns = predicted class."""
        flat = self.targets * self.num_classes + self.predictions
        counts = np.bincount(flat, minlength=self.num_classes**2)
        return counts.reshape(self.num_classes, self.num_classes)

    @cached_property
    def log_probabilities(self) -> np.ndarray:
        """(M, C) float64 log-probabilities: log-softmax of the scores, or for binary
        log-sigmoid of the logit as the columns [negative, positive]."""
        scores = self.scores.astype(np.float64)
        if scores.ndim == 1:
            scores = np.stack([np.zeros_like(scores), scores], axis=1)
        shifted = scores - scores.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))

    def class_scores(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(is this class, score) pairs for the ranking metrics: the positive class's logit
        for binary; one-vs-rest probability columns for each class that occurs in the
        targets (with and without it) otherwise."""
        if self.scores.ndim == 1:
            return [(self.targets == 1, self.scores.astype(np.float64))]
        probabilities = np.exp(self.log_probabilities)
        counts = np.bincount(self.targets, minlength=self.num_classes)
        return [
            (self.targets == c, probabilities[:, c])
            for c in range(self.num_classes)
            if 0 < counts[c] < len(self.targets)
        ]


@dataclass(frozen=True)
class RegressionData:
    """Regression data as (N, D) `outputs` and `targets`, with `mask` True where counted."""

    outputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray


class Metric:
    """A metric: `mode` says whether higher ("max") or lower ("min") is better; `labels`
    says which kinds of targets it measures (see `nnrun.tasks`), `needs_scores` that it
    needs one score per class."""

    mode: ClassVar[Literal["max", "min"]] = "max"
    labels: ClassVar[frozenset[LabelKind]] = frozenset({"class", "binary"})
    needs_scores: ClassVar[bool] = False
    scalar: ClassVar[bool] = True

    def __init__(self) -> None:
        """Metrics without options accept no config arguments (the registry checks this)."""

    @classmethod
    def applies_to(cls, task: Task) -> bool:
        return task.labels in cls.labels and (task.class_scores or not cls.needs_scores)

    def validate(self, task: Task, name: str) -> None:
        """Raise ArgumentError if this metric (called `name` in the config), with its
        options, does not apply to `task`."""
        if not self.applies_to(task):
            fitting = [n for n in METRICS.names() if metric_class(n).applies_to(task)]
            raise ArgumentError(
                f"metric {name!r} does not apply to task {task.name!r}; "
                f"metrics for {task}: {', '.join(fitting)}",
                expected=f"one of {', '.join(fitting)}",
                found=repr(name),
            )

    def __call__(self, data: Any, task: Task) -> dict[str, float]:
        """Values keyed by suffix: "" for the metric itself, "_class_3" for per-class ones."""
        raise NotImplementedError


def metric_class(name: str) -> type[Metric]:
    """The registered metric class called `name` (every METRICS entry is a Metric)."""
    return cast("type[Metric]", METRICS.get(name))


def _mean_or_nan(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else float("nan")


@METRICS.register("accuracy", "acc")
class Accuracy(Metric):
    """Fraction of predictions equal to the target."""

    def __call__(self, data: LabelData, task: Task) -> dict[str, float]:
        return {"": _mean_or_nan(data.predictions == data.targets)}


@METRICS.register("top_k_accuracy", "top_k")
class TopKAccuracy(Metric):
    """Fraction of targets among the `k` highest scores (default 5)."""

    needs_scores = True

    def __init__(self, k: int = 5):
        if k < 1:
            raise ArgumentError(f"top_k_accuracy: k must be at least 1, got {k}", key="k")
        self.k = k

    def __call__(self, data: LabelData, task: Task) -> dict[str, float]:
        num_classes = data.scores.shape[1]
        if self.k > num_classes:
            raise ArgumentError(
                f"top_k_accuracy: k={self.k} exceeds the number of classes ({num_classes})",
                key="k",
                expected=f"k <= {num_classes}",
                found=str(self.k),
            )
        target_scores = np.take_along_axis(data.scores, data.targets[:, None], axis=1)
        # Rank = number of classes scoring strictly higher; ties count in the target's favour.
        rank = (data.scores > target_scores).sum(axis=1)
        return {"": _mean_or_nan(rank < self.k)}


Average = Literal["macro", "micro", "weighted", "binary"]


class _PerClassMetric(Metric):
    """Precision, recall or F1 from the confusion matrix.

    `average`: "macro" (unweighted mean over classes that occur in targets or predictions,
    like torcheval and scikit-learn), "weighted" (by target count), "micro" (global counts),
    or "binary" (the positive class; default for the binary task, macro otherwise).
    `per_class` adds one value per class, keyed ``<name>_class_<i>``. Undefined ratios
    (0/0) count as 0.
    """

    def __init__(self, average: Average | None = None, per_class: bool = False):
        self.average = average
        self.per_class = per_class

    def validate(self, task: Task, name: str) -> None:
        super().validate(task, name)
        if self.average == "binary" and task.labels != "binary":
            raise ArgumentError(
                f"average 'binary' needs task 'binary', not {task.name!r}",
                key="average",
                expected="macro, micro or weighted",
                found="'binary'",
            )

    def _ratio(self, true_pos: np.ndarray, false_pos: np.ndarray, false_neg: np.ndarray):
        raise NotImplementedError

    def __call__(self, data: LabelData, task: Task) -> dict[str, float]:
        average = self.average or ("binary" if task.labels == "binary" else "macro")
        confusion = data.confusion
        true_pos = np.diag(confusion).astype(np.float64)
        false_pos = confusion.sum(axis=0) - true_pos
        false_neg = confusion.sum(axis=1) - true_pos
        per_class = self._ratio(true_pos, false_pos, false_neg)
        if average == "binary":
            value = per_class[1]
        elif average == "micro":
            value = self._ratio(true_pos.sum(), false_pos.sum(), false_neg.sum())
        else:
            support = confusion.sum(axis=1)
            present = (support + confusion.sum(axis=0)) > 0
            weights = support if average == "weighted" else present.astype(np.float64)
            value = _safe_divide((per_class * weights).sum(), weights.sum())
        out = {"": float(value)}
        if self.per_class:
            out.update({f"_class_{i}": float(v) for i, v in enumerate(per_class)})
        return out


def _safe_divide(numerator: Any, denominator: Any) -> np.ndarray:
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


@METRICS.register("precision")
class Precision(_PerClassMetric):
    __doc__ = "Precision TP / (TP + FP). " + (_PerClassMetric.__doc__ or "")

    def _ratio(self, true_pos, false_pos, false_neg):
        return _safe_divide(true_pos, true_pos + false_pos)


@METRICS.register("recall")
class Recall(_PerClassMetric):
    __doc__ = "Recall TP / (TP + FN). " + (_PerClassMetric.__doc__ or "")

    def _ratio(self, true_pos, false_pos, false_neg):
        return _safe_divide(true_pos, true_pos + false_neg)


@METRICS.register("f1", "f1_score")
class F1(_PerClassMetric):
    __doc__ = "F1 = 2 TP / (2 TP + FP + FN). " + (_PerClassMetric.__doc__ or "")

    def _ratio(self, true_pos, false_pos, false_neg):
        return _safe_divide(2 * true_pos, 2 * true_pos + false_pos + false_neg)


@METRICS.register("balanced_accuracy")
class BalancedAccuracy(Metric):
    """Mean recall over the classes that occur in the targets (scikit-learn's
    ``balanced_accuracy_score``): accuracy that a majority class cannot inflate."""

    def __call__(self, data: LabelData, task: Task) -> dict[str, float]:
        confusion = data.confusion
        support = confusion.sum(axis=1)
        present = support > 0
        return {"": _mean_or_nan(np.diag(confusion)[present] / support[present])}


@METRICS.register("matthews_corrcoef", "mcc")
class MatthewsCorrcoef(Metric):
    """Matthews correlation coefficient in its multi-class form (Gorodkin's R_K, as
    scikit-learn computes it): +1 perfect, 0 no better than chance; 0 when undefined."""

    def __call__(self, data: LabelData, task: Task) -> dict[str, float]:
        confusion = data.confusion.astype(np.float64)
        true_counts, predicted_counts = confusion.sum(axis=1), confusion.sum(axis=0)
        correct, total = np.trace(confusion), confusion.sum()
        covariance = correct * total - true_counts @ predicted_counts
        spread = (total**2 - predicted_counts @ predicted_counts) * (
            total**2 - true_counts @ true_counts
        )
        return {"": float(covariance / np.sqrt(spread)) if spread > 0 else 0.0}


@METRICS.register("log_loss")
class LogLoss(Metric):
    """Mean negative log-likelihood of the targets under the softmax (binary: sigmoid) of
    the model's scores, in nats (scikit-learn's ``log_loss`` of those probabilities)."""

    mode = "min"

    def __call__(self, data: LabelData, task: Task) -> dict[str, float]:
        picked = np.take_along_axis(data.log_probabilities, data.targets[:, None], axis=1)
        return {"": _mean_or_nan(-picked[:, 0])}


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of `values`, ties sharing their average rank."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts_group = np.r_[True, ordered[1:] != ordered[:-1]]
    starts = np.flatnonzero(starts_group)
    ends = np.r_[starts[1:], len(values)]
    group_rank = (starts + ends + 1) / 2
    ranks = np.empty(len(values))
    ranks[order] = group_rank[np.cumsum(starts_group) - 1]
    return ranks


def _roc_auc(is_positive: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve as the Mann-Whitney statistic (ties count one half)."""
    positives = int(is_positive.sum())
    negatives = len(is_positive) - positives
    if not positives or not negatives:
        return float("nan")
    rank_sum = _average_ranks(scores)[is_positive].sum()
    return float((rank_sum - positives * (positives + 1) / 2) / (positives * negatives))


def _average_precision(is_positive: np.ndarray, scores: np.ndarray) -> float:
    """Sum over score thresholds of (recall gained) × precision, as scikit-learn's
    ``average_precision_score`` (no interpolation)."""
    positives = int(is_positive.sum())
    if not positives:
        return float("nan")
    order = np.argsort(-scores, kind="mergesort")
    ordered, hits = scores[order], is_positive[order]
    last_of_tie = np.r_[ordered[1:] != ordered[:-1], True]
    true_pos = np.cumsum(hits)[last_of_tie]
    taken = np.flatnonzero(last_of_tie) + 1
    recall_gain = np.diff(np.r_[0, true_pos]) / positives
    return float((recall_gain * true_pos / taken).sum())


class _RankingScoreMetric(Metric):
    """A threshold-free metric of how the scores rank each class: binary on the positive
    class's score, multi-class one-vs-rest per class, macro-averaged over the classes that
    occur in the targets (NaN when no class has both positive and negative examples)."""

    score_fn: ClassVar[Any]

    def __call__(self, data: LabelData, task: Task) -> dict[str, float]:
        values = [type(self).score_fn(hits, scores) for hits, scores in data.class_scores()]
        return {"": _mean_or_nan(np.asarray(values, dtype=np.float64))}


@METRICS.register("auc", "roc_auc")
class RocAuc(_RankingScoreMetric):
    __doc__ = "Area under the ROC curve. " + (_RankingScoreMetric.__doc__ or "")
    score_fn = _roc_auc


@METRICS.register("average_precision", "pr_auc")
class AveragePrecision(_RankingScoreMetric):
    __doc__ = "Average precision (area under the precision-recall curve). " + (
        _RankingScoreMetric.__doc__ or ""
    )
    score_fn = _average_precision


@METRICS.register("confusion_matrix")
class ConfusionMatrix(Metric):
    """Counts of (true, predicted) class pairs; not a scalar, so `compute_metrics` skips it
    and the caller gets the matrix from `confusion_matrix()`."""

    scalar = False


class _RegressionMetric(Metric):
    mode: ClassVar[Literal["max", "min"]] = "min"
    labels = frozenset({"value"})


@METRICS.register("mse", "mean_squared_error")
class MeanSquaredError(_RegressionMetric):
    """Mean of squared errors over all counted elements."""

    def __call__(self, data: RegressionData, task: Task) -> dict[str, float]:
        return {"": _mean_or_nan((data.outputs - data.targets)[data.mask] ** 2)}


@METRICS.register("mae", "mean_absolute_error")
class MeanAbsoluteError(_RegressionMetric):
    """Mean of absolute errors over all counted elements."""

    def __call__(self, data: RegressionData, task: Task) -> dict[str, float]:
        return {"": _mean_or_nan(np.abs(data.outputs - data.targets)[data.mask])}


@METRICS.register("rmse", "root_mean_squared_error")
class RootMeanSquaredError(_RegressionMetric):
    """Square root of the MSE over all counted elements."""

    def __call__(self, data: RegressionData, task: Task) -> dict[str, float]:
        return {"": float(np.sqrt(_mean_or_nan((data.outputs - data.targets)[data.mask] ** 2)))}


@METRICS.register("r2", "r2_score")
class R2Score(_RegressionMetric):
    """Coefficient of determination 1 - SS_res / SS_tot, averaged over output columns.

    A column with constant targets scores 1 if predicted exactly, else 0 (scikit-learn).
    """

    mode = "max"

    def __call__(self, data: RegressionData, task: Task) -> dict[str, float]:
        mask = data.mask
        counts = mask.sum(axis=0)
        column_mean = np.where(mask, data.targets, 0).sum(axis=0) / np.maximum(counts, 1)
        residual = np.where(mask, (data.targets - data.outputs) ** 2, 0).sum(axis=0)
        total = np.where(mask, (data.targets - column_mean) ** 2, 0).sum(axis=0)
        scores = np.where(total > 0, 1 - residual / np.where(total > 0, total, 1), 0.0)
        scores = np.where((total == 0) & (residual == 0), 1.0, scores)
        return {"": _mean_or_nan(scores[counts > 0])}


@METRICS.register("mape", "mean_absolute_percentage_error")
class MeanAbsolutePercentageError(_RegressionMetric):
    """Mean of |error| / |target| as a fraction (0.05 = 5 %), as scikit-learn: targets
    of zero count as machine epsilon, so they give huge values rather than infinity."""

    def __call__(self, data: RegressionData, task: Task) -> dict[str, float]:
        error = np.abs(data.outputs - data.targets)
        scale = np.maximum(np.abs(data.targets), np.finfo(np.float64).eps)
        return {"": _mean_or_nan((error / scale)[data.mask])}


@dataclass(frozen=True)
class RankingData:
    """Pairs as (M,) score `differences` s_a − s_b and `signs` −1/+1 (+1: a ranks higher)."""

    differences: np.ndarray
    signs: np.ndarray


@METRICS.register("pairwise_accuracy", "ranking_accuracy")
class PairwiseAccuracy(Metric):
    """Fraction of pairs ordered correctly: sign(s_a − s_b) equals the target; a tie
    (equal scores) counts as wrong."""

    labels = frozenset({"sign"})

    def __call__(self, data: RankingData, task: Task) -> dict[str, float]:
        return {"": _mean_or_nan(np.sign(data.differences) == data.signs)}


# ---------------------------------------------------------------- specs


@dataclass(frozen=True)
class BoundMetric:
    """A metric built from one spec: `key` is the name its results are reported under."""

    key: str
    metric: Metric

    @property
    def mode(self) -> str:
        return self.metric.mode


MetricSpecs = Sequence[Any]
"""Metric references: names, ``{type: ..., name: ..., **options}`` mappings, or objects with
``type``, ``args`` and ``key`` (the config layer's `ComponentSpec`); or metrics already bound."""


def resolve_metrics(specs: MetricSpecs, task: Task | str) -> list[BoundMetric]:
    """Build and check metric specs for `task`; call at build time to fail before training."""
    task = get_task(task)
    if all(isinstance(spec, BoundMetric) for spec in specs):
        for spec in specs:
            spec.metric.validate(task, spec.key)
        return list(specs)
    bound: list[BoundMetric] = []
    for spec in specs:
        if hasattr(spec, "args"):  # a ComponentSpec
            name, kwargs, key = spec.type, dict(spec.args), spec.name
        elif isinstance(spec, str):
            name, kwargs, key = spec, {}, None
        elif isinstance(spec, dict) and isinstance(spec.get("type"), str):
            kwargs = {k: v for k, v in spec.items() if k not in ("type", "name")}
            name, key = spec["type"], spec.get("name")
        else:
            raise ArgumentError(
                f"a metric must be a name or a mapping with a 'type', got {spec!r}",
                expected="a metric name or {type: <metric>, ...}",
                found=repr(spec),
            )
        canonical = METRICS.canonical(name)
        metric = METRICS.build(canonical, **kwargs)
        metric.validate(task, name)
        key = key or canonical
        if any(b.key == key for b in bound):
            raise ArgumentError(
                f"metric {key!r} is listed twice; give one of them a different 'name'",
                key="name",
            )
        bound.append(BoundMetric(key, metric))
    return bound


def metric_mode(name: str, bound: Sequence[BoundMetric] = ()) -> str:
    """Whether higher ("max") or lower ("min") is better for `name`.

    `name` may be ``loss``, a metric name or alias, a per-class key (``f1_class_2``), the
    key of one of the `bound` metrics (a renamed one), each optionally prefixed by a split
    (``val_accuracy``).
    """
    modes = {item.key: item.mode for item in bound}
    candidates = [name] + [name[len(p) :] for p in _SPLIT_PREFIXES if name.startswith(p)]
    for candidate in candidates:
        base = candidate.split("_class_")[0] if "_class_" in candidate else candidate
        if base in modes:
            return modes[base]
        if base == "loss" or base.endswith("_loss"):
            return "min"
        if base in METRICS:
            return metric_class(base).mode
    raise ArgumentError(
        f"cannot tell whether {name!r} should go up or down: it is not 'loss' or a metric "
        f"(metrics: {', '.join(METRICS.names())})",
        expected="loss or a metric name, optionally prefixed by train_/val_/test_",
        found=repr(name),
    )


# ---------------------------------------------------------------- input preparation


def _integer_targets(targets: np.ndarray) -> np.ndarray:
    if targets.dtype.kind == "f":
        if not np.all(np.isfinite(targets)) or np.any(targets != np.round(targets)):
            raise DataError(
                "classification targets must be whole class indices, found non-integer values"
            )
    elif targets.dtype.kind not in "biu":
        raise DataError(f"classification targets must be integers, found dtype {targets.dtype}")
    return targets.astype(np.int64)


def prepare_labels(
    outputs: np.ndarray, targets: np.ndarray, task: Task, num_classes: int | None
) -> LabelData:
    """Predictions and targets of a label task, with ignored targets removed."""
    outputs, targets = np.asarray(outputs), np.asarray(targets)
    if task.labels == "binary":
        if outputs.ndim == 2 and outputs.shape[1] == 1:
            outputs = outputs[:, 0]
        if targets.ndim == 2 and targets.shape[1] == 1:
            targets = targets[:, 0]
        if outputs.shape != targets.shape or outputs.ndim != 1:
            raise ShapeError(
                f"binary metrics expect outputs (N,) or (N, 1) and targets (N,) or (N, 1), "
                f"found outputs {outputs.shape} and targets {targets.shape}"
            )
        targets = _integer_targets(targets)
        keep = targets != IGNORE_INDEX
        logits, targets = outputs[keep], targets[keep]
        _check_range(targets, 2)
        return LabelData((logits > 0).astype(np.int64), targets, 2, logits)
    expected_dims = 3 if task.positions else 2
    if outputs.ndim != expected_dims or targets.shape != outputs.shape[:-1]:
        layout = "(N, T, C) and targets (N, T)" if task.positions else "(N, C) and targets (N,)"
        raise ShapeError(
            f"{task} metrics expect outputs {layout}, "
            f"found outputs {outputs.shape} and targets {targets.shape}"
        )
    classes = outputs.shape[-1]
    if num_classes is not None and num_classes != classes:
        raise ShapeError(
            f"the model outputs {classes} class scores but the data has {num_classes} classes"
        )
    scores = outputs.reshape(-1, classes)
    targets = _integer_targets(targets).reshape(-1)
    keep = targets != IGNORE_INDEX
    scores, targets = scores[keep], targets[keep]
    _check_range(targets, classes)
    return LabelData(scores.argmax(axis=1), targets, classes, scores)


def _check_range(targets: np.ndarray, num_classes: int) -> None:
    bad = targets[(targets < 0) | (targets >= num_classes)]
    if bad.size:
        raise DataError(
            f"target class {int(bad[0])} is outside 0..{num_classes - 1} "
            f"({bad.size} such targets; use {IGNORE_INDEX} to mark targets to ignore)"
        )


def prepare_regression(outputs: np.ndarray, targets: np.ndarray) -> RegressionData:
    """Outputs and targets as (N, D) float64 columns. Every target counts: -100 marks an
    ignored *class* target, but is a legitimate regression value (as for the mse loss)."""
    outputs, targets = np.asarray(outputs, np.float64), np.asarray(targets, np.float64)
    if targets.ndim == outputs.ndim - 1 and outputs.shape[-1] == 1:
        outputs = outputs[..., 0]  # (N, 1) predictions for (N,) targets, as models give
    if outputs.shape != targets.shape:
        raise ShapeError(
            f"regression metrics expect outputs and targets of the same shape, "
            f"found outputs {outputs.shape} and targets {targets.shape}"
        )
    outputs, targets = outputs.reshape(len(outputs), -1), targets.reshape(len(targets), -1)
    return RegressionData(outputs, targets, np.ones(targets.shape, dtype=bool))


def prepare_ranking(outputs: np.ndarray, targets: np.ndarray) -> RankingData:
    """Score differences and −1/+1 targets of a ranking task, flattened to (M,)."""
    outputs, targets = np.asarray(outputs, np.float64), np.asarray(targets)
    if outputs.ndim == 2 and outputs.shape[1] == 1 and targets.ndim == 1:
        outputs = outputs[:, 0]
    if targets.ndim == 2 and targets.shape[1] == 1 and outputs.ndim == 1:
        targets = targets[:, 0]
    if outputs.shape != targets.shape:
        raise ShapeError(
            "ranking metrics expect score differences (N,) or (N, 1) and targets of the same "
            f"shape, found outputs {outputs.shape} and targets {targets.shape}"
        )
    if targets.size and not np.isin(targets, (-1, 0, 1)).all():
        bad = targets[~np.isin(targets, (-1, 0, 1))].reshape(-1)[0]
        raise DataError(f"ranking targets must be -1 or +1 (0 reads as -1), found {bad!r}")
    return RankingData(outputs.reshape(-1), np.where(targets > 0, 1.0, -1.0).reshape(-1))


# ---------------------------------------------------------------- entry points


def compute_metrics(
    specs: MetricSpecs,
    outputs: np.ndarray,
    targets: np.ndarray,
    task: Task | str,
    num_classes: int | None = None,
) -> dict[str, float]:
    """Scalar metrics of one split's whole-epoch `outputs` and `targets`, by key.

    Per-class entries (``f1_class_0``, ...) appear for specs with ``per_class: true``;
    non-scalar metrics (``confusion_matrix``) are skipped here, see `confusion_matrix`.
    """
    task = get_task(task)
    bound = [b for b in resolve_metrics(specs, task) if b.metric.scalar]
    if not bound:
        return {}
    if task.labels == "value":
        data: LabelData | RegressionData | RankingData = prepare_regression(outputs, targets)
    elif task.labels == "sign":
        data = prepare_ranking(outputs, targets)
    else:
        data = prepare_labels(outputs, targets, task, num_classes)
    results = {}
    for item in bound:
        for suffix, value in item.metric(data, task).items():
            results[item.key + suffix] = value
    return results


def confusion_matrix(
    outputs: np.ndarray, targets: np.ndarray, task: Task | str, num_classes: int | None = None
) -> np.ndarray:
    """(C, C) int64 counts, rows = true class, columns = predicted class (2 × 2 for binary)."""
    task = get_task(task)
    if not task.has_classes:
        raise ArgumentError(
            f"confusion_matrix does not apply to task {task.name!r}", found=repr(task.name)
        )
    return prepare_labels(outputs, targets, task, num_classes).confusion
