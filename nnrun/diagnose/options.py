"""The `train.diagnose` option: `true` (once per epoch), `{every: N}` (every N steps) or
`false` (off, the default)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from nnrun.config.sections import Section, setting
from nnrun.constraints import Min

DIAGNOSE_DOC = (
    "record gradient, update and activation statistics per layer on one fixed batch "
    "(true: once per epoch; {every: N}: every N steps) into diagnostics.jsonl"
)


@dataclass(frozen=True)
class Diagnose(Section):
    """`train.diagnose` given as settings."""

    every: Annotated[int, Min(1)] | None = setting(
        None, "record every N optimizer steps (default: once per epoch)"
    )


def diagnose_schedule(value: bool | Diagnose | None) -> tuple[bool, int | None]:
    """(on, every N steps or None for once per epoch) from the option's typed value."""
    if isinstance(value, Diagnose):
        return True, value.every
    return bool(value), None
