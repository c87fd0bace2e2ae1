"""The table behind `nnrun datasets`."""

from __future__ import annotations

from typing import Any, cast

from nnrun.data import builtin, synthetic  # noqa: F401  (registers the built-in datasets)
from nnrun.data.sources import BuiltinDataset
from nnrun.registry import DATASETS


def dataset_table() -> list[dict[str, Any]]:
    """One row per built-in dataset: name, task, input shape, classes/target, size, description.

    Synthetic datasets show their default parameters in brackets and are marked seeded.
    """
    rows = []
    for name in DATASETS.names():
        dataset = cast("type[BuiltinDataset]", DATASETS.get(name))
        aliases = DATASETS.aliases_of(name)
        rows.append(
            {
                "name": name,
                "aliases": aliases,
                "task": dataset.task,
                "input_shape": dataset.input_shape,
                "target": dataset.target,
                "size": dataset.size + (" (seeded)" if dataset.seeded else ""),
                "description": dataset.description,
            }
        )
    return rows
