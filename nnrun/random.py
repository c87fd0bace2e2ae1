"""The one random generator behind initialization, dropout and shuffling-free model noise.

Seeding it makes runs reproducible; its state is plain JSON, so checkpoints restore it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_generator = np.random.default_rng(0)


def seed(value: int) -> None:
    """Reset the generator (a run calls this once with the config's seed)."""
    global _generator
    _generator = np.random.default_rng(value)


def generator() -> np.random.Generator:
    return _generator


def get_state() -> dict[str, Any]:
    return dict(_generator.bit_generator.state)


def set_state(state: dict[str, Any]) -> None:
    _generator.bit_generator.state = state
