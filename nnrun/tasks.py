"""What a model is trained to do: the `Task` object every part of nnrun asks about the data.

A task answers the questions that used to be string comparisons spread over the trainer,
metrics, prediction and data code: its default loss and metrics, what a target is, how wide
the model's last layer must be, how outputs decode to predictions and how a batch's loss is
weighted. Adding a task is one `Task(...)` in `TASKS`.

Target layouts (see `nnrun.data.info.Split`): ``class`` targets are int64 class indices
(``IGNORE_INDEX`` = -100 marks ones to skip), ``binary`` targets are 0/1 floats, ``value``
targets are float columns, ``sign`` targets are −1/+1 pair orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from nnrun.errors import ArgumentError

IGNORE_INDEX = -100
"""A target the losses and metrics skip (PyTorch's ``ignore_index``)."""

LabelKind = Literal["class", "binary", "value", "sign"]


@dataclass(frozen=True)
class Task:
    """One kind of problem.

    `labels`: what a target is (see the module docstring). `class_scores`: the model outputs
    one score per class on its last axis. `positions`: outputs are (N, T, C), one prediction
    per position (language models). `whole_graph`: the data is one graph predicted whole.
    `pairwise`: examples are pairs of items (a, b), the model scores each.
    """

    name: str
    labels: LabelKind
    default_loss: dict[str, Any]
    default_metrics: tuple[str, ...] = ("accuracy",)
    class_scores: bool = False
    positions: bool = False
    whole_graph: bool = False
    pairwise: bool = False

    def __str__(self) -> str:
        return self.name

    @property
    def has_classes(self) -> bool:
        """Targets are class labels (the data has classes and a confusion matrix applies)."""
        return self.labels in ("class", "binary")

    def output_width(self, num_classes: int | None, target_shape: tuple[int, ...]) -> int:
        """Width of the model's last layer: classes, 1 logit/score, or the target columns."""
        if self.labels in ("binary", "sign"):
            return 1
        if self.labels == "value":
            return int(target_shape[-1]) if target_shape else 1
        return int(num_classes or 0)

    def batch_weight(self, targets: np.ndarray) -> int:
        """How many targets a batch's mean loss averages over (ignored ones do not count)."""
        if self.labels != "value" and targets.dtype.kind in "iu":
            return int(np.count_nonzero(targets != IGNORE_INDEX))
        return len(targets)

    def batch_correct(self, outputs: Any, targets: np.ndarray) -> tuple[int, int]:
        """(correct, counted) predictions of one batch, for the live running accuracy;
        (0, 0) where accuracy does not apply."""
        if not isinstance(outputs, np.ndarray) or targets.dtype.kind not in "iuf":
            return 0, 0
        if self.labels == "binary":
            return int(np.count_nonzero((outputs > 0) == (targets > 0.5))), targets.size
        if self.class_scores and outputs.ndim == targets.ndim + 1:
            counted = targets != IGNORE_INDEX
            hits = (outputs.argmax(axis=-1) == targets) & counted
            return int(np.count_nonzero(hits)), int(np.count_nonzero(counted))
        return 0, 0

    def class_probabilities(self, outputs: np.ndarray, kind: str) -> np.ndarray:
        """(N, C) probabilities from what the model outputs (`kind`: the loss's ``output``:
        logits, probabilities or log_probabilities)."""
        if self.labels == "binary":
            p = outputs.reshape(len(outputs), -1)[:, :1].astype(np.float64)
            if kind == "logits":
                p = 1 / (1 + np.exp(-p))
            return np.concatenate([1 - p, p], axis=1)
        if kind == "log_probabilities":
            return np.exp(outputs)
        if kind == "probabilities":
            return outputs
        return softmax(outputs.astype(np.float64))

    def decodes_to_classes(self, kind: str) -> bool:
        """Whether outputs of this `kind` (the loss's ``output``) decode to class labels."""
        return self.has_classes and kind in ("logits", "probabilities", "log_probabilities")

    def metric_outputs(self, outputs: Any) -> np.ndarray | None:
        """What metrics see of a model's outputs: the array itself, or for a pairwise model's
        two scores their difference (positive when the first item ranks higher); None when
        several outputs have no single meaning (the loss alone is reported)."""
        if not isinstance(outputs, tuple):
            return outputs
        if self.pairwise and len(outputs) == 2:
            return outputs[0] - outputs[1]
        return None


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        # one class per example; outputs (N, C) scores
        Task(
            "classification",
            "class",
            {"type": "cross_entropy"},
            class_scores=True,
        ),
        # two classes; outputs (N, 1) logits, positive when > 0
        Task(
            "binary",
            "binary",
            {"type": "bce_with_logits"},
        ),
        # numeric targets; outputs of the targets' shape
        Task(
            "regression",
            "value",
            {"type": "mse"},
            ("mae", "r2"),
        ),
        # one class per position; outputs (N, T, C)
        Task(
            "sequence",
            "class",
            {"type": "cross_entropy", "class_dim": -1},
            class_scores=True,
            positions=True,
        ),
        # one class per graph node; the graph is one example
        Task(
            "node_classification",
            "class",
            {"type": "cross_entropy"},
            class_scores=True,
            whole_graph=True,
        ),
        # pairs (a, b) with +1 when a ranks higher; outputs one score per item
        Task(
            "ranking",
            "sign",
            {"type": "margin_ranking", "margin": 1.0},
            ("pairwise_accuracy",),
            pairwise=True,
        ),
    )
}

TableTask = Literal["classification", "binary", "regression"]
"""Tasks a table's labels can be read as (`data.task`)."""


def get_task(task: Task | str) -> Task:
    """The `Task` named `task` (a `Task` is returned as is)."""
    if isinstance(task, Task):
        return task
    try:
        return TASKS[task]
    except KeyError:
        raise ArgumentError(
            f"unknown task {task!r}", key="task", expected=", ".join(TASKS), found=repr(task)
        ) from None
