"""The `Loss` base class and the input checks every loss shares."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal

import numpy as np

from nnrun.autograd.tensor import Tensor
from nnrun.constraints import Min, MinItems
from nnrun.errors import DataError, ShapeError
from nnrun.ops.derived import Derived

Reduction = Literal["mean", "sum", "none"]
ClassWeights = Annotated[list[Annotated[float, Min(0)]], MinItems(1)]
"""A weight per class, each >= 0."""
Output = Literal["logits", "probabilities", "log_probabilities", "scores", "values", "embeddings"]


class Loss:
    """A loss: build from YAML options, call on (prediction, target) → scalar Tensor.

    `reduction` is "mean" (default), "sum" or "none" (per-element losses, the prediction's
    batch shape). Class hints for the trainer: `output` (what the model's output means:
    logits, probabilities, ..., so predictions can be decoded; which metrics fit is the
    data's `Task`'s business) and `inputs` (the call's arguments, in order).
    """

    # Each loss defines its own call: its `inputs`, in that order, to a loss Tensor.
    __call__: Callable[..., Tensor]
    reduction: str  # a `Reduction`, or one a loss adds (kl_div's "batchmean")
    name: ClassVar[str]
    output: ClassVar[Output]
    inputs: ClassVar[tuple[str, ...]] = ("prediction", "target")
    checks_targets = True
    """Whether each call checks its targets with `check_targets` (a loss called directly on
    raw arrays always does). `nnrun.losses.targets.check_data_targets` checks whole data sets
    once, before training, and then turns this off: training steps skip the checks."""

    def __init__(self, reduction: Reduction = "mean"):
        self.reduction = reduction

    def check_targets(self, prediction_shape: tuple[int, ...], target: np.ndarray) -> None:
        """Raise DataError or ShapeError (naming the loss, expected vs found) unless `target`
        fits a prediction of `prediction_shape`: dtype, shape and values. Works on a batch or
        on a whole data set at once. A loss without targets has nothing to check."""

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({options})"


def reduce(losses: Tensor, reduction: str) -> Tensor:
    """Per-element losses → mean, sum, or themselves ("none")."""
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def prediction_tensor(prediction: Any) -> Tensor:
    """A model output as a Tensor; a float ndarray keeps its dtype (float64 stays float64)."""
    if isinstance(prediction, Tensor):
        return prediction
    array = np.asarray(prediction)
    return Tensor(array, dtype=array.dtype if array.dtype.kind == "f" else None)


def raw_target(target: Any) -> np.ndarray:
    """A target's values as an ndarray, as given (a Tensor's data)."""
    return target.data if isinstance(target, Tensor) else np.asarray(target)


def target_array(target: np.ndarray, like: Tensor, kinds: str = "fiub") -> np.ndarray:
    """A checked constant target (see `check_target_kind`) for the loss's arithmetic: float
    and bool targets take the prediction's dtype where the loss accepts floats (`kinds`)."""
    if target.dtype.kind in "fb" and "f" in kinds:
        return target.astype(like.dtype, copy=False)
    return target


def check_target_kind(name: str, array: np.ndarray, kinds: str) -> None:
    """DataError unless the targets' dtype kind is one of `kinds`."""
    if array.dtype.kind not in kinds:
        wanted = {"f": "floats", "i": "integers", "u": "integers", "b": "booleans"}
        expected = " or ".join(dict.fromkeys(wanted[k] for k in kinds))
        raise DataError(f"{name}: targets must be {expected}, got dtype {array.dtype}")


def target_tensor(target: Any, like: Tensor) -> Tensor:
    """A target that may carry a gradient (a Tensor) or is constant (an array), as a Tensor
    of the prediction's float dtype."""
    if isinstance(target, Tensor):
        return target if target.dtype == like.dtype else target.astype(like.dtype)
    array = np.asarray(target)
    # Cast by an op (none when the dtypes agree), so a compiled step redoes it.
    tensor = Tensor._wrap(array, False)
    return tensor if array.dtype == like.dtype else tensor.astype(like.dtype)


def _shape_hint(prediction: tuple[int, ...], target: tuple[int, ...]) -> str:
    if prediction == (*target, 1):
        return (
            "the model gives one column per example: reshape the targets to "
            f"{prediction} or end the model with a flatten to {target}"
        )
    if target == (*prediction, 1):
        return f"reshape the targets to {prediction} (drop their last axis of size 1)"
    return "the loss compares them elementwise, so they need the same shape"


def check_same_shape(name: str, prediction_shape: tuple[int, ...], target: np.ndarray) -> None:
    """Raise ShapeError (naming the loss and both shapes) unless the shapes are equal.

    Stricter than torch, which broadcasts (N, 1) against (N,) into (N, N) with a warning.
    """
    if prediction_shape != target.shape:
        raise ShapeError(
            f"{name}: prediction {prediction_shape} and target {target.shape} differ; "
            f"{_shape_hint(prediction_shape, target.shape)}"
        )


def first_bad(valid: np.ndarray) -> str:
    """Where the first False of `valid` (one flag per target) is: the example, for a
    message ("example 57")."""
    position = np.argwhere(~valid)[0]
    return f"example {int(position[0]) + 1}" if len(position) else "the one target"


def option_array(values: float | list[float] | None, like: Tensor) -> np.ndarray | None:
    """A weight-like option (list from the config) as an array of the prediction's dtype."""
    return None if values is None else np.asarray(values, dtype=like.dtype)


def check_broadcasts(name: str, key: str, option: Any, prediction_shape: tuple[int, ...]) -> None:
    """Raise ShapeError unless a weight-like option (a number or list from the config)
    broadcasts against the prediction without enlarging it."""
    if option is None:
        return
    shape = np.shape(option)
    try:
        fits = np.broadcast_shapes(shape, prediction_shape) == prediction_shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(
            f"{name}: {key} of shape {shape} does not broadcast against the prediction "
            f"{prediction_shape}; give one value per entry of the last axis "
            f"({prediction_shape[-1] if prediction_shape else 1}) or a single value"
        )


def check_sign_targets(name: str, target: np.ndarray, allow_zero: bool) -> None:
    """DataError unless the targets are in {−1, +1} (or {0, 1} when `allow_zero`)."""
    valid = (target == 1) | (target == -1)
    if allow_zero:
        valid |= target == 0
    if not valid.all():
        bad = target[~valid].reshape(-1)[0]
        labels = "−1/+1 or 0/1" if allow_zero else "−1/+1"
        raise DataError(
            f"{name}: targets must be {labels} labels, found the value {bad} at {first_bad(valid)}"
        )


def sign_tensor(target: np.ndarray, allow_zero: bool) -> Tensor:
    """Checked sign targets as a Tensor, 0 mapped to −1 when `allow_zero` (the mapping is
    an op, so a compiled step redoes it)."""
    signs = Tensor._wrap(target, False)
    return Derived.apply(signs, fn=_zero_to_minus_one) if allow_zero else signs


def _zero_to_minus_one(target: np.ndarray) -> np.ndarray:
    return np.where(target == 0, -1, target).astype(target.dtype)
