"""Per registered optimizer, every option that adds a term to its update rule.

The optimizer walkers (in-place updates, float32 state, frozen parameters, checkpointed
state) parametrize over `OPTIMIZERS.names()` and take the options from here, so a new
optimizer is covered by all of them once it has an entry; without one they fail.
"""

from __future__ import annotations

from typing import Any

import nnrun.components  # noqa: F401  (fills the registries)
from nnrun.registry import OPTIMIZERS

EVERY_TERM: dict[str, dict[str, Any]] = {
    "sgd": {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    "adam": {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01},
    "adamw": {"lr": 0.01, "amsgrad": True},
    "rmsprop": {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.01},
    "adagrad": {
        "lr": 0.1,
        "lr_decay": 0.01,
        "weight_decay": 0.01,
        "initial_accumulator_value": 0.1,
    },
}

NAMES = OPTIMIZERS.names()
