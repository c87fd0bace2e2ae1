"""A data set's targets checked against the loss once, before training, instead of every
step: class indices in range, dtypes, shapes against the model's output, finite values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from nnrun.errors import DataError, ShapeError
from nnrun.losses.base import Loss, first_bad

if TYPE_CHECKING:
    from nnrun.data.info import Split


def check_data_targets(
    loss: Loss, splits: Mapping[str, Split], outputs: Any, examples: int, source: str
) -> None:
    """Check every split's targets against `loss` as whole arrays, then turn the loss's
    per-call checks off (`Loss.checks_targets`): the training steps, eager or replayed,
    skip them.

    `outputs` are the model's outputs (NumPy; a tuple for several) for the first `examples`
    examples, batch axis first; a whole split's prediction has the same shape with its
    length. An output without that batch axis leaves the per-call checks on. A bad target
    is a DataError naming `source` (the data file or dataset), the split, what the loss
    expects and what was found.
    """
    first = outputs[0] if isinstance(outputs, tuple) else outputs
    if not loss.inputs or loss.inputs[-1] != "target":
        return  # no targets (e.g. triplet_margin)
    if np.ndim(first) == 0 or np.shape(first)[0] != examples:
        return
    for name, split in splits.items():
        check_split_targets(loss, split, np.shape(first)[1:], f"{source}, {name} split")
    loss.checks_targets = False


def check_split_targets(
    loss: Loss, split: Split, example_shape: tuple[int, ...], where: str
) -> None:
    """DataError unless the split's targets fit predictions of `example_shape` each."""
    targets = split.targets
    try:
        loss.check_targets((len(targets), *example_shape), targets)
    except (DataError, ShapeError) as error:
        raise DataError(f"{where}: {error}") from None
    if targets.dtype.kind == "f":
        finite = np.isfinite(targets)
        if not finite.all():
            raise DataError(
                f"{where}: {loss.name}: targets must be finite numbers, found "
                f"{targets[~finite].reshape(-1)[0]} at {first_bad(finite)}"
            )
